import Foundation
import Tangent
import XCTest

/// `tangent sweep` over `tangent two-layer` runs (a `two-layer:` section), through the real process: a
/// 2×2 grid runs, each run is the run `tangent two-layer` makes with its options, `status` and `collect`
/// read the folders, a grid extended to more epochs resumes its runs exactly, a stopped sweep stops its
/// two-layer runs with a checkpoint and resumes them exactly, a folder started with
/// other settings is refused, the Slurm script lists the two-layer commands, and bad grid files are
/// refused naming the line.
final class SweepTwoLayerTests: XCTestCase {
    private let names = ["regime-random-features_alpha-1", "regime-random-features_alpha-4", "regime-full_alpha-1", "regime-full_alpha-4"]

    private func grid(epochs: Int, width: Int = 16) -> String {
        SweepTestSupport.tinyTwoLayer
            .replacingOccurrences(of: "epochs: 2", with: "epochs: \(epochs)")
            .replacingOccurrences(of: "width: 16", with: "width: \(width)")
            + "runs: out/tl\ngrid:\n  regime: [random-features, full]\n  alpha: [1, 4]\nslurm:\n  cpus: 1\n"
    }

    /// Runs `tangent ARGUMENTS`, which must succeed, and returns its output.
    private func succeed(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let result = try SweepTestSupport.run(arguments)
        XCTAssertEqual(result.status, 0, result.output, file: file, line: line)
        return result.output
    }

    /// Runs the grid `spec` here two at a time: its output must contain `saying`, and every run in
    /// `runs` must then be in the state `leaving`.
    private func sweepLocally(_ spec: String, saying: String, leaving summary: String, in runs: String,
                              file: StaticString = #filePath, line: UInt = #line) throws {
        let output = try succeed(["sweep", spec, "--local", "-j", "2"], file: file, line: line)
        XCTAssertTrue(output.contains(saying), output, file: file, line: line)
        for name in names {
            XCTAssertEqual(try TwoLayerRunFolder(path: runs + "/" + name).progress().summary, summary, name, file: file, line: line)
        }
    }

    /// `tangent two-layer` run directly with the grid's options for `regime` and `alpha`.
    private func direct(_ folder: String, regime: String, alpha: String, epochs: Int) throws {
        _ = try succeed(["two-layer", "--run-dir", folder, "--epochs", "\(epochs)", "--regime", regime, "--alpha", alpha]
                        + SweepTestSupport.tinyTwoLayerArguments)
    }

    func testATwoLayerGridRunsCollectsAndResumesWhenExtended() throws {
        let root = TangentProcess.temporaryFolder(for: self, prefix: "tangent-sweep-two-layer")
        let spec = try SweepTestSupport.writeSpec(grid(epochs: 2), in: root)
        let runs = root + "/out/tl"
        // One run was started before and stopped before its first checkpoint (an experiment, no checkpoint).
        let early = runs + "/regime-full_alpha-1"
        try direct(early, regime: "full", alpha: "1", epochs: 0)
        XCTAssertEqual(try TwoLayerRunFolder(path: early).progress(targetEpochs: 2).state, .started)

        let dry = try succeed(["sweep", spec, "--local", "--dry-run", "--threads", "1"])
        XCTAssertTrue(dry.contains("regime-full_alpha-4 (start): TANGENT_THREADS=1 tangent two-layer --dimension 6"), dry)
        XCTAssertTrue(dry.contains("regime-full_alpha-1 (start again (no checkpoint yet)): TANGENT_THREADS=1 tangent two-layer --resume --run-dir \(early) --epochs 2"),
                      dry)

        try sweepLocally(spec, saying: "all 4 runs finished", leaving: "finished (epoch 2/2, step 8)", in: runs)
        // Each run is the run `tangent two-layer` makes with its options (the restarted one too).
        for (name, regime, alpha) in [("regime-full_alpha-4", "full", "4"), ("regime-full_alpha-1", "full", "1")] {
            try direct(root + "/direct-" + name, regime: regime, alpha: alpha, epochs: 2)
            XCTAssertEqual(try MetricRow.read(path: runs + "/\(name)/metrics.jsonl"), try MetricRow.read(path: root + "/direct-\(name)/metrics.jsonl"), name)
        }
        XCTAssertNotEqual(try MetricRow.read(path: runs + "/regime-full_alpha-1/metrics.jsonl"),
                          try MetricRow.read(path: runs + "/regime-full_alpha-4/metrics.jsonl"))

        let again = try succeed(["sweep", spec, "--local"])
        XCTAssertTrue(again.contains("nothing to do"), again)
        let status = try succeed(["sweep", "status", spec])
        let pad = String(repeating: " ", count: "regime-random-features_alpha-1".count - "regime-full_alpha-4".count + 2)
        XCTAssertTrue(status.contains("regime-full_alpha-4\(pad)finished (epoch 2/2, step 8)"), status)
        XCTAssertTrue(status.contains("4 finished"), status)

        _ = try succeed(["sweep", "collect", spec])
        let final = try String(contentsOfFile: runs + "/collected/final.csv", encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertEqual(final.count, 5)
        XCTAssertTrue(final[0].hasPrefix("run,state,regime,alpha,epoch,"), final[0])
        let header = final[0].split(separator: ",").map(String.init)
        for metric in ["test_risk", "test_adversarial_risk", "input_gradient_norm", "parameter_distance", "train_risk"] {
            XCTAssertTrue(header.contains(metric), "\(metric) missing from \(final[0])")
        }
        let row = final[4].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(Array(row.prefix(5)), ["regime-full_alpha-4", "finished", "full", "4", "2"])
        let rows = try MetricRow.read(path: runs + "/regime-full_alpha-4/metrics.jsonl")
        let risk = try XCTUnwrap(rows.last { $0.name == "test_risk" }?.value)
        XCTAssertEqual(Double(row[try XCTUnwrap(header.firstIndex(of: "test_risk"))]), risk)
        let epochsCSV = try String(contentsOfFile: runs + "/collected/epochs.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(epochsCSV.count, 1 + 4 * 2)

        // Extended to 4 epochs: every run resumes from its epoch-2 checkpoint and ends as a 4-epoch run.
        try grid(epochs: 4).write(toFile: spec, atomically: true, encoding: .utf8)
        let slurm = try succeed(["sweep", spec, "--slurm", "--dry-run"])
        XCTAssertTrue(slurm.contains("#   3 regime-full_alpha-4 (resume from epoch 2, step 8): tangent two-layer --resume --run-dir \(runs)/regime-full_alpha-4 --epochs 4"),
                      slurm)
        try sweepLocally(spec, saying: "started regime-full_alpha-4 (resume from epoch 2, step 8)", leaving: "finished (epoch 4/4, step 16)", in: runs)
        for name in names { XCTAssertEqual(try TwoLayerRunFolder(path: runs + "/" + name).storedExperiment().training.epochs, 4, name) }
        try direct(root + "/direct-4", regime: "full", alpha: "4", epochs: 4)
        XCTAssertEqual(try MetricRow.read(path: runs + "/regime-full_alpha-4/metrics.jsonl"), try MetricRow.read(path: root + "/direct-4/metrics.jsonl"))
        let parameters = { (folder: String) throws -> [String: [UInt8]] in
            let checkpoint = try XCTUnwrap(try TwoLayerRunFolder(path: folder).checkpoint())
            return try Dictionary(uniqueKeysWithValues: checkpoint.names.filter { $0.hasPrefix("parameter.") }.map { ($0, try checkpoint.tensor(named: $0).bytes) })
        }
        XCTAssertEqual(try parameters(runs + "/regime-full_alpha-4"), try parameters(root + "/direct-4"))

        // A changed setting would leave the folders disagreeing with the file: refused, naming it.
        try grid(epochs: 4, width: 32).write(toFile: spec, atomically: true, encoding: .utf8)
        let changed = try SweepTestSupport.run(["sweep", spec, "--local"])
        XCTAssertNotEqual(changed.status, 0)
        XCTAssertTrue(changed.output.contains("run regime-random-features_alpha-1: its folder") && changed.output.contains("width 16 (stored) vs 32 (file)")
                      && changed.output.contains("grid.yaml line 6") && changed.output.contains("only epochs may change"), changed.output)
    }

    func testAStoppedTwoLayerSweepResumesItsRunExactly() throws {
        let root = TangentProcess.temporaryFolder(for: self, prefix: "tangent-sweep-two-layer-stop")
        // About 7,500 SGD steps: a few seconds, so the signal arrives mid-run.
        let options = ["dimension": "8", "train-size": "0", "batch-size": "4", "samples-per-epoch": "10000", "test-size": "32",
                       "width": "64", "epochs": "3", "teacher": "network"]
        let spec = try SweepTestSupport.writeSpec("two-layer:\n" + options.sorted { $0.key < $1.key }.map { "  \($0.key): \($0.value)\n" }.joined()
                                                  + "grid:\n  lr: [0.02]\n", in: root)
        let reference = try TangentProcess.launch(["two-layer", "--run-dir", root + "/reference", "--lr", "0.02"]
                                                  + options.flatMap { ["--" + $0.key, $0.value] }, environment: ["TANGENT_THREADS": "1"])
        let run = root + "/grid/lr-0.02"
        let sweep = try TangentProcess.launch(["sweep", spec, "--local", "--threads", "1"], errors: root + "/sweep.log")
        let stopped = TangentProcess.stopWithSIGTERM(sweep, once: run + "/metrics.jsonl", errors: root + "/sweep.log")
        XCTAssertEqual(stopped.status, 75, stopped.errors)
        let log = try String(contentsOfFile: root + "/grid/logs/lr-0.02.log", encoding: .utf8)
        XCTAssertTrue(log.contains("stopped by SIGTERM"), log)

        let status = try succeed(["sweep", "status", spec])
        XCTAssertTrue(status.contains("lr-0.02  unfinished (epoch"), status)
        let resumed = try succeed(["sweep", spec, "--local", "--threads", "1"])
        XCTAssertTrue(resumed.contains("resume from epoch"), resumed)
        reference.waitUntilExit()
        XCTAssertEqual(reference.terminationStatus, 0)
        XCTAssertEqual(try MetricRow.read(path: run + "/metrics.jsonl"), try MetricRow.read(path: root + "/reference/metrics.jsonl"))
        XCTAssertEqual(try TwoLayerRunFolder(path: run).progress().summary, "finished (epoch 3/3, step 7500)")
    }

    func testTheSlurmScriptRunsTheTwoLayerCommands() throws {
        let root = TangentProcess.temporaryFolder(for: self, prefix: "tangent-sweep-two-layer-slurm")
        let spec = try SweepTestSupport.writeSpec(grid(epochs: 2), in: root)
        let dry = try succeed(["sweep", spec, "--slurm", "--dry-run", "--time", "00:05:00"])
        let runs = root + "/out/tl"
        for line in ["#SBATCH --array=0-3", "#SBATCH --time=00:05:00", "#SBATCH --signal=B:TERM@300",
                     "runs=('regime-random-features_alpha-1' 'regime-random-features_alpha-4' 'regime-full_alpha-1' 'regime-full_alpha-4')",
                     "#   0 regime-random-features_alpha-1 (start): tangent two-layer " + SweepTestSupport.tinyTwoLayerArguments.joined(separator: " ")
                        + " --epochs 2 --regime random-features --alpha 1 --run-dir \(runs)/regime-random-features_alpha-1",
                     "sweep task '\(root)/grid.yaml' \"$run\" &", "if [ \"$status\" -eq 75 ]; then", "scontrol requeue"] {
            XCTAssertTrue(dry.contains(line), "missing \(line) in:\n\(dry)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: runs), "a dry run wrote files")
    }

    func testBadTwoLayerGridFilesAreRefusedNamingTheLine() throws {
        let root = TangentProcess.temporaryFolder(for: self, prefix: "tangent-sweep-two-layer-bad")
        let base = SweepTestSupport.tinyTwoLayer
        let online = base.replacingOccurrences(of: "  batch-size: 10\n", with: "").replacingOccurrences(of: "  train-size: 40\n", with: "")
            + "grid:\n  train-size: [40, 0]\n"
        let cases: [(String, String)] = [
            (base + "  widht: 8\n", "grid.yaml line 13: 'widht: 8' is not a tangent two-layer option: Unknown option '--widht'"),
            (base + "grid:\n  regime: [full, lazzy]\n", "grid.yaml line 14: 'regime: lazzy' is not a tangent two-layer option: The value 'lazzy' is invalid"),
            (base + "grid:\n  centred: [yes]\n", "grid.yaml line 14: 'centred' is a switch: write true or false, not 'yes'"),
            (base + "  resume: true\n", "grid.yaml line 13: 'resume' is set by the sweep"),
            (base + "grid:\n  run-dir: [a, b]\n", "grid.yaml line 14: 'run-dir' is set by the sweep"),
            (base + "  overwrite: true\n", "grid.yaml line 13: 'overwrite: true' is not a tangent two-layer option"),
            (base + "grid:\n  epochs: [1, 2]\n", "'epochs' is both a two-layer: option and an axis (grid.yaml line 14)"),
            (base + "grid:\n  alpha: [1, 0]\n", "run alpha-0 (grid.yaml line 2, "),
            (base + "grid:\n  alpha: [1, 0]\n", "--alpha must be finite and > 0, got 0.0"),
            (online, "run train-size-0 (grid.yaml line 2, "),
            (online, "--train-size 0 (online) needs --batch-size"),
            ("train:\n  epochs: 1\n" + base, "grid.yaml line 3: a grid runs one command: give train: (line 1) or two-layer:, not both"),
            ("two-layer: 3\n", "grid.yaml line 1: two-layer: takes option: value lines"),
        ]
        try SweepTestSupport.assertRefused(cases, in: root)
    }
}
