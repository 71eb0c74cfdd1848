import XCTest
import Tangent

/// A diverging run stops with a clear error and leaves parameters and checkpoints intact.
final class NonFiniteLossTests: XCTestCase {
    func testDivergingRunStopsWithAClearErrorAndKeepsTheLastCheckpoint() throws {
        let dir = TestRuns.folder(for: self, prefix: "tangent-nan")
        var settings = TestRuns.settings(epochs: 3)
        settings.checkpointEverySteps = 1
        // Weights reach ~1e28 after one step at this rate; activations then overflow.
        let run = try TestRuns.mnistCNN(settings, train: 100, test: 20, learningRate: 1e30)
        let loop = try TrainingSession.start(run, runDirectory: dir, callbacks: TestRuns.callbacks())
        XCTAssertThrowsError(try loop.fit()) { error in
            XCTAssertTrue("\(error)".contains("became non-finite") || "\(error)".contains("training loss became"), "\(error)")
        }
        for (_, p) in loop.network.namedParameters {
            XCTAssertTrue(p.value.scalars.allSatisfy(\.isFinite), "a non-finite update was applied")
        }
        let latest = try XCTUnwrap(try CheckpointDirectory(path: dir + "/checkpoints").loadLatestValid())
        XCTAssertEqual(latest.skipped.count, 0, "\(latest.skipped) in \((try? FileManager.default.contentsOfDirectory(atPath: dir + "/checkpoints")) ?? [])")
        XCTAssertEqual(latest.entry.step, loop.step)
    }
}
