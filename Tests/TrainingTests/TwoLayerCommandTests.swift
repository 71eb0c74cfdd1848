import Foundation
import Tangent
import XCTest

/// `tangent two-layer` end to end: a run, its exact resume, a stop by SIGTERM (status 75, resumed
/// exactly), and options refused before anything is written.
final class TwoLayerCommandTests: XCTestCase {
    private let options = ["--dimension", "8", "--train-size", "0", "--batch-size", "16", "--samples-per-epoch", "64",
                           "--test-size", "32", "--width", "32", "--regime", "lazy", "--alpha", "2", "--centred",
                           "--activation", "tanh", "--lr", "0.05", "--train-epsilon", "0.05", "--eval-epsilon", "0.05",
                           "--attack-steps", "3", "--teacher", "network"]

    func testRunAndResumeMatchAStraightRun() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("two-layer-cli-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let straight = root + "/straight", split = root + "/split"
        let a = try TangentProcess.run(["two-layer", "--run-dir", straight, "--epochs", "4"] + options)
        XCTAssertEqual(a.status, 0, a.output)
        let b = try TangentProcess.run(["two-layer", "--run-dir", split, "--epochs", "2"] + options)
        XCTAssertEqual(b.status, 0, b.output)
        let c = try TangentProcess.run(["two-layer", "--run-dir", split, "--resume", "--epochs", "4"])
        XCTAssertEqual(c.status, 0, c.output)
        let rowsA = try MetricRow.read(path: straight + "/metrics.jsonl"), rowsB = try MetricRow.read(path: split + "/metrics.jsonl")
        XCTAssertEqual(rowsA, rowsB)
        XCTAssertEqual(Set(rowsA.map(\.name)), ["train_loss", "test_risk", "test_adversarial_risk", "test_sign_accuracy",
                                               "test_robust_sign_accuracy", "input_gradient_norm", "parameter_distance"])
        let paramsA = try CheckpointFile.read(path: straight + "/checkpoint.safetensors.zst")
        let paramsB = try CheckpointFile.read(path: split + "/checkpoint.safetensors.zst")
        for name in paramsA.names where name.hasPrefix("parameter.") {
            XCTAssertEqual(try paramsA.tensor(named: name).bytes, try paramsB.tensor(named: name).bytes, name)
        }
    }

    func testBadOptionsAreRefusedBeforeAnythingIsWritten() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("two-layer-bad-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for (extra, message) in [(["--alpha", "0"], "--alpha"), (["--alpha", "-2"], "--alpha"), (["--train-size", "0"], "--batch-size"),
                                 (["--activation", "gelu"], "--activation"), (["--attack-norm", "l3"], "--attack-norm"),
                                 (["--quadratic-rank", "9", "--dimension", "4"], "--quadratic-rank"), (["--width", "0"], "--width")] {
            let r = try TangentProcess.run(["two-layer", "--run-dir", folder] + extra)
            XCTAssertNotEqual(r.status, 0, "\(extra)")
            XCTAssertTrue(r.output.contains(message), "\(extra): \(r.output)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: folder), "\(extra)")
        }
        let r = try TangentProcess.run(["two-layer", "--run-dir", folder, "--resume"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.output.contains("experiment.json"), r.output)
    }

    /// SIGTERM stops the run after the step in progress with a checkpoint and status 75, as `tangent
    /// train` does; `--resume` then ends exactly where an uninterrupted run ends.
    func testSIGTERMStopsTheRunWithStatus75AndItResumesExactly() throws {
        let root = TangentProcess.temporaryFolder(for: self, prefix: "two-layer-signal")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        // About 7,500 SGD steps: a few seconds, so the signal arrives mid-run.
        let common = ["two-layer", "--dimension", "8", "--train-size", "0", "--batch-size", "4", "--samples-per-epoch", "10000",
                      "--test-size", "32", "--width", "64", "--epochs", "3", "--lr", "0.02", "--teacher", "network"]
        let reference = try TangentProcess.launch(common + ["--run-dir", root + "/reference"], environment: ["TANGENT_THREADS": "1"])
        let run = root + "/stopped", log = root + "/stopped.log"
        let child = try TangentProcess.launch(common + ["--run-dir", run], errors: log, environment: ["TANGENT_THREADS": "1"])
        let (status, errors) = TangentProcess.stopWithSIGTERM(child, once: run + "/metrics.jsonl", errors: log)
        XCTAssertEqual(status, 75, errors)
        XCTAssertTrue(errors.contains("stopped by SIGTERM after step") && errors.contains("the state is saved in \(run)/checkpoint.safetensors.zst"), errors)
        XCTAssertTrue(errors.contains("tangent two-layer --resume --run-dir \(run)"), errors)
        let progress = try TwoLayerRunFolder(path: run).progress()
        XCTAssertEqual(progress.state, .unfinished, progress.summary)
        XCTAssertGreaterThan(progress.step, 0)

        let finish = try TangentProcess.run(["two-layer", "--resume", "--run-dir", run])
        XCTAssertEqual(finish.status, 0, finish.output)
        reference.waitUntilExit()
        XCTAssertEqual(reference.terminationStatus, 0)
        XCTAssertEqual(try MetricRow.read(path: run + "/metrics.jsonl"), try MetricRow.read(path: root + "/reference/metrics.jsonl"))
        let final = try XCTUnwrap(try TwoLayerRunFolder(path: run).checkpoint())
        let expected = try XCTUnwrap(try TwoLayerRunFolder(path: root + "/reference").checkpoint())
        XCTAssertEqual(final.metadata["workbench.step"], "7500")
        for name in expected.names where name.hasPrefix("parameter.") || name.hasPrefix("optimizer.") {
            XCTAssertEqual(try final.tensor(named: name).bytes, try expected.tensor(named: name).bytes, name)
        }
    }
}
