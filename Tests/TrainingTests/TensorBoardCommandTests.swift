import Foundation
import Tangent
import XCTest

/// `tangent train --tensorboard`: a short run (an MLP on the embedded MNIST sample) read back by the real
/// TensorBoard (the `tensorboard` package's event accumulator, in a python3 subprocess), before and after
/// a resume from an earlier checkpoint; and folders that cannot take event files, refused before training.
final class TensorBoardCommandTests: XCTestCase {
    /// A run of 6 steps an epoch, its NTK (8 images, 80 × 80) every epoch, robust accuracy on 50 images.
    private static let shortRun = ["--model", "mlp", "--hidden", "32", "--train-subset", "600", "--test-subset", "200",
                                   "--batch-size", "100", "--eval-train-subset", "200", "--robust-eval-subset", "50",
                                   "--ntk-every-epoch", "--ntk-probe-size", "8"]

    /// Checks, with TensorBoard's own reader, that the run's event folder shows every row of metrics.jsonl
    /// as a scalar (tag GROUP/NAME, each step once, the value as a 32-bit float), a batch loss per step and
    /// a spectrum histogram per kernel.
    private static let readBack = #"""
    import json, math, struct, sys
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    run, steps = sys.argv[1], int(sys.argv[2])
    acc = EventAccumulator(run + "/tensorboard", size_guidance={"scalars": 0, "histograms": 0})
    acc.Reload()
    rows = [json.loads(line) for line in open(run + "/metrics.jsonl")]
    def tag(name):
        for group in ("train", "test", "ntk"):
            if name.startswith(group + "_"):
                return group + "/" + name[len(group) + 1:]
        return name
    def f32(x):
        return struct.unpack("f", struct.pack("f", x))[0]
    def same(a, b):
        return a == b or (math.isnan(a) and math.isnan(b))
    names = sorted({r["name"] for r in rows})
    for name in ["train_loss", "test_accuracy", "train_robust_accuracy", "ntk_distance_to_initial", "ntk_top_eigenvalue_1"]:
        assert name in names, (name, names)
    for name in names:
        expected = [(r["step"], f32(r["value"] if r["value"] is not None else float("nan"))) for r in rows if r["name"] == name]
        got = [(e.step, e.value) for e in acc.Scalars(tag(name))]
        assert len(got) == len(expected) and all(g[0] == e[0] and same(g[1], e[1]) for g, e in zip(got, expected)), (name, got, expected)
    assert [e.step for e in acc.Scalars("train/batch_loss")] == list(range(1, steps + 1)), acc.Scalars("train/batch_loss")
    kernels = [r for r in rows if r["name"] == "ntk_top_eigenvalue_1"]
    spectra = acc.Histograms("ntk/eigenvalues")
    assert [h.step for h in spectra] == [r["step"] for r in kernels], (spectra, kernels)
    for h, r in zip(spectra, kernels):
        assert h.histogram_value.num == 80 and abs(h.histogram_value.max - r["value"]) <= 1e-4 * r["value"], (h, r)
    assert len(acc.Histograms("ntk/log10_eigenvalues")) == len(kernels)
    print("OK", len(names), "metrics")
    """#

    private func requireTensorBoard() throws {
        guard (try? TangentProcess.run(["python3", "-c", "import tensorboard.backend.event_processing.event_accumulator"],
                                       executable: "/usr/bin/env"))?.status == 0 else {
            throw XCTSkip("python3 with the tensorboard package is not installed (python3 -m pip install tensorboard)")
        }
    }

    private func readBack(_ run: String, steps: Int) throws {
        let result = try TangentProcess.run(["python3", "-c", Self.readBack, run, "\(steps)"], executable: "/usr/bin/env")
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("OK"), result.output)
    }

    func testTensorBoardReadsTheRunAndItsResumeFromAnEarlierCheckpoint() throws {
        try requireTensorBoard()
        let root = TangentProcess.temporaryFolder(for: self, prefix: "tensorboard-cli")
        let run = root + "/run"
        // A bare --tensorboard before another option: the run folder's tensorboard/.
        let first = try TangentProcess.run(["train"] + Self.shortRun + ["--epochs", "2", "--tensorboard", "--run-dir", run],
                                           environment: ["TANGENT_THREADS": "1"])
        XCTAssertEqual(first.status, 0, first.output)
        XCTAssertTrue(first.output.contains("TensorBoard events: \(run)/tensorboard"), first.output)
        try readBack(run, steps: 12)

        // Resumed in place from the first epoch's checkpoint: epoch 2 is written again, epoch 3 is new, in
        // a second event file; TensorBoard shows every step once, with the values metrics.jsonl now holds.
        let resumed = try TangentProcess.run(["train", "--resume", run + "/checkpoints/step-00000006.safetensors.zst", "--epochs", "3"],
                                             environment: ["TANGENT_THREADS": "1"])
        XCTAssertEqual(resumed.status, 0, resumed.output)
        XCTAssertEqual(try EventFileWriter.eventFiles(in: run + "/tensorboard").count, 2)
        try readBack(run, steps: 18)
    }

    func testFoldersThatCannotTakeEventFilesFailBeforeTraining() throws {
        let root = TangentProcess.temporaryFolder(for: self, prefix: "tensorboard-cli")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let file = root + "/a-file"
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        let used = root + "/used"
        _ = try EventFileWriter(directory: used)
        var cases = [(file, "is a file, not a folder"), (file + "/events", "cannot create the TensorBoard folder"),
                     (used, "already holds event files")]
        if getuid() != 0 {  // permissions do not stop root
            let readOnly = root + "/read-only"
            try FileManager.default.createDirectory(atPath: readOnly, withIntermediateDirectories: true)
            try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: readOnly)
            cases.append((readOnly, "is not writable"))
        }
        for (folder, message) in cases {
            let run = root + "/run-\(UUID().uuidString)"
            let result = try TangentProcess.run(["train"] + Self.shortRun + ["--epochs", "1", "--run-dir", run, "--tensorboard", folder])
            XCTAssertEqual(result.status, 64, result.output)
            XCTAssertTrue(result.output.contains("--tensorboard: ") && result.output.contains(message), result.output)
            XCTAssertFalse(FileManager.default.fileExists(atPath: run), "a run folder was created for \(folder)")
        }
    }
}
