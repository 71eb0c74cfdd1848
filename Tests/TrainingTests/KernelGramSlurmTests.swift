import Foundation
import Tangent
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `tangent kernel gram --slurm N`: the two batch scripts it writes (array tasks computing one part each,
/// a finishing job after them), and the whole store computed through a real one-node Slurm, whose
/// finishing job must find every tile verified and give the in-memory fit's accuracy. (A damaged tile
/// being recomputed is tested without Slurm in `KernelGramCommandTests`.)
final class KernelGramSlurmTests: XCTestCase {
    let problem = ["--kernel", "fc:2", "--train", "120", "--test", "40", "--ridge", "0.001", "--tile-size", "32"]

    func testDryRunPrintsAnArrayOfPartsAndAFinishingJob() throws {
        let root = TangentProcess.temporaryFolder(for: self, prefix: "tangent-gram-slurm-dry")
        let run = try TangentProcess.run(["kernel", "gram"] + problem + ["--store", root + "/store", "--out", root + "/out", "--slurm", "3",
                                                                       "--top", "4", "--solve", "--partition", "short", "--cpus", "2",
                                                                       "--dry-run"])
        XCTAssertEqual(run.status, 0, run.output)
        let scripts = run.output.components(separatedBy: "# gram-finish.sbatch\n")
        XCTAssertEqual(scripts.count, 2, run.output)
        let array = scripts[0], finish = scripts[1]
        for line in ["#SBATCH --array=0-2", "#SBATCH --partition=short", "#SBATCH --cpus-per-task=2", "#SBATCH --requeue",
                     "--part \"$SLURM_ARRAY_TASK_ID/3\"", "kernel gram --kernel fc:2"] {
            XCTAssertTrue(array.contains(line), "array script lacks \(line):\n\(array)")
        }
        // The tasks compute tiles only; the finishing job has the eigenpairs and the solve; neither submits again.
        func command(_ script: String) -> String { script.split(separator: "\n").last { $0.hasPrefix("exec ") }.map(String.init) ?? "" }
        let task = command(array), last = command(finish)
        XCTAssertFalse(task.contains("--top") || task.contains("--solve") || task.contains("--slurm") || task.contains("--dry-run"), task)
        XCTAssertTrue(last.contains("--top 4 --solve") && !last.contains("--slurm") && !last.contains("--part") && !last.contains("--partition"), last)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/store/gram.sbatch"))
        // The store is prepared (and checked) before anything would be submitted.
        XCTAssertTrue(FileManager.default.fileExists(atPath: root + "/store/store.json"))
        let clash = try TangentProcess.run(["kernel", "gram", "--kernel", "fc:3", "--train", "120", "--test", "40", "--tile-size", "32",
                                            "--store", root + "/store", "--out", root + "/out", "--slurm", "3", "--dry-run"])
        XCTAssertNotEqual(clash.status, 0)
        XCTAssertTrue(clash.output.contains("holds another matrix"), clash.output)
        for (extra, message) in [(["--slurm", "0"], "--slurm takes the number of array tasks"),
                                 (["--slurm", "2", "--part", "0/2"], "--slurm submits every part"),
                                 (["--dry-run"], "--dry-run prints the batch scripts of --slurm")] {
            let refused = try TangentProcess.run(["kernel", "gram"] + problem + ["--store", root + "/store2", "--out", root + "/out"] + extra)
            XCTAssertNotEqual(refused.status, 0)
            XCTAssertTrue(refused.output.contains(message), "\(extra): \(refused.output)")
        }
    }

    func testTheStoreIsComputedByArrayTasksAndFinishedAfterThem() throws {
        try SlurmTestNode.ensureRunning(for: self)
        let root = TangentProcess.temporaryFolder(for: self, prefix: "tangent-gram-slurm")
        let submitted = try TangentProcess.run(["kernel", "gram"] + problem + ["--store", root + "/store", "--out", root + "/out",
                                                                             "--slurm", "3", "--top", "4", "--solve", "--tolerance", "1e-10"])
        XCTAssertEqual(submitted.status, 0, submitted.output)
        let jobs = submitted.output.split(separator: " ").enumerated().filter { $0.offset > 0 && submitted.output.split(separator: " ")[$0.offset - 1] == "job" }
            .map { $0.element.trimmingCharacters(in: CharacterSet(charactersIn: ":,")) }
        XCTAssertEqual(jobs.count, 2, submitted.output)
        addTeardownBlock { for job in jobs { _ = try? SlurmTestNode.command("scancel", [job]) } }
        let deadline = Date().addingTimeInterval(150)
        while !FileManager.default.fileExists(atPath: root + "/out/gram.json") && Date() < deadline { usleep(200_000) }
        let logs = ((try? FileManager.default.contentsOfDirectory(atPath: root + "/store/logs")) ?? []).sorted().map {
            "== \($0)\n" + ((try? String(contentsOfFile: root + "/store/logs/" + $0, encoding: .utf8)) ?? "")
        }.joined(separator: "\n")
        let gram = try KernelCommandTests.json(root + "/out/gram.json")
        XCTAssertTrue(logs.contains("10 of 10 tiles present and verified"), logs)
        XCTAssertEqual(gram["tiles"] as? Int, 10)
        let fit = try TangentProcess.run(["kernel", "fit", "--kernel", "fc:2", "--train", "120", "--test", "40", "--ridge", "0.001",
                                          "--out", root + "/fit"])
        XCTAssertEqual(fit.status, 0, fit.output)
        XCTAssertEqual(gram["testAccuracy"] as? Double,
                       try XCTUnwrap(try KernelCommandTests.json(root + "/fit/results.json")["cleanAccuracy"] as? Double))
    }
}
