import Foundation
import Tangent
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// SIGINT/SIGTERM (or `Interruption.request`) stop a run after the step in progress with a checkpoint;
/// resuming it ends exactly where an uninterrupted run ends. The command exits with status 75.
final class InterruptionTests: XCTestCase {
    override func tearDown() {
        Interruption.reset()
        super.tearDown()
    }

    /// Requests a stop at the end of step `step`.
    final class RequestStop: TrainingCallback {
        let step: Int
        init(step: Int) { self.step = step }
        func batchEnd(_ loop: TrainingLoop) throws { if loop.step == step { Interruption.request(signal: SIGTERM) } }
    }

    func testARequestedStopCheckpointsTheStepAndResumesExactly() throws {
        let settings = TestRuns.settings(epochs: 2)
        let reference = TestRuns.folder(for: self)
        try TrainingSession.start(try TestRuns.mnistCNN(settings), runDirectory: reference, callbacks: TestRuns.callbacks()).fit()

        let dir = TestRuns.folder(for: self)
        let loop = try TrainingSession.start(try TestRuns.mnistCNN(settings), runDirectory: dir,
                                             callbacks: TestRuns.callbacks(extra: [RequestStop(step: 6)]))
        XCTAssertThrowsError(try loop.fit()) { error in
            guard let stop = error as? TrainingInterrupted else { return XCTFail("\(error)") }
            XCTAssertEqual(stop.step, 6)
            XCTAssertEqual(stop.epoch, 1)
            XCTAssertEqual(stop.checkpointPath.map { ($0 as NSString).lastPathComponent }, "step-00000006.safetensors.zst")
        }
        Interruption.reset()
        let (resumed, path) = try TrainingSession.resume(from: dir, components: { _ in try TestRuns.mnistCNN(settings) },
                                                         callbacks: TestRuns.callbacks())
        XCTAssertTrue(path.hasSuffix("step-00000006.safetensors.zst"), path)
        try resumed.fit()
        let (_, final) = try TestRuns.latestCheckpoint(dir), (_, expected) = try TestRuns.latestCheckpoint(reference)
        for name in ["conv1.weight", "fc2.bias", "optimizer.velocity.fc1.weight"] where expected.names.contains(name) {
            XCTAssertEqual(try final.tensor(named: name).bytes, try expected.tensor(named: name).bytes, name)
        }
        XCTAssertEqual(try MetricRow.read(path: dir + "/metrics.jsonl").filter { !$0.name.hasSuffix("_seconds") },
                       try MetricRow.read(path: reference + "/metrics.jsonl").filter { !$0.name.hasSuffix("_seconds") })
    }

    func testSIGTERMStopsTheCommandWithStatus75AndAResumableCheckpoint() throws {
        let root = TangentProcess.temporaryFolder(for: self, prefix: "tangent-signal")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let common = ["train", "--train-subset", "3000", "--test-subset", "40", "--batch-size", "30", "--epochs", "3",
                      "--eval-train-subset", "40", "--robust-eval-subset", "0", "--seed", "5"]
        let reference = try TangentProcess.launch(common + ["--run-dir", root + "/reference"])
        let run = root + "/stopped", log = root + "/stopped.log"
        let child = try TangentProcess.launch(common + ["--run-dir", run], errors: log)
        // Once the run is training (its folder and metric log exist), ask it to stop.
        let (status, errors) = TangentProcess.stopWithSIGTERM(child, once: run + "/metrics.jsonl", errors: log)
        XCTAssertEqual(status, 75, errors)
        XCTAssertTrue(errors.contains("stopped by SIGTERM"), errors)
        XCTAssertTrue(errors.contains("tangent train --resume \(run)"), errors)

        let finish = try TangentProcess.launch(["train", "--resume", run], errors: root + "/finish.log")
        finish.waitUntilExit()
        reference.waitUntilExit()
        XCTAssertEqual(finish.terminationStatus, 0, (try? String(contentsOfFile: root + "/finish.log", encoding: .utf8)) ?? "")
        XCTAssertEqual(reference.terminationStatus, 0)
        let (_, final) = try TestRuns.latestCheckpoint(run), (_, expected) = try TestRuns.latestCheckpoint(root + "/reference")
        for name in ["conv1.weight", "conv2.weight", "fc1.weight", "fc2.bias"] {
            XCTAssertEqual(try final.tensor(named: name).bytes, try expected.tensor(named: name).bytes, "\(name) differs")
        }
    }
}
