import Foundation
import Tangent
import XCTest

/// A run folder written by the `tangent` binary of before the open core and open loop (Tests/Fixtures/
/// run-written-before-open-loop: a two-layer net of width 16, one epoch on 300 embedded-sample images,
/// SGD with momentum 0.5) still resumes, evaluates and loads: parameter names, the old configuration
/// format and `optimizer.velocity.*` momentum buffers are all still understood.
final class OldRunFixtureTests: XCTestCase {
    func testARunFromTheOldBinaryResumesAndEvaluates() throws {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/run-written-before-open-loop").path
        let root = TangentProcess.temporaryFolder(for: self, prefix: "tangent-old-run")
        let run = root + "/run"
        try FileManager.default.copyItem(atPath: fixture, toPath: run)

        let checkpoint = try XCTUnwrap(try CheckpointDirectory(path: run + "/checkpoints").loadLatestValid()).checkpoint
        XCTAssertNil(checkpoint.metadata["settings"], "the fixture must predate stored settings")
        XCTAssertNotNil(checkpoint["optimizer.velocity.hidden.weight"], "the fixture must carry momentum buffers")

        let eval = try TangentProcess.run(["eval", run, "--eps", "0.1", "--test-subset", "50"])
        XCTAssertEqual(eval.status, 0, eval.output)
        XCTAssertTrue(eval.output.contains("0.1000"), eval.output)

        let resumed = try TangentProcess.run(["train", "--resume", run, "--epochs", "2"])
        XCTAssertEqual(resumed.status, 0, resumed.output)
        let metrics = try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8)
        XCTAssertTrue(metrics.contains(#"{"epoch":2,"step":6,"name":"train_loss""#), metrics)
        let newest = try XCTUnwrap(try CheckpointDirectory(path: run + "/checkpoints").loadLatestValid()).checkpoint
        XCTAssertEqual(newest.metadata["step"], "6")
        XCTAssertEqual(newest["optimizer.velocity.hidden.weight"]?.shape, [16, 784])
    }
}
