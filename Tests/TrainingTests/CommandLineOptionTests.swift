import Foundation
import Tangent
import XCTest

/// The command line's options for the open loop (`--optimizer`, `--schedule`, `--loss`, `--crop-padding`,
/// `--flip`), its refusals, and runs written before the open loop, all through the real `tangent` process.
final class CommandLineOptionTests: XCTestCase {
    /// A run of a second or two: 200 sample images, batch 50 (four steps an epoch), no robust evaluation.
    static let small = ["--train-subset", "200", "--test-subset", "50", "--batch-size", "50", "--eval-train-subset", "50",
                        "--robust-eval-subset", "0"]

    static func json(_ path: String) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
    }

    func testAdamCosineMSEAugmentedRunTrainsAndResumesExactly() throws {
        let root = TangentProcess.temporaryFolder(for: self, prefix: "tangent-cli-open")
        let straight = root + "/straight"
        let options = ["--optimizer", "adam", "--lr", "0.002", "--schedule", "cosine", "--loss", "mse", "--crop-padding", "2", "--flip"]
        let trained = try TangentProcess.run(["train"] + Self.small + options +
                                             ["--epochs", "2", "--checkpoint-every", "3", "--keep-last", "10", "--run-dir", straight])
        XCTAssertEqual(trained.status, 0, trained.output)

        // The run folder records the options, the checkpoints the optimiser's state and the loss.
        let config = try Self.json(straight + "/config.json")
        XCTAssertEqual(config["optimizer"] as? String, "adam")
        XCTAssertEqual(config["schedule"] as? String, "cosine")
        XCTAssertEqual(config["scheduleSteps"] as? Int, 8, "the cosine schedule spans the whole run")
        XCTAssertEqual(config["loss"] as? String, "mse")
        XCTAssertEqual(config["cropPadding"] as? Int, 2)
        XCTAssertEqual(config["horizontalFlip"] as? Bool, true)
        let checkpoints = CheckpointDirectory(path: straight + "/checkpoints")
        XCTAssertEqual(try checkpoints.list().map(\.step), [3, 4, 6, 8])
        let end = try checkpoints.load(step: 8)
        XCTAssertEqual(end.metadata["optimizer"], "Adam")
        XCTAssertEqual(end.metadata["loss"], "mse")
        XCTAssertNotNil(end["optimizer.m.conv1.weight"])
        XCTAssertNotNil(end["optimizer.v.fc2.bias"])
        let losses = try MetricRow.read(path: straight + "/metrics.jsonl").filter { $0.name == "test_loss" }.compactMap(\.value)
        XCTAssertEqual(losses.count, 2)
        XCTAssertLessThan(losses[1], losses[0], "the squared test loss should fall")

        // Branching from the mid-epoch checkpoint at step 3 ends exactly where the straight run ended.
        let branch = root + "/branch"
        let resumed = try TangentProcess.run(["train", "--resume", checkpoints.path(forStep: 3), "--run-dir", branch])
        XCTAssertEqual(resumed.status, 0, resumed.output)
        XCTAssertTrue(resumed.output.contains("at epoch 0, step 3"), resumed.output)
        let branchEnd = try CheckpointDirectory(path: branch + "/checkpoints").load(step: 8)
        XCTAssertEqual(branchEnd.names, end.names)
        for tensor in end.tensors {
            XCTAssertEqual(try branchEnd.tensor(named: tensor.name).bytes, tensor.bytes, "\(tensor.name) differs after resume")
        }
        XCTAssertEqual(try String(contentsOfFile: branch + "/metrics.jsonl", encoding: .utf8),
                       try String(contentsOfFile: straight + "/metrics.jsonl", encoding: .utf8))

        // Extending the run: the schedule keeps its length (and says so), training goes on.
        let extended = try TangentProcess.run(["train", "--resume", straight, "--epochs", "3"])
        XCTAssertEqual(extended.status, 0, extended.output)
        XCTAssertTrue(extended.output.contains("cosine learning-rate schedule keeps the length"), extended.output)
        XCTAssertEqual(try checkpoints.latest()?.step, 12)
    }

    /// Bad values end `tangent train` with a non-zero status and a message naming the option, before any
    /// run folder exists — neither the `--run-dir` given nor a default one under `checkpoints/`.
    func testBadValuesAreRefusedNamingTheOptionWithoutCreatingARunFolder() throws {
        let root = TangentProcess.temporaryFolder(for: self, prefix: "tangent-cli-refused")
        let cases: [(arguments: [String], message: String)] = [
            (["--lr", "-1"], "--lr"),   // taken for an option by the parser: "Missing value for '--lr <lr>'"
            (["--lr=-1"], "--lr must be a positive number, got -1.0"),
            (["--lr", "nan"], "--lr must be a positive number"),
            (["--optimizer", "foo"], "--optimizer takes sgd, adam or adamw, not 'foo'"),
            (["--loss", "foo"], "--loss takes ce, mse, mse-pm1 or bce, not 'foo'"),
            (["--schedule", "foo"], "--schedule takes constant, step or cosine, not 'foo'"),
            (["--crop-padding", "40"], "--crop-padding 40"),
            (["--crop-padding", "28", "--flip"], "--crop-padding 28"),
            (["--crop-padding=-1"], "--crop-padding must be at least 0"),
            (["--model", "two-layer", "--width=-5"], "--width must be positive, got -5"),
            (["--momentum=-1"], "--momentum must be in [0, 1), got -1.0"),
            (["--weight-decay=-5"], "--weight-decay must be finite and not negative, got -5.0"),
            (["--adversarial", "fgsm", "--eps=-0.3"], "the FGSM ε must be finite and not negative, got -0.3"),
            (["--adversarial", "pgd", "--steps=-2"], "attack settings must be finite and not negative"),
            (["--eval-train-subset", "0"], "--eval-train-subset must be positive, got 0"),
            (["--ntk-every-epoch", "--ntk-memory-budget", "0"], "the NTK memory budget must be positive"),
        ]
        for (index, (arguments, message)) in cases.enumerated() {
            for givenRunDir in [true, false] {
                let cwd = root + "/case\(index)-\(givenRunDir ? "run-dir" : "default")"
                try FileManager.default.createDirectory(atPath: cwd, withIntermediateDirectories: true)
                let result = try TangentProcess.run(["train", "--train-subset", "100", "--test-subset", "10", "--epochs", "1"] + arguments
                                                    + (givenRunDir ? ["--run-dir", cwd + "/run"] : []), in: cwd)
                XCTAssertNotEqual(result.status, 0, "\(arguments): \(result.output)")
                XCTAssertTrue(result.output.contains(message), "\(arguments) should say '\(message)': \(result.output)")
                XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: cwd), [],
                               "\(arguments) left a run folder behind (\(givenRunDir ? "--run-dir" : "default folder"))")
            }
        }
    }

    func testAttackRadiiTakeFractions() throws {
        let root = TangentProcess.temporaryFolder(for: self, prefix: "tangent-cli-fraction")
        let result = try TangentProcess.run(["train"] + Self.small + ["--epochs", "0", "--adversarial", "pgd", "--eps", "8/255",
                                                                       "--step-size", "2/255", "--run-dir", root])
        XCTAssertEqual(result.status, 0, result.output)
        let config = try Self.json(root + "/config.json")
        let adversarial = try XCTUnwrap(config["adversarial"] as? [String: Any], "\(config)")
        XCTAssertEqual(adversarial["attack"] as? String, "pgd")
        XCTAssertEqual(try XCTUnwrap(adversarial["epsilon"] as? Double), Double(Float(8) / 255), accuracy: 1e-7)
        XCTAssertEqual(try XCTUnwrap(adversarial["stepSize"] as? Double), Double(Float(2) / 255), accuracy: 1e-7)
        let refused = try TangentProcess.run(["train", "--eps", "8/0", "--run-dir", root + "-2"])
        XCTAssertEqual(refused.status, 64, refused.output)
    }

    func testOutOfRangeOptionsOfTheOtherCommandsAreRefused() throws {
        let cases: [(arguments: [String], message: String)] = [
            (["ntk", "--model", "two-layer", "--width=-5", "--out", "k.safetensors.zst"], "--width must be positive, got -5"),
            (["ntk", "--model", "mnist-cnn", "--memory-budget=-1", "--out", "k.safetensors.zst"], "--memory-budget must be positive"),
            (["bench", "--reps=-1"], "--reps must be positive, got -1"),
            (["bench", "--warmup=-2"], "--warmup must be at least 0, got -2"),
            (["bench", "--batch-size", "0"], "--batch-size must be positive, got 0"),
            (["eval", "missing-run", "--test-subset=-5"], "--test-subset must be positive, got -5"),
            (["eval", "missing-run", "--test-subset", "0"], "--test-subset must be positive, got 0"),
            (["eval", "missing-run", "--steps=0"], "--steps must be at least 1, got 0"),
            (["eval", "missing-run", "--eps=-0.3"], "--eps: '-0.3' is not a finite non-negative number"),
            // The kernel kind (see NTKKindOptionTests): a bad value, or both its names at once.
            (["train", "--ntk-every-epoch", "--ntk-kind", "diagonal"], "'--ntk-kind <full|traced>'"),
            (["train", "--ntk-every-epoch", "--ntk-kind", "full", "--ntk-kernel", "traced"], "--ntk-kernel is the former name of --ntk-kind; give --ntk-kind only"),
            (["train", "--ntk-kind", "traced"], "NTK options need --ntk-every N or --ntk-every-epoch"),
            (["ntk", "--model", "mnist-cnn", "--kind", "traced", "--ntk-kind", "traced", "--out", "k.safetensors.zst"], "--kind is the former name of --ntk-kind"),
            (["ntk", "--model", "mnist-cnn", "--ntk-kind", "diagonal", "--out", "k.safetensors.zst"], "'--ntk-kind <full|traced>'"),
            (["bench", "--task", "ntk", "--ntk", "full", "--ntk-kind", "traced"], "--ntk is the former name of --ntk-kind"),
        ]
        let cwd = TangentProcess.temporaryFolder(for: self, prefix: "tangent-cli-other")
        try FileManager.default.createDirectory(atPath: cwd, withIntermediateDirectories: true)
        for (arguments, message) in cases {
            let result = try TangentProcess.run(arguments, in: cwd)
            XCTAssertNotEqual(result.status, 0, "\(arguments): \(result.output)")
            XCTAssertTrue(result.output.contains(message), "\(arguments) should say '\(message)': \(result.output)")
            XCTAssertFalse(result.output.contains("Backtrac"), "\(arguments) trapped: \(result.output)")
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: cwd), [], "\(arguments) wrote a file")
        }
    }

    /// Replaces a run's newest checkpoint by the same state in the format written before the open loop:
    /// `config` holding `config`, the metadata `model`, and no `settings`, `optimizer` or `loss`.
    func rewriteAsOldCheckpoint(_ run: String, config: String) throws {
        let entry = try XCTUnwrap(try CheckpointDirectory(path: run + "/checkpoints").latest())
        var checkpoint = try CheckpointFile.read(path: entry.path)
        for key in ["settings", "optimizer", "loss"] { checkpoint.metadata[key] = nil }
        checkpoint.metadata["config"] = config
        checkpoint.metadata["model"] = "mnist-cnn"
        try CheckpointFile.write(checkpoint, to: entry.path)
    }

    /// Formerly `ConfigurationDecodingTests` on the library's `TrainingConfiguration`, which is gone: the
    /// stored run description now belongs to the command line, so its promise is tested through `tangent`.
    /// A run folder and checkpoint written before the open loop — a `config` with only the settings that
    /// existed then (and not even all of those), no stored loop settings, optimiser or loss — still
    /// resumes, the missing settings taking their defaults (SGD, cross-entropy, constant rate, keep 3, no
    /// linearization), and ends bit-identical to the same run started today.
    func testARunWrittenBeforeTheOpenLoopStillResumesWithDefaultsForMissingSettings() throws {
        let root = TangentProcess.temporaryFolder(for: self, prefix: "tangent-cli-old")
        let common = Self.small + ["--seed", "3"]
        let today = try TangentProcess.run(["train"] + common + ["--epochs", "2", "--run-dir", root + "/today"])
        XCTAssertEqual(today.status, 0, today.output)

        let old = root + "/old"
        let first = try TangentProcess.run(["train"] + common + ["--epochs", "1", "--run-dir", old])
        XCTAssertEqual(first.status, 0, first.output)
        let oldConfig = """
        {"model": "mnist-cnn", "dataset": "mnist", "epochs": 1, "batchSize": 50, "learningRate": 0.01, "momentum": 0,
         "weightDecay": 0, "seed": 3, "shuffle": true, "trainSubset": 200, "testSubset": 50, "evalTrainSubset": 50,
         "evalEvery": 1, "twoLayerWidth": 4096, "robustEvalSubset": 0, "checkpointEveryEpoch": true}
        """
        try Data(oldConfig.utf8).write(to: URL(fileURLWithPath: old + "/config.json"))
        try rewriteAsOldCheckpoint(old, config: oldConfig)

        let evaluated = try TangentProcess.run(["eval", old, "--eps", "0", "--steps", "1", "--test-subset", "10"])
        XCTAssertEqual(evaluated.status, 0, evaluated.output)
        let resumed = try TangentProcess.run(["train", "--resume", old, "--epochs", "2"])
        XCTAssertEqual(resumed.status, 0, resumed.output)
        XCTAssertTrue(resumed.output.contains("at epoch 1, step 4"), resumed.output)

        let config = try Self.json(old + "/config.json")
        XCTAssertEqual(config["optimizer"] as? String, "sgd")
        XCTAssertEqual(config["loss"] as? String, "ce")
        XCTAssertEqual(config["schedule"] as? String, "constant")
        XCTAssertEqual(config["keepLast"] as? Int, 3)
        XCTAssertNil(config["linearizeAtEpoch"])
        let resumedEnd = try CheckpointDirectory(path: old + "/checkpoints").load(step: 8)
        let todayEnd = try CheckpointDirectory(path: root + "/today/checkpoints").load(step: 8)
        for tensor in todayEnd.tensors where !tensor.name.hasPrefix("callback.") {
            XCTAssertEqual(try resumedEnd.tensor(named: tensor.name).bytes, tensor.bytes, "\(tensor.name) differs")
        }
        XCTAssertEqual(try String(contentsOfFile: old + "/metrics.jsonl", encoding: .utf8),
                       try String(contentsOfFile: root + "/today/metrics.jsonl", encoding: .utf8))
    }

    /// A stored description that is not an object, or has a value of the wrong type, is refused with the
    /// run named (what `TrainingConfiguration.decode` used to refuse).
    func testAnUnreadableStoredConfigurationIsRefused() throws {
        let root = TangentProcess.temporaryFolder(for: self, prefix: "tangent-cli-bad-config")
        let run = root + "/run"
        let first = try TangentProcess.run(["train"] + Self.small + ["--epochs", "1", "--run-dir", run])
        XCTAssertEqual(first.status, 0, first.output)
        for bad in ["[1, 2]", #"{"epochs": "many"}"#] {
            try rewriteAsOldCheckpoint(run, config: bad)
            let refused = try TangentProcess.run(["train", "--resume", run, "--epochs", "2"])
            XCTAssertNotEqual(refused.status, 0, refused.output)
            XCTAssertTrue(refused.output.contains("\(run) has an unreadable run configuration"), refused.output)
        }
    }
}
