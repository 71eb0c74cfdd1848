import Foundation
import Tangent
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// A one-node Slurm for the tests: started by scripts/start-slurm.sh (as .ci/run does) when no node
/// takes jobs yet; tests skip, saying why, where it cannot start.
enum SlurmTestNode {
    /// Runs a Slurm (or other system) command to the end: status and output.
    static func command(_ name: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        guard let path = ["/usr/bin/", "/usr/local/bin/", "/bin/"].map({ $0 + name }).first(where: FileManager.default.isExecutableFile) else {
            throw XCTSkip("\(name) is not installed: run scripts/start-slurm.sh (it installs and starts a one-node Slurm)")
        }
        return try TangentProcess.run(arguments, executable: path)
    }

    /// Makes sure a node takes jobs, starting Slurm if needed; skips the test when it cannot.
    static func ensureRunning(for test: XCTestCase) throws {
        func nodeTakesJobs() -> Bool {
            guard let sinfo = try? command("sinfo", ["-h", "-o", "%t"]) else { return false }
            return sinfo.status == 0 && (sinfo.output.contains("idle") || sinfo.output.contains("mix"))
        }
        if nodeTakesJobs() { return }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/start-slurm.sh").path
        // Its output goes to a file, not a pipe: the daemons it starts inherit the descriptors and would
        // hold a pipe open, so reading it to the end would never return. It runs through system(3),
        // which waits for that one child: Foundation's Process left the finished shell unreaped here,
        // waiting forever, once daemons had been started under it.
        let logFolder = TangentProcess.temporaryFolder(for: test, prefix: "tangent-slurm-start")
        try FileManager.default.createDirectory(atPath: logFolder, withIntermediateDirectories: true)
        let log = logFolder + "/start-slurm.log"
        #if canImport(Glibc)
        _ = system("bash '\(script)' > '\(log)' 2>&1 < /dev/null")
        #else
        _ = try command("bash", ["-c", "bash \"$0\" > \"$1\" 2>&1 < /dev/null", script, log])
        #endif
        guard nodeTakesJobs() else {
            let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw XCTSkip("no Slurm node takes jobs and scripts/start-slurm.sh could not start one: \(output.suffix(400))")
        }
    }
}

/// `tangent sweep --slurm` through a real one-node Slurm (started by scripts/start-slurm.sh, which
/// .ci/run calls): a grid of 4 runs as one job array, one task requeued mid-run with `scontrol requeue`,
/// which must end with the same parameters as an uninterrupted run. Skips, saying why, where no Slurm
/// node answers.
final class SweepSlurmTests: XCTestCase {
    private func command(_ name: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        try SlurmTestNode.command(name, arguments)
    }

    func testAGridRunsAsAJobArrayAndARequeuedTaskResumesExactly() throws {
        try SlurmTestNode.ensureRunning(for: self)
        let root = TangentProcess.temporaryFolder(for: self, prefix: "tangent-slurm")
        let options = ["epochs": "2", "train-subset": "1500", "test-subset": "40", "batch-size": "30", "eval-train-subset": "40",
                       "robust-eval-subset": "0"]
        let spec = try SweepTestSupport.writeSpec("train:\n" + options.sorted { $0.key < $1.key }.map { "  \($0.key): \($0.value)\n" }.joined()
                                                  + "grid:\n  seed: [1, 2, 3, 4]\nslurm:\n  cpus: 1\n  time: \"00:10:00\"\n", in: root)
        let submitted = try SweepTestSupport.run(["sweep", spec, "--slurm"])
        XCTAssertEqual(submitted.status, 0, submitted.output)
        let job = try XCTUnwrap(submitted.output.split(separator: " ").drop { $0 != "job" }.dropFirst().first.map { $0.trimmingCharacters(in: CharacterSet(charactersIn: ":")) },
                                submitted.output)
        addTeardownBlock { _ = try? self.command("scancel", [job]) }
        let reference = try TangentProcess.launch(["train", "--run-dir", root + "/reference", "--seed", "2"]
                                                  + options.flatMap { ["--" + $0.key, $0.value] })

        // Requeue task 1 (seed 2) once it is training.
        let target = root + "/grid/seed-2"
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: target + "/metrics.jsonl") && Date() < deadline { usleep(50_000) }
        usleep(300_000)
        XCTAssertEqual(try RunProgress.read(runDirectory: target).state == .finished, false, "the run ended before the requeue")
        let requeue = try command("scontrol", ["requeue", "\(job)_1"])
        XCTAssertEqual(requeue.status, 0, requeue.output)
        // Slurm holds a requeued job back for a while (BeginTime); release it at once.
        for _ in 0..<100 {
            let state = try command("squeue", ["-h", "-r", "-j", "\(job)_1", "-o", "%T"]).output
            if state.contains("PENDING") { _ = try command("scontrol", ["update", "JobId=\(job)_1", "StartTime=now"]); break }
            usleep(100_000)
        }

        let runs = (1...4).map { root + "/grid/seed-\($0)" }
        let end = Date().addingTimeInterval(150)
        while Date() < end, !(try runs.allSatisfy { try RunProgress.read(runDirectory: $0).state == .finished }) { sleep(1) }
        let logs = (try? String(contentsOfFile: root + "/grid/logs/grid-1.log", encoding: .utf8)) ?? ""
        for run in runs { XCTAssertEqual(try RunProgress.read(runDirectory: run).state, .finished, "\(run)\n\(logs)") }
        XCTAssertTrue(logs.contains("restart 1") && logs.contains("resuming from"), logs)

        reference.waitUntilExit()
        XCTAssertEqual(reference.terminationStatus, 0)
        XCTAssertEqual(try SweepTestSupport.parameters(of: target), try SweepTestSupport.parameters(of: root + "/reference"))
        let status = try SweepTestSupport.run(["sweep", "status", spec])
        XCTAssertTrue(status.output.contains("4 finished"), status.output)
    }
}
