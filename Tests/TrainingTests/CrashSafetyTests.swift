import XCTest
import Tangent
#if canImport(Glibc)
import Glibc
#endif

/// Kills `tangent train` with SIGKILL at many points while it checkpoints every step, and shows that
/// the newest checkpoint always loads and that resuming after every kill ends in exactly the run an
/// uninterrupted process produces.
final class CrashSafetyTests: XCTestCase {
    func testKilledRunsResumeFromTheNewestCompleteCheckpoint() throws {
        let root = TangentProcess.temporaryFolder(for: self, prefix: "tangent-crash")
        // 200 steps, each writing a checkpoint: long enough (seconds, even in release builds) for kills
        // to land before, during and after saves.
        let common = ["train", "--train-subset", "3000", "--test-subset", "40", "--batch-size", "30", "--epochs", "2",
                      "--eval-train-subset", "40", "--robust-eval-subset", "0", "--checkpoint-every", "1", "--keep-last", "2",
                      "--seed", "3"]

        // The uninterrupted reference.
        let reference = try TangentProcess.launch(common + ["--run-dir", root + "/reference"])
        reference.waitUntilExit()
        XCTAssertEqual(reference.terminationStatus, 0)

        let run = root + "/killed"
        var rng = Xoshiro256(seed: 99)
        var kills = 0
        var started = false
        for attempt in 0..<60 where kills < 8 {
            let args = started ? ["train", "--resume", run] : common + ["--run-dir", run]
            let child = try TangentProcess.launch(args)
            started = true
            // Kill somewhere between start-up and mid-run; every step writes a checkpoint.
            usleep(UInt32(100_000 + Int(rng.next() % 1_200_000)))
            if child.isRunning {
                kill(child.processIdentifier, SIGKILL)
                child.waitUntilExit()
                kills += 1
            } else {
                child.waitUntilExit()
                XCTAssertEqual(child.terminationStatus, 0, "attempt \(attempt) exited with an error")
                break
            }
            let dir = CheckpointDirectory(path: run + "/checkpoints")
            if try dir.list().isEmpty { started = false; try? FileManager.default.removeItem(atPath: run); continue }
            var skipped: [String] = []
            let loaded = try dir.loadLatestValid(log: { skipped.append($0) })
            XCTAssertNotNil(loaded, "no loadable checkpoint after kill \(kills)")
            XCTAssertEqual(skipped, [], "the newest checkpoint was unreadable after kill \(kills)")
        }
        // Finish the run (from its last checkpoint, or afresh if no checkpoint was ever completed).
        let log = root + "/finish.log"
        let finish = try TangentProcess.launch(started ? ["train", "--resume", run] : common + ["--run-dir", run], errors: log)
        finish.waitUntilExit()
        XCTAssertEqual(finish.terminationStatus, 0, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
        XCTAssertGreaterThan(kills, 3, "too few kills landed to test anything")

        let final = try XCTUnwrap(try CheckpointDirectory(path: run + "/checkpoints").loadLatestValid()).checkpoint
        let expected = try XCTUnwrap(try CheckpointDirectory(path: root + "/reference/checkpoints").loadLatestValid()).checkpoint
        for name in ["conv1.weight", "conv2.weight", "fc1.weight", "fc2.bias"] {
            XCTAssertEqual(try final.tensor(named: name).bytes, try expected.tensor(named: name).bytes, "\(name) differs")
        }
        XCTAssertEqual(try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8),
                       try String(contentsOfFile: root + "/reference/metrics.jsonl", encoding: .utf8))
    }
}
