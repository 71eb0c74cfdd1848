import Foundation
import Tangent
import XCTest

/// `tangent eval` through the real process: white-box attacks with saved examples and JSON/CSV output,
/// attacks transferred from another model or from a saved file (a kernel predictor's too), the file read
/// by numpy after `zstd -d`, and bad input refused with a message.
final class EvalCommandTests: XCTestCase {
    private var folder = ""

    override func setUpWithError() throws {
        folder = TangentProcess.temporaryFolder(for: self, prefix: "tangent-eval")
    }

    /// A one-epoch mlp run on the embedded MNIST sample.
    private func train(_ name: String, seed: Int) throws -> String {
        let runDir = folder + "/" + name
        let run = try TangentProcess.run(["train", "--model", "mlp", "--hidden", "32", "--epochs", "1", "--train-subset", "300",
                                          "--test-subset", "100", "--robust-eval-subset", "0", "--seed", "\(seed)", "--run-dir", runDir])
        XCTAssertEqual(run.status, 0, run.output)
        return runDir
    }

    private func json(_ path: String) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
    }

    private func rows(_ path: String) throws -> [[String: Any]] { try XCTUnwrap(try json(path)["rows"] as? [[String: Any]]) }

    func testWhiteBoxTransferAndSavedExamplesAgree() throws {
        let a = try train("a", seed: 1), b = try train("b", seed: 2)
        let examples = folder + "/a-pgd.safetensors.zst"

        let white = try TangentProcess.run(["eval", a, "--eps", "3/20", "--steps", "5", "--test-subset", "80",
                                            "--save-adversarial", examples, "--out", folder + "/white"])
        XCTAssertEqual(white.status, 0, white.output)
        let whiteRow = try XCTUnwrap(try rows(folder + "/white/eval.json").first)
        let whiteRobust = try XCTUnwrap(whiteRow["robustAccuracy"] as? Double)
        XCTAssertLessThan(whiteRobust, try XCTUnwrap(whiteRow["cleanAccuracy"] as? Double), "PGD lowers the accuracy")
        XCTAssertEqual(try XCTUnwrap(whiteRow["stepSize"] as? Double), 2.5 * 0.15 / 5, accuracy: 1e-6, "default step 2.5·ε/steps")
        let csv = try String(contentsOfFile: folder + "/white/eval.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(csv.count, 2)
        XCTAssertTrue(csv[0].hasPrefix("epsilon,attack,steps,step_size"))

        let set = try AdversarialExampleSet.read(examples, imageShape: [1, 28, 28], classes: 10)
        XCTAssertEqual(set.count, 80)
        XCTAssertLessThanOrEqual(set.maximumPerturbation, 0.15 + 1e-6)
        XCTAssertGreaterThan(set.maximumPerturbation, 0.1, "the attack moved the images")
        XCTAssertEqual(set.provenance["attack"], "pgd")

        // Crafted against a: a's own robust accuracy is the white-box figure above, b is scored on them.
        let transfer = try TangentProcess.run(["eval", b, "--attack-from", a, "--eps", "0.15", "--steps", "5", "--test-subset", "80",
                                               "--out", folder + "/transfer"])
        XCTAssertEqual(transfer.status, 0, transfer.output)
        let transferRow = try XCTUnwrap(try rows(folder + "/transfer/eval.json").first)
        XCTAssertEqual(try XCTUnwrap(transferRow["sourceRobustAccuracy"] as? Double), whiteRobust, accuracy: 1e-12)

        // The saved file holds the same examples: b scores the same on them.
        let fromFile = try TangentProcess.run(["eval", b, "--attack-from", examples, "--out", folder + "/file"])
        XCTAssertEqual(fromFile.status, 0, fromFile.output)
        let fileRow = try XCTUnwrap(try rows(folder + "/file/eval.json").first)
        XCTAssertEqual(try XCTUnwrap(fileRow["robustAccuracy"] as? Double), try XCTUnwrap(transferRow["robustAccuracy"] as? Double), accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(fileRow["cleanAccuracy"] as? Double), try XCTUnwrap(transferRow["cleanAccuracy"] as? Double), accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(fileRow["epsilon"] as? Double), 0.15, accuracy: 1e-6)
    }

    func testKernelAttackExamplesEvaluateOnANetwork() throws {
        let a = try train("a", seed: 1)
        let examples = folder + "/kernel.safetensors.zst"
        let kernel = try TangentProcess.run(["kernel", "attack", "--train", "200", "--test", "50", "--attack", "pgd", "--eps", "0.2",
                                             "--steps", "5", "--step-size", "0.05", "--out", folder + "/kernel", "--save-adversarial", examples])
        XCTAssertEqual(kernel.status, 0, kernel.output)
        let kernelAccuracy = try XCTUnwrap((try json(folder + "/kernel/results.json")["attacks"] as? [[String: Any]])?.first?["accuracy"] as? Double)
        let set = try AdversarialExampleSet.read(examples)
        XCTAssertEqual(set.count, 50)
        XCTAssertTrue(set.provenance["source"]?.hasPrefix("kernel predictor") ?? false, "\(set.provenance)")
        XCTAssertLessThanOrEqual(set.maximumPerturbation, 0.2 + 1e-6)

        let eval = try TangentProcess.run(["eval", a, "--attack-from", examples])
        XCTAssertEqual(eval.status, 0, eval.output)
        XCTAssertTrue(eval.output.contains("source kernel predictor"), eval.output)
        XCTAssertLessThan(kernelAccuracy, 0.5, "PGD breaks the kernel predictor it was crafted against")
    }

    func testSavedExamplesOpenInNumpyAfterZstdDecompression() throws {
        guard (try? TangentProcess.run(["zstd", "--version"], executable: "/usr/bin/env"))?.status == 0 else {
            throw XCTSkip("the zstd command-line tool is not installed")
        }
        guard (try? TangentProcess.run(["python3", "-c", "import numpy, safetensors.numpy"], executable: "/usr/bin/env"))?.status == 0 else {
            throw XCTSkip("python3 with numpy and safetensors is not installed")
        }
        let a = try train("a", seed: 1)
        let examples = folder + "/a.safetensors.zst", plain = folder + "/a.safetensors"
        XCTAssertEqual(try TangentProcess.run(["eval", a, "--eps", "0.1", "--steps", "3", "--test-subset", "20", "--save-adversarial", examples]).status, 0)
        XCTAssertEqual(try TangentProcess.run(["zstd", "-d", "-q", "-f", examples, "-o", plain], executable: "/usr/bin/env").status, 0)
        let script = """
        import sys, numpy as np
        from safetensors.numpy import load_file
        t = load_file(sys.argv[1])
        c, a, y = t["clean"], t["adversarial"], t["labels"]
        assert c.shape == (20, 1, 28, 28) and a.shape == c.shape and c.dtype == np.float32, (c.shape, c.dtype)
        assert y.shape == (20,) and y.dtype == np.int32 and y.min() >= 0 and y.max() <= 9
        assert np.abs(a - c).max() <= 0.1 + 1e-6 and a.min() >= 0 and a.max() <= 1
        print("ok", float(np.abs(a - c).max()))
        """
        let python = try TangentProcess.run(["python3", "-c", script, plain], executable: "/usr/bin/env")
        XCTAssertEqual(python.status, 0, python.output)
        XCTAssertTrue(python.output.hasPrefix("ok"), python.output)
    }

    func testBadInputIsRefusedWithAMessage() throws {
        let a = try train("a", seed: 1)
        func refused(_ arguments: [String], _ expected: String, file: StaticString = #filePath, line: UInt = #line) throws {
            let run = try TangentProcess.run(arguments)
            XCTAssertNotEqual(run.status, 0, run.output, file: file, line: line)
            XCTAssertTrue(run.output.contains(expected), "expected '\(expected)' in: \(run.output)", file: file, line: line)
            XCTAssertFalse(run.output.contains("Fatal error"), run.output, file: file, line: line)
        }
        try refused(["eval", a, "--eps", "0.1,0.2", "--save-adversarial", folder + "/x.safetensors.zst"], "one ε")
        try refused(["eval", a, "--save-adversarial", folder + "/x.safetensors.zst"], "one ε")
        try refused(["eval", a, "--eps", "0.1/0"], "--eps")
        try refused(["eval", a, "--attack-from", folder + "/missing"], "does not exist")

        // A well-formed file whose values do not fit: a label outside the classes, a CIFAR-shaped image.
        let zeros = Tensor(shape: [2, 1, 28, 28], scalars: [Float](repeating: 0, count: 2 * 784))
        try AdversarialExampleSet(clean: zeros, adversarial: zeros, labels: [3, 12]).write(to: folder + "/label.safetensors.zst")
        try refused(["eval", a, "--attack-from", folder + "/label.safetensors.zst"], "label 12 is not one of the model's 10 classes")
        let colour = Tensor(shape: [1, 3, 32, 32], scalars: [Float](repeating: 0, count: 3072))
        try AdversarialExampleSet(clean: colour, adversarial: colour, labels: [1]).write(to: folder + "/shape.safetensors.zst")
        try refused(["eval", a, "--attack-from", folder + "/shape.safetensors.zst"], "images are 3×32×32 but the model takes 1×28×28")
        try refused(["eval", a, "--attack-from", folder + "/shape.safetensors.zst", "--eps", "0.1"], "its ε and attack are fixed")
        // A checkpoint is not a file of examples.
        let checkpoints = try FileManager.default.contentsOfDirectory(atPath: a + "/checkpoints").filter { $0.hasSuffix(".zst") }
        XCTAssertThrowsError(try AdversarialExampleSet.read(a + "/checkpoints/" + XCTUnwrap(checkpoints.first))) { error in
            XCTAssertTrue("\(error)".contains("not a file of adversarial examples"), "\(error)")
        }
        XCTAssertThrowsError(try AdversarialExampleSet(clean: zeros, adversarial: colour, labels: [1, 2]))
        var nan = zeros.scalars
        nan[900] = .nan
        XCTAssertThrowsError(try AdversarialExampleSet(clean: zeros, adversarial: Tensor(shape: zeros.shape, scalars: nan), labels: [1, 2])) { error in
            XCTAssertTrue("\(error)".contains("adversarial image 1 holds a value that is not finite"), "\(error)")
        }
    }

    func testCSVFieldsAreQuotedWhenTheyNeedIt() {
        XCTAssertEqual(CSVText.field("plain"), "plain")
        XCTAssertEqual(CSVText.field("a,b"), "\"a,b\"")
        XCTAssertEqual(CSVText.field("say \"hi\""), "\"say \"\"hi\"\"\"")
        XCTAssertEqual(CSVText.field("two\nlines"), "\"two\nlines\"")
        XCTAssertEqual(CSVText.row(["1", "x,y", ""]), "1,\"x,y\",\n")
    }
}
