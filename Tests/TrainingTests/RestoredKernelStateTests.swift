import Foundation
import Tangent
import XCTest

/// The kernel tracker's state inside a well-formed checkpoint is checked before use: probe indices,
/// the last kernel's step, the kernel shape and the stored kernels that are not finite, not whole, out
/// of range or inconsistent with each other, the data set or the model are refused naming the file, the
/// key and the value — before anything in the run folder is written.
final class RestoredKernelStateTests: XCTestCase {
    static func settings(epochs: Int) -> TrainingSettings { TrackedRun.settings(epochs: epochs) }

    override class func tearDown() {
        TrackedRun.remove()
        super.tearDown()
    }

    /// A copy of the trained run whose newest checkpoint is its last one with `edit` applied.
    func craftedRun(_ edit: (inout Checkpoint) throws -> Void) throws -> String {
        let dir = try TrackedRun.copy(for: self)
        var (_, checkpoint) = try TestRuns.latestCheckpoint(dir)
        try edit(&checkpoint)
        try CheckpointFile.write(checkpoint, to: dir + "/checkpoints/step-99999999.safetensors.zst")
        return dir
    }

    /// Every regular file of a run folder with its contents.
    func contents(of dir: String) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in try XCTUnwrap(FileManager.default.subpathsOfDirectory(atPath: dir)) {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: dir + "/" + name, isDirectory: &isDirectory), !isDirectory.boolValue {
                files[name] = try Data(contentsOf: URL(fileURLWithPath: dir + "/" + name))
            }
        }
        return files
    }

    /// Resuming `dir` fails with an error containing every phrase of `expected`, and leaves every file
    /// of the run folder as it was.
    func assertResumeRefused(_ dir: String, naming expected: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let before = try contents(of: dir)
        XCTAssertThrowsError(try TrainingSession.resume(from: dir, components: { _ in
            try TestRuns.mnistCNN(Self.settings(epochs: 2))
        }, callbacks: TestRuns.callbacks()), file: file, line: line) { error in
            for phrase in expected + ["step-99999999.safetensors.zst"] {
                XCTAssertTrue("\(error)".contains(phrase), "'\(error)' does not name \(phrase)", file: file, line: line)
            }
        }
        let after = try contents(of: dir)
        XCTAssertEqual(after.keys.sorted(), before.keys.sorted(), "a refused checkpoint must not add or remove files", file: file, line: line)
        for (name, data) in before where name != ".lock" {
            XCTAssertEqual(after[name], data, "a refused checkpoint must not rewrite \(name)", file: file, line: line)
        }
    }

    static let key = "callback.kernel_dynamics."

    func testProbeIndicesThatAreNotTrainingSetIndicesAreRefused() throws {
        for (value, shown) in [(Double.nan, "nan"), (1e300, "1e+300"), (-3, "-3.0"), (200, "200.0"), (2.5, "2.5")] {
            let dir = try craftedRun { c in
                try c.set(StoredTensor(name: Self.key + "probe_indices", values: [0, 1, value, 3, 4]))
            }
            try assertResumeRefused(dir, naming: ["'\(Self.key)probe_indices'[2] = \(shown)", "training-set index"])
        }
        let repeated = try craftedRun { try $0.set(StoredTensor(name: Self.key + "probe_indices", values: [0, 1, 1, 3, 4] as [Double])) }
        try assertResumeRefused(repeated, naming: ["probe_indices", "twice"])
    }

    func testLastKernelStepMustBeAStepOfTheRun() throws {
        // The checkpoint is at step 4.
        for (value, shown) in [(Double.nan, "nan"), (-1, "-1.0"), (5, "5.0"), (1e300, "1e+300")] {
            let dir = try craftedRun { try $0.set(StoredTensor(name: Self.key + "last_kernel_step", values: [value])) }
            try assertResumeRefused(dir, naming: ["'\(Self.key)last_kernel_step' = \(shown)"])
        }
    }

    func testKernelShapeMustFitTheProbeTheModelAndTheStoredKernels() throws {
        let cases: [([Double], [String])] = [
            ([1e300, 10], ["'\(Self.key)kernel_shape'[0] = 1e+300", "sample count"]),
            ([1e15, 10], ["kernel_shape'[0] = 1000000000000000 samples", "lists 5"]),
            ([5, .nan], ["'\(Self.key)kernel_shape'[1] = nan"]),
            ([5, 7], ["kernel_shape'[1] = 7 classes", "10 outputs"]),
            ([5, 0], ["kernel_shape'[1] = 0 classes", "full kernels"]),
            ([5], ["kernel_shape' holds 1 values"]),
        ]
        for (shape, expected) in cases {
            let dir = try craftedRun { try $0.set(StoredTensor(name: Self.key + "kernel_shape", values: shape)) }
            try assertResumeRefused(dir, naming: expected)
        }
    }

    func testStoredKernelsMustHaveTheProbesSizeAndFiniteEntries() throws {
        // K₀ of 20 samples against 5 probe indices: the shape that describes it, then the kernel alone.
        let twenty = [Float](repeating: 0.5, count: 200 * 200)
        let described = try craftedRun { c in
            try c.set(StoredTensor(name: Self.key + "initial_kernel", values: twenty, shape: [200, 200]))
            try c.set(StoredTensor(name: Self.key + "kernel_shape", values: [20, 10] as [Double]))
        }
        try assertResumeRefused(described, naming: ["kernel_shape'[0] = 20 samples", "probe_indices' lists 5"])
        let alone = try craftedRun { try $0.set(StoredTensor(name: Self.key + "initial_kernel", values: twenty, shape: [200, 200])) }
        try assertResumeRefused(alone, naming: ["'\(Self.key)initial_kernel' has shape [200, 200]", "50×50"])
        let notSquare = try craftedRun {
            try $0.set(StoredTensor(name: Self.key + "previous_kernel", values: [Float](repeating: 1, count: 2500), shape: [25, 100]))
        }
        try assertResumeRefused(notSquare, naming: ["previous_kernel' has shape [25, 100]"])

        // Kernels embedded the way older checkpoints hold them.
        let nonFinite = try craftedRun { c in
            var values = [Float](repeating: 0.5, count: 50 * 50)
            try c.set(StoredTensor(name: Self.key + "initial_kernel", values: values, shape: [50, 50]))
            values[53] = .infinity
            try c.set(StoredTensor(name: Self.key + "previous_kernel", values: values, shape: [50, 50]))
        }
        try assertResumeRefused(nonFinite, naming: ["'\(Self.key)previous_kernel' entry (1, 3) is inf"])
    }

    /// A checkpoint references K₀ and the newest kernel (the index's first and last snapshots) by file
    /// name and checksum instead of embedding them; a referenced file that is damaged, replaced or gone,
    /// or a checksum that is not one, is refused before anything is written.
    func testReferencedKernelsMustBeTheRunsFilesUnchanged() throws {
        let dir = try craftedRun { _ in }
        let (_, checkpoint) = try TestRuns.latestCheckpoint(dir)
        XCTAssertNil(checkpoint[Self.key + "initial_kernel"], "K₀ is referenced, not embedded")
        XCTAssertNil(checkpoint[Self.key + "previous_kernel"])
        let index = try XCTUnwrap(try KernelSnapshotStore.readIndex(runDirectory: dir))
        XCTAssertEqual(index.snapshots.map(\.step), [0, 4])
        for snapshot in index.snapshots {
            let bytes = try PlainFile.read(dir + "/kernels/" + snapshot.file)
            XCTAssertEqual(snapshot.checksum, KernelFile.checksum(of: bytes), snapshot.file)
        }

        let damaged = try craftedRun { _ in }
        var bytes = try PlainFile.read(damaged + "/kernels/step-00000000.safetensors.zst")
        bytes[bytes.count / 2] ^= 0x40
        try PlainFile.writeAtomically(bytes, to: damaged + "/kernels/step-00000000.safetensors.zst")
        try assertResumeRefused(damaged, naming: ["step-00000000.safetensors.zst", "MD5", "replaced or damaged"])

        let gone = try craftedRun { _ in }
        try FileManager.default.removeItem(atPath: gone + "/kernels/step-00000004.safetensors.zst")
        try assertResumeRefused(gone, naming: ["references kernels that cannot be used", "step-00000004.safetensors.zst"])

        let notChecksum = try craftedRun { c in
            let json = try XCTUnwrap(c.metadata[Self.key + "index"])
            var object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
            var snapshots = object["snapshots"] as! [[String: Any]]
            snapshots[0]["checksum"] = "../../etc/passwd"
            object["snapshots"] = snapshots
            c.metadata[Self.key + "index"] = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        }
        try assertResumeRefused(notChecksum, naming: ["'checksum' = '../../etc/passwd'", "not an MD5 digest"])
    }

    func testSnapshotIndexAndKindMustAgreeWithTheState() throws {
        func editIndex(_ change: @escaping (inout [String: Any]) -> Void) throws -> String {
            try craftedRun { c in
                let json = try XCTUnwrap(c.metadata[Self.key + "index"])
                var object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
                change(&object)
                c.metadata[Self.key + "index"] = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
            }
        }
        let escaping = try editIndex { object in
            var snapshots = object["snapshots"] as! [[String: Any]]
            snapshots[0]["file"] = "../../elsewhere.safetensors.zst"
            object["snapshots"] = snapshots
        }
        try assertResumeRefused(escaping, naming: ["'../../elsewhere.safetensors.zst'", "not a file name inside the kernels folder"])
        let otherProbe = try editIndex { $0["probe"] = [0, 1, 2, 3, 9] }
        try assertResumeRefused(otherProbe, naming: ["index' has probe [0, 1, 2, 3, 9]"])
        let later = try editIndex { object in
            var snapshots = object["snapshots"] as! [[String: Any]]
            snapshots[1]["step"] = 40
            object["snapshots"] = snapshots
        }
        try assertResumeRefused(later, naming: ["index' ends at step 40"])

        let kind = try craftedRun { $0.metadata[Self.key + "kind"] = "sideways" }
        try assertResumeRefused(kind, naming: ["'\(Self.key)kind' = 'sideways'"])
    }

    /// State restored through the callback's own API (no checkpoint, no run to check against) is
    /// checked on its own at once, and against the data when training starts — never trapping.
    func testCallbackRestoreChecksAloneAndAgainstTheDataAtFitStart() throws {
        let tracking = KernelTrackingConfiguration(everyEpoch: true, probeSize: 5)
        var state = CallbackState()
        state.strings["kind"] = "full"
        state.doubles["probe_indices"] = [0, .nan]
        XCTAssertThrowsError(try KernelDynamicsCallback(configuration: tracking, runDirectory: TestRuns.folder(for: self))
            .restoreState(state)) { XCTAssertTrue("\($0)".contains("probe_indices'[1] = nan"), "\($0)") }

        // Whole, non-negative indices pass alone; index 300 then meets a training set of 200 images.
        state.doubles["probe_indices"] = [0, 300]
        let folder = TestRuns.folder(for: self)
        let tracker = KernelDynamicsCallback(configuration: tracking, runDirectory: folder)
        try tracker.restoreState(state)
        let loop = try TestRuns.loop(try TestRuns.mnistCNN(Self.settings(epochs: 1)), in: folder)
        loop.callbacks = [tracker]
        XCTAssertThrowsError(try loop.fit()) { XCTAssertTrue("\($0)".contains("NTK probe index 300 is outside the training set (0..<200)"), "\($0)") }
        XCTAssertThrowsError(try tracker.probeInputs(loop)) { XCTAssertTrue("\($0)".contains("300"), "\($0)") }
    }
}

/// One trained run with kernel tracking, made once and copied by the tests that alter it: the full
/// kernel of a 5-image probe every epoch, 200 training images, batch 50 (4 steps an epoch), one epoch —
/// kernels at steps 0 and 4, each 50 × 50, and checkpoints at step 4.
enum TrackedRun {
    nonisolated(unsafe) private static var trained: String?

    /// The run's settings, trained for `epochs` epochs.
    static func settings(epochs: Int) -> TrainingSettings {
        var s = TestRuns.settings(epochs: epochs)
        s.kernelTracking = KernelTrackingConfiguration(everyEpoch: true, probeSize: 5)
        return s
    }

    /// A fresh copy of the trained run, removed when `test` ends.
    static func copy(for test: XCTestCase) throws -> String {
        if trained == nil || !TestRuns.exists(trained!) {
            let dir = NSTemporaryDirectory() + "tangent-tracked-run-\(UUID().uuidString)"
            try TrainingSession.start(try TestRuns.mnistCNN(settings(epochs: 1)), runDirectory: dir,
                                      callbacks: TestRuns.callbacks()).fit()
            trained = dir
        }
        let copy = TestRuns.folder(for: test)
        try FileManager.default.copyItem(atPath: trained!, toPath: copy)
        return copy
    }

    /// Deletes the trained run (a later copy trains it again).
    static func remove() {
        if let trained { try? FileManager.default.removeItem(atPath: trained) }
        trained = nil
    }
}
