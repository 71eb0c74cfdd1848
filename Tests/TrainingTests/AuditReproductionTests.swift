import Foundation
import Tangent
import XCTest

/// Reproductions of the hardening audit that go through the real `tangent` process: data whose image
/// shape does not fit the model (also when only the test file differs — refused before any training),
/// and checkpoints with non-finite weights given to `eval` and `ntk` (refused by tensor name, non-zero
/// exit, instead of printing `nan`).
final class AuditReproductionTests: XCTestCase {
    /// A plain IDX file of unsigned bytes with the given dimensions.
    static func idx(_ dimensions: [Int], _ bytes: [UInt8]) -> Data {
        var data = Data([0, 0, 8, UInt8(dimensions.count)])
        for d in dimensions { withUnsafeBytes(of: UInt32(d).bigEndian) { data.append(contentsOf: $0) } }
        data.append(contentsOf: bytes)
        return data
    }

    /// An MNIST folder of 40 training and 10 test images, with the test images `testSide` × `testSide`.
    func mnistFolder(testSide: Int, trainSide: Int = 28) throws -> String {
        let folder = TangentProcess.temporaryFolder(for: self, prefix: "tangent-audit-data")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        func write(_ name: String, _ data: Data) throws { try data.write(to: URL(fileURLWithPath: folder + "/" + name)) }
        try write("train-images-idx3-ubyte", Self.idx([40, trainSide, trainSide], (0..<(40 * trainSide * trainSide)).map { UInt8($0 % 251) }))
        try write("train-labels-idx1-ubyte", Self.idx([40], (0..<40).map { UInt8($0 % 10) }))
        try write("t10k-images-idx3-ubyte", Self.idx([10, testSide, testSide], (0..<(10 * testSide * testSide)).map { UInt8($0 % 241) }))
        try write("t10k-labels-idx1-ubyte", Self.idx([10], (0..<10).map { UInt8($0 % 10) }))
        return folder
    }

    /// A one-epoch `tangent train` run of 100 sample images into `folder`: its newest checkpoint.
    func smallRun(in folder: String) throws -> (path: String, checkpoint: Checkpoint) {
        let trained = try TangentProcess.run(["train", "--train-subset", "100", "--test-subset", "20", "--batch-size", "50",
                                              "--epochs", "1", "--eval-train-subset", "20", "--robust-eval-subset", "0",
                                              "--run-dir", folder])
        XCTAssertEqual(trained.status, 0, trained.output)
        return try TestRuns.latestCheckpoint(folder)
    }

    func testImagesOfAnotherSizeAreRefusedBeforeTrainingWithBothShapes() throws {
        for (trainSide, testSide, split) in [(20, 20, "training"), (28, 20, "test")] {
            let data = try mnistFolder(testSide: testSide, trainSide: trainSide)
            let root = TangentProcess.temporaryFolder(for: self, prefix: "tangent-audit-run")
            let result = try TangentProcess.run(["train", "--data-dir", data, "--epochs", "1", "--batch-size", "20",
                                                 "--eval-train-subset", "20", "--robust-eval-subset", "0", "--run-dir", root])
            XCTAssertNotEqual(result.status, 0, result.output)
            XCTAssertTrue(result.output.contains("does not take the \(split) images"), result.output)
            XCTAssertTrue(result.output.contains("[1, 1, \(testSide), \(testSide)]"), result.output)
            XCTAssertFalse(result.output.contains("Backtrac"), result.output)
            XCTAssertFalse(FileManager.default.fileExists(atPath: root), "a run folder was created for data that does not fit")
        }
    }

    func testNonFiniteWeightsAreRefusedByEvalAndNTK() throws {
        let root = TangentProcess.temporaryFolder(for: self, prefix: "tangent-audit-nan")
        let (path, original) = try smallRun(in: root + "/run")
        var checkpoint = original
        var weights = try checkpoint.tensor(named: "fc1.weight").floats()
        weights[17] = .nan
        try checkpoint.set(StoredTensor(name: "fc1.weight", values: weights, shape: try checkpoint.tensor(named: "fc1.weight").shape))
        try CheckpointFile.write(checkpoint, to: path)
        for arguments in [["eval", path, "--test-subset", "10", "--steps", "1"],
                          ["ntk", path, "--probe-size", "4", "--out", root + "/k.safetensors.zst"]] {
            let result = try TangentProcess.run(arguments)
            XCTAssertNotEqual(result.status, 0, "\(arguments[0]): \(result.output)")
            XCTAssertTrue(result.output.contains("'fc1.weight' holds non-finite values"), "\(arguments[0]): \(result.output)")
            XCTAssertFalse(result.output.contains("Backtrac"), result.output)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/k.safetensors.zst"))
    }

    func testResumingALooseCheckpointFileBranchesIntoANewFolderAndWritesNothingBesideIt() throws {
        let root = TangentProcess.temporaryFolder(for: self, prefix: "tangent-audit-loose")
        let (path, _) = try smallRun(in: root + "/run")
        try FileManager.default.createDirectory(atPath: root + "/saved", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/work", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: path, toPath: root + "/saved/model.safetensors.zst")
        let resumed = try TangentProcess.run(["train", "--resume", root + "/saved/model.safetensors.zst", "--epochs", "2"],
                                             in: root + "/work")
        XCTAssertEqual(resumed.status, 0, resumed.output)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root + "/saved"), ["model.safetensors.zst"])
        let branches = try FileManager.default.contentsOfDirectory(atPath: root + "/work/checkpoints")
        XCTAssertEqual(branches.count, 1, "\(branches)")
        XCTAssertTrue(branches[0].hasPrefix("branch-"), branches[0])
        XCTAssertTrue(resumed.output.contains("(a new branch)"), resumed.output)
        let identity = try XCTUnwrap(try RunIdentity.read(from: root + "/work/checkpoints/" + branches[0]))
        XCTAssertEqual(identity.parent?.checkpoint, root + "/saved/model.safetensors.zst")
    }
}
