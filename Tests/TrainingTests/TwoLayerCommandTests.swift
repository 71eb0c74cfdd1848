import Foundation
import Tangent
import XCTest

/// `tangent two-layer` end to end: a run, its exact resume, and options refused before anything is written.
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
}
