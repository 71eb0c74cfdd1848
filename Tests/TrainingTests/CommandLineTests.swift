import Foundation
import Tangent
import XCTest

/// The `tangent` commands end to end on one small tracked run: train, inspect, eval, analyze, ntk, the
/// refusal of settings a resumed run cannot change, and a `tangent train` checkpoint opened in Python.
final class CommandLineTests: XCTestCase {
    func testCommandsOnOneTrackedRun() throws {
        let root = TangentProcess.temporaryFolder(for: self, prefix: "tangent-cli")
        let run = root + "/run"
        let trained = try TangentProcess.run([
            "train", "--train-subset", "300", "--test-subset", "50", "--batch-size", "100", "--epochs", "2",
            "--eval-train-subset", "50", "--robust-eval-subset", "20", "--ntk-every-epoch", "--ntk-probe-size", "4",
            "--run-dir", run])
        XCTAssertEqual(trained.status, 0, trained.output)
        XCTAssertTrue(trained.output.contains("embedded"), "the default data should be announced: \(trained.output)")

        let inspected = try TangentProcess.run(["inspect", run])
        XCTAssertEqual(inspected.status, 0, inspected.output)
        XCTAssertTrue(inspected.output.split(separator: "\n").contains { $0.contains("conv1.weight") && $0.contains("F32  [32, 1, 3, 3]") },
                      inspected.output)
        XCTAssertTrue(inspected.output.contains("epoch: 2"), inspected.output)

        let evaluated = try TangentProcess.run(["eval", run, "--eps", "0,0.1", "--test-subset", "20"])
        XCTAssertEqual(evaluated.status, 0, evaluated.output)
        let rows = evaluated.output.split(separator: "\n").filter { $0.hasPrefix("0.") }
        XCTAssertEqual(rows.count, 2, evaluated.output)
        // At ε = 0 the robust accuracy is the clean accuracy.
        let zero = rows[0].split(separator: " ")  // eps, attack, clean, robust, loss
        XCTAssertEqual(zero[1], "pgd", evaluated.output)
        XCTAssertEqual(zero[2], zero[3], evaluated.output)

        let analyzed = try TangentProcess.run(["analyze", run])
        XCTAssertEqual(analyzed.status, 0, analyzed.output)
        for file in ["kernel_distance.csv", "kernel_distance.svg", "polar.svg", "accuracy.svg"] {
            let found = try FileManager.default.contentsOfDirectory(atPath: run + "/analysis").contains(file)
            XCTAssertTrue(found, "analysis/\(file) missing: \(analyzed.output)")
        }

        let kernelFile = root + "/K.safetensors.zst"
        let kernel = try TangentProcess.run(["ntk", run, "--probe-size", "3", "--out", kernelFile])
        XCTAssertEqual(kernel.status, 0, kernel.output)
        let stored = try KernelFile.read(path: kernelFile).kernel
        XCTAssertEqual(stored.n, 30)

        let refused = try TangentProcess.run(["train", "--resume", run, "--lr", "0.5", "--epochs", "3"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.output.contains("--lr cannot change it"), refused.output)
    }

    /// Issue 3's promise: a checkpoint written by `tangent train` opens with `zstd -d` and the Python
    /// safetensors reader, with the parameters under their own names and layouts.
    func testTrainCheckpointLoadsInPythonSafetensors() throws {
        guard (try? TangentProcess.run(["zstd", "--version"], executable: "/usr/bin/env"))?.status == 0 else {
            throw XCTSkip("the zstd command-line tool is not installed")
        }
        guard (try? TangentProcess.run(["python3", "-c", "import safetensors.numpy"], executable: "/usr/bin/env"))?.status == 0 else {
            throw XCTSkip("python3 with the safetensors package is not installed (pip install safetensors)")
        }
        let root = TangentProcess.temporaryFolder(for: self, prefix: "tangent-python")
        let trained = try TangentProcess.run(["train", "--train-subset", "200", "--test-subset", "20", "--batch-size", "100",
                                              "--epochs", "1", "--eval-train-subset", "20", "--robust-eval-subset", "0",
                                              "--run-dir", root + "/run"])
        XCTAssertEqual(trained.status, 0, trained.output)
        let directory = CheckpointDirectory(path: root + "/run/checkpoints")
        let newest = try XCTUnwrap(try directory.list().last)
        let checkpoint = try CheckpointFile.read(path: newest.path)
        let plain = root + "/ckpt.safetensors"
        let unpacked = try TangentProcess.run(["zstd", "-d", "-q", newest.path, "-o", plain], executable: "/usr/bin/env")
        XCTAssertEqual(unpacked.status, 0, unpacked.output)

        let conv1 = try checkpoint.tensor(named: "conv1.weight").floats()
        let script = """
        import sys
        from safetensors.numpy import load_file
        t = load_file(sys.argv[1])
        w = t["conv1.weight"]
        assert w.shape == (32, 1, 3, 3) and str(w.dtype) == "float32", (w.shape, w.dtype)
        assert t["fc1.weight"].shape == (256, 3136), t["fc1.weight"].shape
        print("sum %.9g first %.9g" % (float(w.astype("float64").sum()), float(w.reshape(-1)[0])))
        """
        let loaded = try TangentProcess.run(["python3", "-c", script, plain], executable: "/usr/bin/env")
        XCTAssertEqual(loaded.status, 0, loaded.output)
        let expected = String(format: "sum %.9g first %.9g", conv1.reduce(0.0) { $0 + Double($1) }, Double(conv1[0]))
        XCTAssertTrue(loaded.output.contains(expected), "python read \(loaded.output), expected \(expected)")
    }
}
