import Foundation
import Tangent
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `tangent sweep` through the real process, `--local`, on the embedded MNIST sample: a 2×2 grid runs
/// two at a time, each run trains exactly as `tangent train` with its options, a stopped sweep resumes
/// its runs exactly, `status` and `collect` read the folders, and bad grid files are refused naming
/// the line before anything starts.
final class SweepCommandTests: XCTestCase {
    func testALocalGridRunsEveryCombinationAsTangentTrainWouldAndCollectsItsMetrics() throws {
        let root = TangentProcess.temporaryFolder(for: self, prefix: "tangent-sweep")
        let spec = try SweepTestSupport.writeSpec(SweepTestSupport.tinyRun + """
        runs: out/grid
        grid:
          lr: [0.01, 0.05]
          seed: [1, 2]
        """, in: root)
        let first = try SweepTestSupport.run(["sweep", spec, "--local", "-j", "2"])
        XCTAssertEqual(first.status, 0, first.output)
        let threads = max(1, ProcessInfo.processInfo.activeProcessorCount / 2)
        XCTAssertTrue(first.output.contains("4 runs, 2 at a time, \(threads) threads each"), first.output)
        let names = ["lr-0.01_seed-1", "lr-0.01_seed-2", "lr-0.05_seed-1", "lr-0.05_seed-2"]
        for name in names {
            XCTAssertEqual(try RunProgress.read(runDirectory: root + "/out/grid/" + name).state, .finished, name)
            let log = try String(contentsOfFile: root + "/out/grid/logs/\(name).log", encoding: .utf8)
            XCTAssertTrue(log.contains("--run-dir \(root)/out/grid/\(name)"), log)
        }

        // The sweep's run is the run `tangent train` makes with the same options.
        let reference = root + "/reference"
        let direct = try SweepTestSupport.run(["train", "--model", "mlp", "--hidden", "16", "--epochs", "2", "--train-subset", "300",
                                               "--test-subset", "50", "--batch-size", "50", "--eval-train-subset", "50",
                                               "--robust-eval-subset", "0", "--lr", "0.05", "--seed", "2", "--run-dir", reference])
        XCTAssertEqual(direct.status, 0, direct.output)
        XCTAssertEqual(try SweepTestSupport.parameters(of: root + "/out/grid/lr-0.05_seed-2"), try SweepTestSupport.parameters(of: reference))
        XCTAssertNotEqual(try SweepTestSupport.parameters(of: root + "/out/grid/lr-0.01_seed-2"), try SweepTestSupport.parameters(of: reference))

        let again = try SweepTestSupport.run(["sweep", spec, "--local", "-j", "2"])
        XCTAssertEqual(again.status, 0, again.output)
        XCTAssertTrue(again.output.contains("nothing to do"), again.output)

        let status = try SweepTestSupport.run(["sweep", "status", spec])
        XCTAssertEqual(status.status, 0, status.output)
        XCTAssertTrue(status.output.contains("lr-0.05_seed-1  finished (epoch 2/2, step 12)"), status.output)
        XCTAssertTrue(status.output.contains("4 finished"), status.output)

        let collect = try SweepTestSupport.run(["sweep", "collect", spec])
        XCTAssertEqual(collect.status, 0, collect.output)
        let collected = root + "/out/grid/collected"
        let final = try String(contentsOfFile: collected + "/final.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(final.count, 5)
        XCTAssertTrue(final[0].hasPrefix("run,state,lr,seed,epoch,"), String(final[0]))
        XCTAssertTrue(final[0].contains("test_accuracy"), String(final[0]))
        XCTAssertTrue(final[3].hasPrefix("lr-0.05_seed-1,finished,0.05,1,2,"), String(final[3]))
        let epochs = try String(contentsOfFile: collected + "/epochs.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(epochs.count, 1 + 4 * 2)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: collected + "/sweep.json"))) as? [String: Any])
        let runs = try XCTUnwrap(json["runs"] as? [[String: Any]])
        XCTAssertEqual(runs.map { $0["name"] as? String }, names)
        let referenceRows = try MetricRow.read(path: reference + "/metrics.jsonl")
        let accuracy = try XCTUnwrap(referenceRows.last { $0.name == "test_accuracy" }?.value)
        XCTAssertEqual((runs[3]["final"] as? [String: Any])?["test_accuracy"] as? Double, accuracy)
        for axis in ["lr", "seed"] {
            let svg = try String(contentsOfFile: collected + "/test_accuracy-by-\(axis).svg", encoding: .utf8)
            XCTAssertTrue(svg.contains("\(axis)=") && svg.contains("mean of 2"), axis)
        }

        // A changed setting would leave the runs' folders disagreeing with the file: refused, naming it.
        try (SweepTestSupport.tinyRun + "  momentum: 0.5\nruns: out/grid\ngrid:\n  lr: [0.01, 0.05]\n  seed: [1, 2]\n")
            .write(toFile: spec, atomically: true, encoding: .utf8)
        let changed = try SweepTestSupport.run(["sweep", spec, "--local"])
        XCTAssertNotEqual(changed.status, 0)
        XCTAssertTrue(changed.output.contains("run lr-0.01_seed-1: its folder") && changed.output.contains("momentum 0 (stored) vs 0.5 (file)")
                      && changed.output.contains("grid.yaml line 10"), changed.output)
    }

    func testAStoppedSweepResumesItsRunsExactly() throws {
        let root = TangentProcess.temporaryFolder(for: self, prefix: "tangent-sweep-stop")
        let options = ["epochs": "3", "train-subset": "3000", "test-subset": "40", "batch-size": "30", "eval-train-subset": "40",
                       "robust-eval-subset": "0", "seed": "5"]
        let spec = try SweepTestSupport.writeSpec("train:\n" + options.sorted { $0.key < $1.key }.map { "  \($0.key): \($0.value)\n" }.joined()
                                                  + "grid:\n  lr: [0.02]\n", in: root)
        let reference = try TangentProcess.launch(["train", "--run-dir", root + "/reference", "--lr", "0.02"]
                                                  + options.flatMap { ["--" + $0.key, $0.value] })
        let run = root + "/grid/lr-0.02"
        let sweep = try TangentProcess.launch(["sweep", spec, "--local"], errors: root + "/sweep.log")
        let stopped = TangentProcess.stopWithSIGTERM(sweep, once: run + "/metrics.jsonl", after: 0.5, errors: root + "/sweep.log")
        XCTAssertEqual(stopped.status, 75, stopped.errors)
        XCTAssertEqual(try RunProgress.read(runDirectory: run).state, .unfinished)

        let status = try SweepTestSupport.run(["sweep", "status", spec])
        XCTAssertTrue(status.output.contains("lr-0.02  unfinished (epoch"), status.output)
        let resumed = try SweepTestSupport.run(["sweep", spec, "--local"])
        XCTAssertEqual(resumed.status, 0, resumed.output)
        XCTAssertTrue(resumed.output.contains("resume from epoch"), resumed.output)
        reference.waitUntilExit()
        XCTAssertEqual(reference.terminationStatus, 0)
        XCTAssertEqual(try SweepTestSupport.parameters(of: run), try SweepTestSupport.parameters(of: root + "/reference"))
    }

    func testBadGridFilesAreRefusedNamingTheLineBeforeAnythingRuns() throws {
        let root = TangentProcess.temporaryFolder(for: self, prefix: "tangent-sweep-bad")
        let cases: [(String, String)] = [
            (SweepTestSupport.tinyRun + "  learning-rate: 0.1\n", "grid.yaml line 10: 'learning-rate: 0.1' is not a tangent train option"),
            (SweepTestSupport.tinyRun + "grid:\n  lr: [0.1, fast]\n", "grid.yaml line 11: 'lr: fast' is not a tangent train option: The value 'fast' is invalid"),
            (SweepTestSupport.tinyRun + "grid:\n  nesterov: [true]\n", "run nesterov-true (grid.yaml line 2, "),
            (SweepTestSupport.tinyRun + "grid:\n  nesterov: [true]\n", "--nesterov needs --optimizer sgd with --momentum > 0"),
            (SweepTestSupport.tinyRun + "gird:\n  lr: [0.1]\n", "grid.yaml line 10: unknown section 'gird'"),
            (SweepTestSupport.tinyRun + "grid:\n  run-dir: [a, b]\n", "grid.yaml line 11: 'run-dir' is set by the sweep"),
            (SweepTestSupport.tinyRun + "grid:\n  max-data-bytes: [1G, 2G]\n", "grid.yaml line 11: 'max-data-bytes' cannot be an axis"),
            (SweepTestSupport.tinyRun + "grid:\n  epochs: [1, 2]\n", "'epochs' is both a train: option and an axis (grid.yaml line 11)"),
            (SweepTestSupport.tinyRun + "grid:\n  data-dir: [a/b, a_b]\n", "two runs of the grid would share the name 'data-dir-a-b'"),
            (SweepTestSupport.tinyRun + "grid:\n  flip: [yes]\n", "grid.yaml line 11: 'flip' is a switch: write true or false"),
            (SweepTestSupport.tinyRun + "slurm:\n  cpus: many\n", "grid.yaml line 11: slurm cpus takes a whole number"),
            (SweepTestSupport.tinyRun + "slurm:\n  queue: fast\n", "grid.yaml line 11: unknown slurm setting 'queue'"),
            ("train: [1, 2\n", "grid.yaml is not valid YAML"),
        ]
        try SweepTestSupport.assertRefused(cases, in: root)
    }

    func testSlurmSubmissionPrintsTheScriptAndRefusesAMissingOrFailingSbatch() throws {
        let root = TangentProcess.temporaryFolder(for: self, prefix: "tangent-sweep-sbatch")
        let spec = try SweepTestSupport.writeSpec(SweepTestSupport.tinyRun + """
        grid:
          seed: [1, 2, 3]
        slurm:
          partition: short
          time: "01:00:00"
          memory: 2G
          signal-seconds: 90
        """, in: root)
        let dry = try SweepTestSupport.run(["sweep", spec, "--slurm", "--dry-run", "--cpus", "2", "--time", "00:20:00"])
        XCTAssertEqual(dry.status, 0, dry.output)
        for line in ["#SBATCH --array=0-2", "#SBATCH --partition=short", "#SBATCH --time=00:20:00", "#SBATCH --cpus-per-task=2",
                     "#SBATCH --mem=2G", "#SBATCH --requeue", "#SBATCH --signal=B:TERM@90", "runs=('seed-1' 'seed-2' 'seed-3')",
                     "sweep task '\(root)/grid.yaml' \"$run\" &", "scontrol requeue"] {
            XCTAssertTrue(dry.output.contains(line), "missing \(line) in:\n\(dry.output)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/grid"), "a dry run wrote files")

        let missing = try SweepTestSupport.run(["sweep", spec, "--slurm"], environment: ["PATH": root + "/no-such-folder"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.output.contains("sbatch is not on PATH"), missing.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/grid"), "files were written without sbatch")

        let bin = root + "/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        try "#!/bin/sh\necho 'sbatch: error: invalid partition specified: short' >&2\nexit 1\n".write(toFile: bin + "/sbatch", atomically: true, encoding: .utf8)
        chmod(bin + "/sbatch", 0o755)
        let failing = try SweepTestSupport.run(["sweep", spec, "--slurm"], environment: ["PATH": bin + ":/usr/bin:/bin"])
        XCTAssertNotEqual(failing.status, 0)
        XCTAssertTrue(failing.output.contains("`sbatch --parsable \(root)/grid/sweep.sbatch` failed with status 1: sbatch: error: invalid partition specified: short"),
                      failing.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/grid/slurm-jobs.txt"))
    }
}
