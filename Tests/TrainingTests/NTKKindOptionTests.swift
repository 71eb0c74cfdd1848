import Foundation
import Tangent
import XCTest

/// `--ntk-kind full|traced` is the kernel kind's one name in `tangent train`, `tangent ntk` and `tangent
/// bench`; each command's former spelling still works, hidden from the help; and `tangent --version`.
/// All through the real `tangent` process; its refusals are among
/// `CommandLineOptionTests.testOutOfRangeOptionsOfTheOtherCommandsAreRefused`.
final class NTKKindOptionTests: XCTestCase {
    /// The former spelling of `--ntk-kind` in each command.
    static let formerNames = ["train": "--ntk-kernel", "ntk": "--kind", "bench": "--ntk"]

    func testEveryCommandListsNTKKindAndHidesItsFormerName() throws {
        for (command, former) in Self.formerNames {
            let help = try TangentProcess.run([command, "--help"])
            XCTAssertEqual(help.status, 0, help.output)
            XCTAssertTrue(help.output.contains("--ntk-kind <full|traced>"), "\(command): \(help.output)")
            XCTAssertFalse(help.output.contains(former + " "), "\(command) still lists \(former): \(help.output)")
        }
    }

    func testTrainTracksTheKindGivenByEitherName() throws {
        let root = TangentProcess.temporaryFolder(for: self, prefix: "tangent-ntk-kind-train")
        for (name, kind) in [("--ntk-kind", "traced"), ("--ntk-kernel", "traced"), (nil, "full")] {
            let folder = root + "/\(name ?? "default")"
            let result = try TangentProcess.run(["train"] + CommandLineOptionTests.small
                                                + ["--epochs", "0", "--ntk-every-epoch", "--ntk-probe-size", "3", "--run-dir", folder]
                                                + (name.map { [$0, kind] } ?? []))
            XCTAssertEqual(result.status, 0, result.output)
            let tracking = try XCTUnwrap(try CommandLineOptionTests.json(folder + "/config.json")["kernelTracking"] as? [String: Any])
            XCTAssertEqual(tracking["kind"] as? String, kind, "\(name ?? "no option")")
            let index = try XCTUnwrap(try KernelSnapshotStore.readIndex(runDirectory: folder))
            XCTAssertEqual(index.kind.rawValue, kind)
            XCTAssertEqual(index.kernelSide, kind == "full" ? 30 : 3)
        }
    }

    func testNTKWritesTheKindGivenByEitherName() throws {
        let root = TangentProcess.temporaryFolder(for: self, prefix: "tangent-ntk-kind-ntk")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        var kernels: [String: KernelMatrix] = [:]
        for (name, kind) in [("--ntk-kind", "traced"), ("--kind", "traced"), ("--ntk-kind", "full")] {
            let out = root + "/\(name)-\(kind).safetensors.zst"
            let result = try TangentProcess.run(["ntk", "--model", "mnist-cnn", "--probe-size", "3", name, kind, "--out", out])
            XCTAssertEqual(result.status, 0, result.output)
            let (kernel, metadata) = try KernelFile.read(path: out)
            XCTAssertEqual(metadata["kind"], kind)
            kernels["\(name) \(kind)"] = kernel
        }
        XCTAssertEqual(kernels["--ntk-kind traced"]?.n, 3)
        XCTAssertEqual(kernels["--ntk-kind traced"], kernels["--kind traced"])
        XCTAssertEqual(kernels["--ntk-kind full"]?.n, 30)
    }

    func testBenchTimesTheKindGivenByEitherName() throws {
        for name in ["--ntk-kind", "--ntk"] {
            let result = try TangentProcess.run(["bench", "--task", "ntk", name, "traced", "--batch-size", "2", "--reps", "1", "--warmup", "0"])
            XCTAssertEqual(result.status, 0, result.output)
            let line = try XCTUnwrap(result.output.split(separator: "\n").last(where: { $0.hasPrefix("{") }), result.output)
            let record = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            XCTAssertEqual(record["kernel"] as? String, "traced", name)
        }
    }

    /// A grid file written with the former name still runs.
    func testASweepFileWithTheFormerNameIsRead() throws {
        let root = TangentProcess.temporaryFolder(for: self, prefix: "tangent-ntk-kind-sweep")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let spec = root + "/grid.yaml"
        try (SweepTestSupport.tinyRun + """
          ntk-every-epoch: true
          ntk-probe-size: 3
          ntk-kernel: traced
        grid:
          seed: [0, 1]

        """).write(toFile: spec, atomically: true, encoding: .utf8)
        let plan = try TangentProcess.run(["sweep", spec, "--local", "--dry-run"])
        XCTAssertEqual(plan.status, 0, plan.output)
        XCTAssertTrue(plan.output.contains("--ntk-kernel traced"), plan.output)
        try (SweepTestSupport.tinyRun + "  ntk-every-epoch: true\n  ntk-kernel: diagonal\n").write(toFile: spec, atomically: true, encoding: .utf8)
        let refused = try TangentProcess.run(["sweep", spec, "--local", "--dry-run"])
        XCTAssertNotEqual(refused.status, 0, refused.output)
        XCTAssertTrue(refused.output.contains("ntk-kernel"), refused.output)
    }

    func testVersionPrintsThePackageVersion() throws {
        let result = try TangentProcess.run(["--version"])
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertEqual(result.output.trimmingCharacters(in: .whitespacesAndNewlines), TangentVersion.current)
        XCTAssertNotNil(TangentVersion.current.range(of: #"^\d+\.\d+\.\d+$"#, options: .regularExpression), TangentVersion.current)
        XCTAssertTrue(try TangentProcess.run(["--help"]).output.contains("--version"))
    }
}
