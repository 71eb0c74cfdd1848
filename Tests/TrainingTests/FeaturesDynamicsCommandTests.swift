import Foundation
import Tangent
import XCTest

/// `tangent features dynamics` through the real process on tiny runs of the embedded MNIST sample: its
/// figures are the library's for the run's network at each epoch, its eigenvalues those of the kernels
/// tracked during training, and runs it cannot analyse or compare are refused with the reason.
final class FeaturesDynamicsCommandTests: XCTestCase {
    /// A small MLP on 200 training images, its NTK tracked every epoch (on the first 30 unless the test
    /// gives a probe).
    static let tinyRun = CommandLineOptionTests.small + ["--model", "mlp", "--hidden", "24", "--epochs", "2", "--lr", "0.05",
                                                        "--ntk-every-epoch", "--keep-last", "5"]

    func train(_ folder: String, _ extra: [String] = []) throws {
        let probe = extra.contains("--ntk-probe") ? [] : ["--ntk-probe-size", "30"]
        let result = try TangentProcess.run(["train"] + Self.tinyRun + probe + ["--run-dir", folder] + extra)
        XCTAssertEqual(result.status, 0, result.output)
    }

    func testEveryTrackedEpochHasTheLibrarysFeaturesOfTheRunsNetwork() throws {
        let root = TangentProcess.temporaryFolder(for: self, prefix: "tangent-features-dynamics")
        try train(root + "/standard")
        try train(root + "/fgsm", ["--adversarial", "fgsm", "--eps", "0.1"])
        let out = root + "/out"
        let run = try TangentProcess.run(["features", "dynamics", root + "/standard", root + "/fgsm", "--label", "standard",
                                          "--label", "adversarial", "--features", "1-4", "--held-out", "20", "--eps", "0.1",
                                          "--out", out])
        XCTAssertEqual(run.status, 0, run.output)
        let results = try CommandLineOptionTests.json(out + "/features-dynamics.json")
        XCTAssertEqual(results["attackColumns"] as? [String], ["fgsm_eps_0.1"])
        let runs = try XCTUnwrap(results["runs"] as? [[String: Any]])
        XCTAssertEqual(runs.compactMap { $0["label"] as? String }, ["standard", "adversarial"])
        for r in runs {
            let epochs = try XCTUnwrap(r["epochs"] as? [[String: Any]])
            XCTAssertEqual(epochs.compactMap { $0["epoch"] as? Int }, [0, 1, 2])
            // The features' eigenvalues are those of the kernels tracked during training (same network).
            for e in epochs { XCTAssertLessThan(try XCTUnwrap(e["trackedKernelAgreement"] as? Double), 1e-4) }
        }

        // Epoch 2 of the adversarial run, straight from the library: its checkpoint's network, the probe,
        // the held-out images.
        let data = try TrainingData.load(.mnist, directory: nil, trainSubset: 200, testSubset: 50)
        var rng = Xoshiro256(seed: 0)
        let network = Architectures.mlp(inputs: 784, hidden: [24], outputs: 10, rng: &rng)
        let checkpoint = root + "/fgsm/checkpoints/" + CheckpointDirectory.fileName(step: 8)
        try TrainingCheckpoint.loadParameters(into: network, from: try CheckpointFile.read(path: checkpoint), path: checkpoint)
        let probe = data.train.batch(indices: 0..<30)
        let task = KernelTask.multiclass(classes: 10)
        let features = try EigenFeatures.decompose(kernel: try EmpiricalNTKKernel(model: network),
                                                   inputs: Tensor(shape: [30, 1, 28, 28], scalars: probe.images),
                                                   labels: probe.labels, task: task)
        let test = try task.samples(from: data.test, count: 20, selection: .shuffled)
        var attackRNG = Xoshiro256(seed: 0)
        let expected = try features.evaluate(features: 1...4, images: test.inputs, labels: test.labels,
                                             attacks: [.fgsm(epsilon: 0.1)], rng: &attackRNG)
        let epoch2 = try XCTUnwrap((runs[1]["epochs"] as? [[String: Any]])?.last)
        let rows = try XCTUnwrap(epoch2["features"] as? [[String: Any]])
        for (row, e) in zip(rows, expected) {
            XCTAssertEqual(try XCTUnwrap(row["eigenvalue"] as? Double), e.eigenvalue, accuracy: 1e-9 * e.eigenvalue)
            XCTAssertEqual(try XCTUnwrap(row["usefulness"] as? Double), e.cleanAccuracy, accuracy: 1e-12)
            let robustness = try XCTUnwrap(row["robustness"] as? [String: Double])
            XCTAssertEqual(try XCTUnwrap(robustness["fgsm_eps_0.1"]), try XCTUnwrap(e.robustAccuracy), accuracy: 1e-12)
        }
        // Robustness cannot exceed usefulness by much on so few images; the features differ from each other.
        XCTAssertGreaterThan(Set(expected.map(\.cleanAccuracy)).count, 1)

        // The CSV has a row per run, epoch and feature; the charts and the page exist.
        let csv = try String(contentsOfFile: out + "/features-dynamics.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(csv.first, "run,epoch,step,feature,eigenvalue,usefulness,fgsm_eps_0.1")
        XCTAssertEqual(csv.count, 1 + 2 * 3 * 4)
        for file in ["over-training.svg", "robustness-standard.svg", "usefulness-adversarial.svg"] {
            let svg = try String(contentsOfFile: out + "/" + file, encoding: .utf8)
            XCTAssertTrue(svg.contains("<svg"), file)
        }
        let chart = try String(contentsOfFile: out + "/over-training.svg", encoding: .utf8)
        XCTAssertTrue(chart.contains("adversarial: robustness") && chart.contains("standard: usefulness"))
        XCTAssertTrue(try String(contentsOfFile: out + "/index.html", encoding: .utf8).contains("robustness-adversarial.svg"))
    }

    func testEpochsWithoutACheckpointAreSkippedAndNamed() throws {
        let root = TangentProcess.temporaryFolder(for: self, prefix: "tangent-features-dynamics-skip")
        try train(root + "/run", ["--keep-last", "1"])
        let run = try TangentProcess.run(["features", "dynamics", root + "/run", "--features", "1-2", "--held-out", "10",
                                          "--attack", "fgsm", "--eps", "0.05", "--out", root + "/out"])
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertTrue(run.output.contains("epochs 1 skipped (their checkpoints were not kept)"), run.output)
        let runs = try XCTUnwrap(try CommandLineOptionTests.json(root + "/out/features-dynamics.json")["runs"] as? [[String: Any]])
        XCTAssertEqual(runs[0]["skippedEpochs"] as? [Int], [1])
        XCTAssertEqual((runs[0]["epochs"] as? [[String: Any]])?.compactMap { $0["epoch"] as? Int }, [0, 2])
    }

    func testRunsItCannotAnalyseOrCompareAreRefusedBeforeAnythingIsWritten() throws {
        let root = TangentProcess.temporaryFolder(for: self, prefix: "tangent-features-dynamics-refusals")
        try train(root + "/a")
        try train(root + "/otherprobe", ["--ntk-probe", "5,6,7,8,9,10,11,12,13,14"])
        try train(root + "/linearized", ["--linearize-at-epoch", "1"])
        let untracked = root + "/untracked"
        let plain = try TangentProcess.run(["train"] + CommandLineOptionTests.small + ["--model", "mlp", "--hidden", "8", "--epochs", "1", "--run-dir", untracked])
        XCTAssertEqual(plain.status, 0, plain.output)
        let out = root + "/out"
        let cases: [([String], String)] = [
            ([untracked], "tracked no kernels"),
            ([root + "/a", root + "/otherprobe"], "another probe batch"),
            ([root + "/linearized"], "trains a linearization from epoch 1"),
            ([root + "/a", "--features", "31"], "feature 31 does not exist: the probe of \(root)/a (30 images) gives features 1…30"),
            ([root + "/a", "--features", "0-2"], "'0-2' is not a number or range"),
            ([root + "/a", "--epochs", "5"], "tracked no kernel at epoch 5"),
            ([root + "/a", "--held-out", "0"], "--held-out must be positive"),
            ([root + "/a", root + "/a", "--label", "x"], "--label was given 1 times for 2 runs"),
            ([root + "/missing"], "does not exist"),
        ]
        for (arguments, message) in cases {
            let result = try TangentProcess.run(["features", "dynamics"] + arguments + ["--out", out])
            XCTAssertNotEqual(result.status, 0, "\(arguments): \(result.output)")
            XCTAssertTrue(result.output.contains(message), "\(arguments): expected '\(message)' in \(result.output)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: out), "\(arguments) wrote \(out)")
        }
    }
}
