import Foundation
import Tangent
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// A checkpoint is only adopted by the run that wrote it: run folders carry a run id (`run.json`) that
/// every checkpoint repeats with the model's and the data's fingerprints; a checkpoint file outside a
/// run folder continues only as a new branch, and nothing is ever written beside it.
final class RunIdentityTests: XCTestCase {
    func oneEpochRun(seed: UInt64 = 7, train: Int = 200, test: Int = 50) throws -> String {
        let dir = TestRuns.folder(for: self)
        try TrainingSession.start(try TestRuns.mnistCNN(TestRuns.settings(epochs: 1, seed: seed), train: train, test: test),
                                  runDirectory: dir, callbacks: TestRuns.callbacks()).fit()
        return dir
    }

    func resume(_ path: String, into branch: String? = nil, seed: UInt64 = 7, train: Int = 200, test: Int = 50) throws -> TrainingLoop {
        try TrainingSession.resume(from: path, into: branch, components: { _ in
            try TestRuns.mnistCNN(TestRuns.settings(epochs: 2, seed: seed), train: train, test: test)
        }, callbacks: TestRuns.callbacks()).loop
    }

    func testRunsAndTheirCheckpointsCarryTheRunIdentity() throws {
        let dir = try oneEpochRun()
        let identity = try XCTUnwrap(try RunIdentity.read(from: dir))
        let (_, checkpoint) = try TestRuns.latestCheckpoint(dir)
        XCTAssertEqual(checkpoint.metadata["run_id"], identity.runID)
        XCTAssertEqual(checkpoint.metadata["model_fingerprint"], identity.modelFingerprint)
        XCTAssertEqual(checkpoint.metadata["data_fingerprint"], identity.dataFingerprint)
        XCTAssertFalse(identity.adoptedLegacyRun)
        XCTAssertNotEqual(try XCTUnwrap(try RunIdentity.read(from: try oneEpochRun())).runID, identity.runID)
    }

    func testACheckpointCopiedInFromAnotherRunIsRefused() throws {
        let mine = try oneEpochRun(seed: 7), other = try oneEpochRun(seed: 8)
        let (otherPath, _) = try TestRuns.latestCheckpoint(other)
        try FileManager.default.copyItem(atPath: otherPath, toPath: mine + "/checkpoints/step-99999999.safetensors.zst")
        let metrics = try String(contentsOfFile: mine + "/metrics.jsonl", encoding: .utf8)
        let config = try Data(contentsOf: URL(fileURLWithPath: mine + "/config.json"))
        XCTAssertThrowsError(try resume(mine, seed: 8)) { error in
            XCTAssertTrue("\(error)".contains("belongs to run"), "\(error)")
        }
        XCTAssertEqual(try String(contentsOfFile: mine + "/metrics.jsonl", encoding: .utf8), metrics)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: mine + "/config.json")), config)
    }

    func testOtherDataThanTheRunTrainedOnIsRefused() throws {
        let dir = try oneEpochRun(test: 50)
        XCTAssertThrowsError(try resume(dir, test: 40)) { error in
            XCTAssertTrue("\(error)".contains("was trained on other data"), "\(error)")
        }
    }

    func testFingerprintsSeeContentsNotOnlySizes() throws {
        let a = try TestRuns.mnist(train: 100, test: 20)
        let shifted = TrainingData(train: try TestRuns.mnist(train: 101, test: 20).train.subset(indices: Array(1...100)),
                                   test: a.test, source: "shifted")
        XCTAssertNotEqual(RunIdentity.fingerprint(of: a), RunIdentity.fingerprint(of: shifted))
        XCTAssertEqual(RunIdentity.fingerprint(of: a), RunIdentity.fingerprint(of: try TestRuns.mnist(train: 100, test: 20)))
        var rng = Xoshiro256(seed: 1)
        XCTAssertNotEqual(RunIdentity.fingerprint(of: PaperModels.mnistCNN(rng: &rng)),
                          RunIdentity.fingerprint(of: Architectures.mlp(inputs: 784, hidden: [16], outputs: 10, rng: &rng)))
    }

    func testALooseCheckpointFileContinuesOnlyAsABranchAndNothingIsWrittenBesideIt() throws {
        let dir = try oneEpochRun()
        let (path, _) = try TestRuns.latestCheckpoint(dir)
        let loose = TestRuns.folder(for: self)
        try FileManager.default.createDirectory(atPath: loose, withIntermediateDirectories: true)
        let file = loose + "/saved.safetensors.zst"
        try FileManager.default.copyItem(atPath: path, toPath: file)

        XCTAssertThrowsError(try resume(file)) { error in
            XCTAssertTrue("\(error)".contains("is not inside a run folder"), "\(error)")
        }
        let branch = TestRuns.folder(for: self)
        let loop = try resume(file, into: branch)
        try loop.fit()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: loose), ["saved.safetensors.zst"])
        let identity = try XCTUnwrap(try RunIdentity.read(from: branch))
        XCTAssertEqual(identity.parent?.checkpoint, file)
        XCTAssertEqual(identity.parent?.runID, try XCTUnwrap(try RunIdentity.read(from: dir)).runID)
        XCTAssertEqual(loop.epoch, 2)
        // The branch's metric log starts at the branch: only epoch 2's rows.
        let epochs = Set(try MetricRow.read(path: branch + "/metrics.jsonl").map(\.epoch))
        XCTAssertEqual(epochs, [2])
    }

    func testABranchIntoAFolderThatHoldsFilesIsRefused() throws {
        let dir = try oneEpochRun(), occupied = try oneEpochRun()
        let metrics = try String(contentsOfFile: occupied + "/metrics.jsonl", encoding: .utf8)
        XCTAssertThrowsError(try resume(dir, into: occupied)) { error in
            XCTAssertTrue("\(error)".contains("is not empty"), "\(error)")
        }
        XCTAssertEqual(try String(contentsOfFile: occupied + "/metrics.jsonl", encoding: .utf8), metrics)
    }

    func testAFolderWithoutIdentityAdoptsOnlyCheckpointsWithoutOne() throws {
        let dir = try oneEpochRun()
        try FileManager.default.removeItem(atPath: dir + "/" + RunIdentity.fileName)
        XCTAssertThrowsError(try resume(dir)) { error in
            XCTAssertTrue("\(error)".contains("has no run.json"), "\(error)")
        }
    }

    func testAFIFOInPlaceOfTheIdentityIsRefusedWithoutWaiting() throws {
        let dir = try oneEpochRun()
        try FileManager.default.removeItem(atPath: dir + "/" + RunIdentity.fileName)
        XCTAssertEqual(mkfifo(dir + "/" + RunIdentity.fileName, 0o644), 0)
        XCTAssertThrowsError(try resume(dir)) { error in
            XCTAssertTrue("\(error)".contains(RunIdentity.fileName), "\(error)")
        }
    }
}
