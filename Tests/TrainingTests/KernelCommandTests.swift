import Foundation
import Tangent
import XCTest

/// `tangent kernel fit|attack` through the real process on the embedded MNIST sample: what it writes, that
/// attacks lower the accuracy they report, and that bad options are refused before anything is written.
final class KernelCommandTests: XCTestCase {
    static func json(_ path: String) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
    }

    func testBinaryAttackWritesResultsCSVAndPlotWithAccuracyFallingUnderAttack() throws {
        let out = TangentProcess.temporaryFolder(for: self, prefix: "tangent-kernel-attack") + "/results"
        let run = try TangentProcess.run(["kernel", "attack", "--task", "binary:3,5", "--train", "300", "--test", "60",
                                          "--pick", "per-class", "--attack", "fgsm,pgd,taylor,cw", "--eps", "0.05,3/20",
                                          "--steps", "5", "--step-size", "0.04", "--out", out])
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertTrue(run.output.contains("task 3 (−1) vs 5 (+1)"), run.output)
        let results = try Self.json(out + "/results.json")
        XCTAssertEqual(results["train"] as? Int, 300)
        XCTAssertEqual(results["test"] as? Int, 60)
        XCTAssertEqual(results["kernel"] as? String, "fc1")
        let clean = try XCTUnwrap(results["cleanAccuracy"] as? Double)
        XCTAssertGreaterThan(clean, 0.85, "the notebook kernel separates 3s from 5s")
        let attacks = try XCTUnwrap(results["attacks"] as? [[String: Any]])
        XCTAssertEqual(attacks.map { $0["attack"] as? String }, ["fgsm", "fgsm", "pgd", "pgd", "taylor", "taylor", "cw", "cw"])
        XCTAssertEqual(attacks.compactMap { $0["epsilon"] as? Double }.map { ($0 * 1e4).rounded() / 1e4 },
                       [0.05, 0.15, 0.05, 0.15, 0.05, 0.15, 0.05, 0.15])
        XCTAssertEqual(attacks[0]["loss"] as? String, "binary cross-entropy")
        XCTAssertEqual(attacks[4]["loss"] as? String, "first-order Taylor (label-free)")
        let accuracy = attacks.map { $0["accuracy"] as? Double ?? .nan }
        for (i, a) in accuracy.enumerated() {
            XCTAssertLessThan(a, clean, "attack \(i) did not lower the accuracy")
            XCTAssertGreaterThan(try XCTUnwrap(attacks[i]["adversarialLoss"] as? Double), try XCTUnwrap(attacks[i]["cleanLoss"] as? Double))
        }
        XCTAssertLessThanOrEqual(accuracy[3], accuracy[2], "PGD at the larger ε")
        XCTAssertLessThan(accuracy[3], 0.2, "PGD-5 at ε 0.15 breaks the kernel predictor")

        let csv = try String(contentsOfFile: out + "/results.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(csv.count, 10)
        XCTAssertTrue(csv[0].hasPrefix("attack,loss,norm,epsilon"))
        XCTAssertTrue(csv[1].hasPrefix("clean,"))
        XCTAssertEqual(csv[4].split(separator: ",", omittingEmptySubsequences: false)[7], Substring(String(accuracy[2])))
        let svg = try String(contentsOfFile: out + "/accuracy.svg", encoding: .utf8)
        XCTAssertTrue(svg.contains("<svg") && svg.contains("pgd") && svg.contains("taylor"))
    }

    func testAllClassFitWithADeeperKernelAndClassNames() throws {
        let out = TangentProcess.temporaryFolder(for: self, prefix: "tangent-kernel-fit")
        let run = try TangentProcess.run(["kernel", "fit", "--kernel", "fc:2", "--train", "400", "--test", "100",
                                          "--ridge", "0.001", "--out", out])
        XCTAssertEqual(run.status, 0, run.output)
        let results = try Self.json(out + "/results.json")
        XCTAssertEqual(results["task"] as? String, "10 classes")
        XCTAssertGreaterThan(try XCTUnwrap(results["cleanAccuracy"] as? Double), 0.7)
        XCTAssertEqual((results["attacks"] as? [Any])?.count, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/accuracy.svg"))
        XCTAssertNotNil(results["smallestPivot"] as? Double)

        // Names work as well as indices; the first class is −1.
        let named = try TangentProcess.run(["kernel", "fit", "--task", "binary:7,1", "--train", "100", "--test", "20",
                                            "--kernel", "two-layer", "--out", out + "/named"])
        XCTAssertEqual(named.status, 0, named.output)
        XCTAssertTrue(named.output.contains("7 (−1) vs 1 (+1)"), named.output)
    }

    func testEmpiricalKernelOfAFreshNetworkIsAttackedThroughTheNetwork() throws {
        let out = TangentProcess.temporaryFolder(for: self, prefix: "tangent-kernel-empirical")
        let run = try TangentProcess.run(["kernel", "attack", "--kernel", "empirical-init:mlp:3", "--task", "binary:0,1",
                                          "--train", "40", "--test", "20", "--pick", "per-class", "--ridge", "0.01",
                                          "--attack", "fgsm", "--eps", "0.2", "--out", out])
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertTrue(run.output.contains("freshly initialised mlp (seed 3)"), run.output)
        let results = try Self.json(out + "/results.json")
        XCTAssertTrue((results["kernelDescription"] as? String ?? "").contains("empirical NTK"))
        let clean = try XCTUnwrap(results["cleanAccuracy"] as? Double)
        let attacked = try XCTUnwrap((results["attacks"] as? [[String: Any]])?.first?["accuracy"] as? Double)
        XCTAssertLessThan(attacked, clean)
    }

    func testBadOptionsAreRefusedBeforeAnythingIsWritten() throws {
        let root = TangentProcess.temporaryFolder(for: self, prefix: "tangent-kernel-bad")
        let out = root + "/out"
        let cases: [([String], String)] = [
            (["--task", "binary:3"], "exactly two classes, got 1"),
            (["--task", "binary:3,3"], "two different classes"),
            (["--task", "binary:3,5,7"], "exactly two classes, got 3"),
            (["--task", "binary:3,three"], "'three' is not a class of mnist"),
            (["--task", "binary:3,12"], "'12' is not a class of mnist"),
            (["--task", "some"], "--task takes binary:CLASS_A,CLASS_B or all"),
            (["--ridge=-1"], "--ridge must be finite and not negative"),
            (["--ridge", "nan"], "--ridge must be finite and not negative"),
            (["--eps", "0.1,abc"], "'abc' is not a finite non-negative number"),
            (["--eps=-0.1"], "'-0.1' is not a finite non-negative number"),
            (["--eps", "1/0"], "'1/0' is not a finite non-negative number"),
            (["--train", "0"], "--train must be positive"),
            (["--test=-3"], "--test must be positive"),
            (["--kernel", "fc:9"], "depth must be a whole number in 1–5"),
            (["--kernel", "conv:3"], "depth must be a whole number in 1–2"),
            (["--kernel", "rbf"], "--kernel takes fc1"),
            (["--kernel", "empirical:" + root + "/missing"], "does not exist"),
            (["--kernel", "empirical-init:vgg"], "MODEL must be one of"),
            (["--kernel", "empirical-init:mlp:x"], "the seed 'x' is not a whole number"),
            (["--kernel", "empirical-init:cifar-cnn", "--dataset", "mnist"], "model cifar-cnn does not take mnist images"),
            (["--weight-std", "0"], "--weight-std must be finite and positive"),
            (["--steps", "0"], "--steps must be at least 1"),
            (["--step-size", "inf"], "--step-size must be finite and positive"),
            (["--attack", "fgsm,foo"], "'foo' is not an attack"),
            (["--pick", "random"], "--pick takes first, per-class, shuffled"),
            (["--test-pick", "all"], "--test-pick takes first, per-class, shuffled"),
            (["--memory-budget", "1", "--train", "1000"], "but --memory-budget is 1 MB"),
            (["--train", "5000", "--task", "binary:3,5"], "holds 927 images of 3 and 5; 5000 were asked for"),
            (["--train", "900", "--task", "binary:3,5", "--pick", "per-class"], "holds 434 images of 5; 450 were asked for"),
            (["--task", "binary:3,5", "--attack", "max-of-k", "--k", "2"], "1…1"),
            (["--dataset", "cifar10"], "cifar10 needs a data folder"),
        ]
        for (options, message) in cases {
            let run = try TangentProcess.run(["kernel", "attack", "--train", "50", "--test", "10"] + options + ["--out", out])
            XCTAssertNotEqual(run.status, 0, "\(options) was accepted")
            XCTAssertTrue(run.output.contains(message), "\(options): expected '\(message)' in\n\(run.output)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: out), "\(options): \(out) was written")
        }
        // An --out that is a file is refused up front too.
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        XCTAssertTrue(FileManager.default.createFile(atPath: out, contents: Data("x".utf8)))
        let onFile = try TangentProcess.run(["kernel", "fit", "--train", "20", "--test", "10", "--out", out])
        XCTAssertNotEqual(onFile.status, 0)
        XCTAssertTrue(onFile.output.contains("exists and is not a folder"), onFile.output)
        XCTAssertEqual(try String(contentsOfFile: out, encoding: .utf8), "x")
    }
}
