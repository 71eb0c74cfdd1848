import Foundation
import Tangent
import XCTest

/// Values inside a well-formed checkpoint are checked before use: negative or out-of-range counters and
/// positions, a non-finite loss sum and non-finite weights are refused with the key or tensor named, and
/// the run is left unchanged (no metric rows rewritten).
final class RestoredValueTests: XCTestCase {
    /// A one-epoch run and a copy of its newest checkpoint with `edit` applied, written beside it as the newest.
    func craftedRun(_ edit: (inout Checkpoint) throws -> Void) throws -> (dir: String, metrics: String) {
        let dir = TestRuns.folder(for: self)
        try TrainingSession.start(try TestRuns.mnistCNN(TestRuns.settings(epochs: 1)), runDirectory: dir,
                                  callbacks: TestRuns.callbacks()).fit()
        var (_, checkpoint) = try TestRuns.latestCheckpoint(dir)
        try edit(&checkpoint)
        try CheckpointFile.write(checkpoint, to: dir + "/checkpoints/step-99999999.safetensors.zst")
        return (dir, try String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8))
    }

    func assertRefused(_ dir: String, metrics: String, naming expected: String,
                       file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try TrainingSession.resume(from: dir, components: { _ in
            try TestRuns.mnistCNN(TestRuns.settings(epochs: 2))
        }, callbacks: TestRuns.callbacks()), file: file, line: line) { error in
            XCTAssertTrue("\(error)".contains(expected), "\(error)", file: file, line: line)
        }
        XCTAssertEqual(try? String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8), metrics,
                       "a refused checkpoint must not touch the metric files", file: file, line: line)
    }

    func testNegativeAndOutOfRangeCountersAreRefused() throws {
        for (key, value) in [("epoch", "-5"), ("step", "-1"), ("metrics_jsonl_bytes", "-1"), ("metrics_csv_bytes", "-7"),
                             ("batch_order_position", "100000"), ("epoch_batches", "99999"), ("batch_order_epoch", "40")] {
            let (dir, metrics) = try craftedRun { $0.metadata[key] = value }
            assertRefused(dir, metrics: metrics, naming: "'\(key)' = \(value)")
        }
    }

    func testNonFiniteWeightsAndLossSumAreRefusedByName() throws {
        let (dir, metrics) = try craftedRun { c in
            let t = try c.tensor(named: "fc2.bias")
            var values = try t.floats()
            values[3] = .nan
            try c.set(StoredTensor(name: "fc2.bias", values: values, shape: t.shape))
        }
        assertRefused(dir, metrics: metrics, naming: "'fc2.bias' holds non-finite values")

        let (dir2, metrics2) = try craftedRun { c in
            try c.set(StoredTensor(name: "state.epoch_loss_sum", values: [Double.infinity]))
        }
        assertRefused(dir2, metrics: metrics2, naming: "state.epoch_loss_sum")
    }
}
