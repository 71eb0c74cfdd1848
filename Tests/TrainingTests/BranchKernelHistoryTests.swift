import Foundation
import Tangent
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// A branch (`tangent train --resume … --run-dir BRANCH`) owns the kernels its history needs: its
/// `kernels/index.json` lists only files its own `kernels/` folder holds, so `tangent analyze BRANCH`
/// covers the inherited epochs, works after the original run is deleted, and overlays with the original.
/// All through the real `tangent` process.
final class BranchKernelHistoryTests: XCTestCase {
    /// Four steps an epoch, the full kernel of a four-image probe after every epoch (and K₀).
    static let tracked = CommandLineOptionTests.small + ["--ntk-every-epoch", "--ntk-probe-size", "4"]

    /// Trains the original run: two epochs, kernels at steps 0, 4 and 8.
    func trainParent(_ folder: String) throws {
        let trained = try TangentProcess.run(["train"] + Self.tracked + ["--epochs", "2", "--run-dir", folder])
        XCTAssertEqual(trained.status, 0, trained.output)
    }

    /// Runs `tangent analyze ARGUMENTS` and checks it succeeded.
    func analyze(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let result = try TangentProcess.run(["analyze"] + arguments)
        XCTAssertEqual(result.status, 0, result.output, file: file, line: line)
        return result.output
    }

    /// The all-pairs kernel distances of a run's `analysis/analysis.json`, with its kernel epochs.
    func distances(_ run: String) throws -> (times: [Int], matrix: [[Double]]) {
        let json = try CommandLineOptionTests.json(run + "/analysis/analysis.json")
        return (try XCTUnwrap(json["times"] as? [Int]), try XCTUnwrap(json["kernel_distance"] as? [[Double]]))
    }

    func inode(_ path: String) throws -> Int {
        try XCTUnwrap(try FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? Int)
    }

    func testALinearizedBranchHoldsItsInheritedKernelsAndAnalysesAloneAndBesideItsParent() throws {
        let root = TangentProcess.temporaryFolder(for: self, prefix: "tangent-branch-kernels")
        let parent = root + "/parent", branch = root + "/branch"
        try trainParent(parent)
        // Branch at the end of epoch 1, linearized from there on, trained to epoch 3.
        let branched = try TangentProcess.run(["train", "--resume", parent + "/checkpoints/step-00000004.safetensors.zst",
                                               "--linearize-at-epoch", "1", "--epochs", "3", "--run-dir", branch])
        XCTAssertEqual(branched.status, 0, branched.output)
        XCTAssertFalse(branched.output.contains("note: the branch's kernel"), branched.output)

        // The index lists the inherited kernels (epochs 0 and 1, not the original's epoch 2) and the
        // branch's own, and every file it names is in the branch's folder.
        let index = try XCTUnwrap(try KernelSnapshotStore.readIndex(runDirectory: branch))
        XCTAssertEqual(index.snapshots.map(\.epoch), [0, 1, 2, 3])
        XCTAssertEqual(index.snapshots.map(\.step), [0, 4, 8, 12])
        let listed = Set(index.snapshots.map(\.file))
        let present = Set(try FileManager.default.contentsOfDirectory(atPath: branch + "/kernels")).subtracting(["index.json"])
        XCTAssertEqual(present, listed)
        // The inherited files are the original's (hard links on one file system); epoch 2 is the branch's own.
        for step in [0, 4] {
            let name = KernelSnapshotStore.fileName(step: step)
            XCTAssertEqual(try inode(branch + "/kernels/" + name), try inode(parent + "/kernels/" + name), name)
        }
        let ownEpoch2 = KernelSnapshotStore.fileName(step: 8)
        XCTAssertNotEqual(try inode(branch + "/kernels/" + ownEpoch2), try inode(parent + "/kernels/" + ownEpoch2))

        _ = try analyze([parent])
        _ = try analyze([branch])
        let original = try distances(parent), continued = try distances(branch)
        XCTAssertEqual(original.times, [0, 1, 2])
        XCTAssertEqual(continued.times, [0, 1, 2, 3])
        XCTAssertEqual(continued.matrix.count, 4)
        // The inherited stretch is the original's; after linearization the kernel is that at epoch 1.
        XCTAssertEqual(continued.matrix[0][1], original.matrix[0][1])
        XCTAssertGreaterThan(continued.matrix[0][1], 0)
        for (s, t) in [(1, 2), (1, 3), (2, 3)] {
            XCTAssertLessThan(abs(continued.matrix[s][t]), 1e-6, "the linearized branch's kernel moved between epochs \(s) and \(t)")
        }

        // Both runs on one chart: the kernels are comparable (same probe and kind) and overlaid.
        let comparisonFolder = root + "/comparison"
        let compared = try analyze([parent, branch, "--out", comparisonFolder])
        XCTAssertFalse(compared.contains("kernels not overlaid"), compared)
        let rows = try String(contentsOfFile: comparisonFolder + "/comparison.csv", encoding: .utf8)
            .split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        func epochs(_ run: String) -> [String] { rows.filter { $0[0] == run && $0[1] == "kernel_distance_to_initial" }.map { $0[2] } }
        XCTAssertEqual(epochs("parent"), ["0", "1", "2"])
        XCTAssertEqual(epochs("branch"), ["0", "1", "2", "3"])
        XCTAssertTrue(FileManager.default.fileExists(atPath: comparisonFolder + "/kernel_distance_to_initial.svg"))

        // The branch does not depend on the original's folder.
        try FileManager.default.removeItem(atPath: parent)
        try FileManager.default.removeItem(atPath: branch + "/analysis")
        _ = try analyze([branch])
        XCTAssertEqual(try distances(branch).matrix, continued.matrix)
    }

    /// Across file systems the kernels cannot be linked: they are copied.
    func testABranchOnAnotherFileSystemCopiesTheKernels() throws {
        let root = TangentProcess.temporaryFolder(for: self, prefix: "tangent-branch-copy")
        let device = { (path: String) -> UInt64? in
            var status = stat()
            return stat(path, &status) == 0 ? UInt64(status.st_dev) : nil
        }
        guard let memory = device("/dev/shm"), let temporary = device(NSTemporaryDirectory()), memory != temporary else {
            throw XCTSkip("/dev/shm is not a file system of its own here")
        }
        let parent = "/dev/shm/tangent-branch-copy-\(UUID().uuidString)", branch = root + "/branch"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: parent) }
        try trainParent(parent)
        let branched = try TangentProcess.run(["train", "--resume", parent, "--epochs", "3", "--run-dir", branch])
        XCTAssertEqual(branched.status, 0, branched.output)
        for step in [0, 4, 8] {
            let name = KernelSnapshotStore.fileName(step: step)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: branch + "/kernels/" + name)),
                           try Data(contentsOf: URL(fileURLWithPath: parent + "/kernels/" + name)), name)
        }
        try FileManager.default.removeItem(atPath: parent)
        _ = try analyze([branch])
        XCTAssertEqual(try distances(branch).times, [0, 1, 2, 3])
    }

    /// A checkpoint references its run's kernels; copied out of the run folder it cannot be branched
    /// from (its K₀ is not beside it), and the refusal creates nothing.
    func testACheckpointFileOutsideItsRunThatReferencesKernelsIsRefused() throws {
        let root = TangentProcess.temporaryFolder(for: self, prefix: "tangent-branch-loose-ref")
        let parent = root + "/parent", branch = root + "/branch", loose = root + "/epoch2.safetensors.zst"
        try trainParent(parent)
        try FileManager.default.copyItem(atPath: parent + "/checkpoints/step-00000008.safetensors.zst", toPath: loose)
        let branched = try TangentProcess.run(["train", "--resume", loose, "--epochs", "3", "--run-dir", branch])
        XCTAssertNotEqual(branched.status, 0, branched.output)
        XCTAssertTrue(branched.output.contains("references the kernels 'step-00000000.safetensors.zst' (K₀)"), branched.output)
        XCTAssertTrue(branched.output.contains("lies outside a run folder"), branched.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: branch), "a refused branch creates no folder")
    }

    /// A checkpoint of an older Tangent embeds K₀ and the newest kernel: a branch of it outside its run
    /// folder rewrites them from the checkpoint.
    func testABranchOfACheckpointFileOutsideItsRunKeepsTheKernelsTheCheckpointHolds() throws {
        let root = TangentProcess.temporaryFolder(for: self, prefix: "tangent-branch-loose")
        let parent = root + "/parent", branch = root + "/branch", loose = root + "/epoch2.safetensors.zst"
        try trainParent(parent)
        var checkpoint = try CheckpointFile.read(path: parent + "/checkpoints/step-00000008.safetensors.zst")
        for (name, step) in [("initial_kernel", 0), ("previous_kernel", 8)] {
            let kernel = try KernelFile.read(path: parent + "/kernels/" + KernelSnapshotStore.fileName(step: step)).kernel
            try checkpoint.set(StoredTensor(name: "callback.kernel_dynamics." + name, values: kernel.values, shape: [kernel.n, kernel.n]))
        }
        try CheckpointFile.write(checkpoint, to: loose)
        let branched = try TangentProcess.run(["train", "--resume", loose, "--epochs", "3", "--run-dir", branch])
        XCTAssertEqual(branched.status, 0, branched.output)
        // K₀ and the newest kernel live in the checkpoint; the kernel of epoch 1 only in the run folder.
        XCTAssertTrue(branched.output.contains("the branch's kernels at step 0 (epoch 0), step 8 (epoch 2) are not in a run folder; written from the checkpoint"), branched.output)
        XCTAssertTrue(branched.output.contains("lacks the kernels at step 4 (epoch 1)"), branched.output)

        let index = try XCTUnwrap(try KernelSnapshotStore.readIndex(runDirectory: branch))
        XCTAssertEqual(index.snapshots.map(\.epoch), [0, 2, 3])
        for snapshot in index.snapshots {
            XCTAssertTrue(FileManager.default.fileExists(atPath: branch + "/kernels/" + snapshot.file), snapshot.file)
        }
        for step in [0, 8] {
            let name = KernelSnapshotStore.fileName(step: step)
            let rewritten = try KernelFile.read(path: branch + "/kernels/" + name)
            let original = try KernelFile.read(path: parent + "/kernels/" + name)
            XCTAssertEqual(rewritten.kernel.values, original.kernel.values, name)
            XCTAssertEqual(rewritten.metadata["epoch"], original.metadata["epoch"])
            XCTAssertEqual(rewritten.metadata["trigger"], original.metadata["trigger"])
        }

        _ = try analyze([branch])
        let analysed = try distances(branch)
        XCTAssertEqual(analysed.times, [0, 2, 3])
        XCTAssertEqual(analysed.matrix.count, 3)
    }
}
