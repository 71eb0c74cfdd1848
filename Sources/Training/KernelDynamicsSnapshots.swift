import Checkpoints
import Datasets
import Foundation
import NTK
#if canImport(Glibc)
import Glibc
#endif

/// A kernel matrix in a checkpoint-format file (zstd frame around a safetensors payload): the tensor
/// `kernel` ([n, n], F32, rows sample-major for a full kernel) plus string metadata `kind`
/// (`full`/`traced`), `samples` and, for a full kernel, `classes`. Any safetensors reader opens it
/// after `zstd -d`.
public enum KernelFile {
    /// The name of the kernel tensor.
    public static let tensorName = "kernel"
    /// zstd level used for kernels: Float kernels compress little, and the fastest level gets nearly
    /// the ratio of slower ones.
    public static let compressionLevel = 1

    /// The checkpoint holding `kernel`, its descriptors and `metadata` (plus any extra tensors, e.g.
    /// the probe inputs).
    public static func checkpoint(_ kernel: KernelMatrix, metadata: [String: String] = [:],
                                  extraTensors: [StoredTensor] = []) throws -> Checkpoint {
        var meta = metadata
        meta["kind"] = kernel.isFull ? KernelKind.full.rawValue : KernelKind.traced.rawValue
        meta["samples"] = String(kernel.sampleCount ?? kernel.n)
        if let classes = kernel.classCount { meta["classes"] = String(classes) }
        var file = Checkpoint(metadata: meta)
        try file.append(StoredTensor(name: tensorName, values: kernel.values, shape: [kernel.n, kernel.n]))
        for tensor in extraTensors { try file.append(tensor) }
        return file
    }

    /// Writes `kernel` to `path` atomically (see ``checkpoint(_:metadata:extraTensors:)``) and returns
    /// the MD5 hex digest of the file's bytes (see ``checksum(of:)``).
    @discardableResult
    public static func write(_ kernel: KernelMatrix, metadata: [String: String] = [:],
                             extraTensors: [StoredTensor] = [], to path: String) throws -> String {
        let bytes = try CheckpointFile.encode(checkpoint(kernel, metadata: metadata, extraTensors: extraTensors),
                                              level: compressionLevel)
        try PlainFile.writeAtomically(bytes, to: path)
        return checksum(of: bytes)
    }

    /// The checksum an index and a checkpoint record for a kernel file: the MD5 hex digest of its bytes
    /// as written (32 lowercase hex digits). It tells a file replaced or damaged since, not a forgery.
    public static func checksum(of fileBytes: [UInt8]) -> String {
        MD5.hexDigest(of: fileBytes)
    }

    /// Whether `text` has the form of a ``checksum(of:)``.
    static func isChecksum(_ text: String) -> Bool {
        text.utf8.count == 32 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    /// The kernel stored in `file`: a non-empty square matrix of finite values whose descriptors
    /// (`samples`, `classes`), when present, are positive and multiply to its side.
    public static func kernel(in file: Checkpoint, path: String) throws -> KernelMatrix {
        guard let tensor = file[tensorName] else {
            throw ConfigurationError("\(path) holds no '\(tensorName)' tensor: not a kernel file")
        }
        guard tensor.shape.count == 2, tensor.shape[0] == tensor.shape[1], tensor.shape[0] > 0 else {
            throw ConfigurationError("\(path): the kernel has shape \(tensor.shape), expected a non-empty square matrix")
        }
        let n = tensor.shape[0]
        let values = try tensor.floats()
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw ConfigurationError("\(path): kernel entry (\(bad / n), \(bad % n)) is \(values[bad]); a kernel holds finite values")
        }
        func descriptor(_ key: String) throws -> Int? {
            guard let text = file.metadata[key] else { return nil }
            guard let value = Int(text), value >= 1 else {
                throw ConfigurationError("\(path): metadata '\(key)' = '\(text)' is not a positive count")
            }
            return value
        }
        guard let samples = try descriptor("samples") else { return KernelMatrix(n: n, values: values) }
        let classes = try descriptor("classes")
        guard KernelSize.side(samples: samples, classes: classes) == n else {
            throw ConfigurationError("\(path): metadata 'samples' = \(samples) and 'classes' = \(classes.map(String.init) ?? "none") do not describe the \(n)×\(n) kernel")
        }
        return KernelMatrix(n: n, values: values, sampleCount: samples, classCount: classes)
    }

    /// Reads the kernel at `path` and the file's metadata.
    public static func read(path: String) throws -> (kernel: KernelMatrix, metadata: [String: String]) {
        let file = try CheckpointFile.read(path: path)
        return (try kernel(in: file, path: path), file.metadata)
    }
}

/// One saved kernel of a run: where it is and when it was computed.
public struct KernelSnapshot: Codable, Sendable, Equatable {
    /// Why the kernel was computed.
    public enum Trigger: String, Codable, Sendable {
        /// K_0, at the start of training.
        case initial
        /// At the end of an epoch.
        case epoch
        /// After a multiple of `everySteps` optimiser steps.
        case step
    }

    /// File name inside the run's `kernels/` folder.
    public var file: String
    /// Completed epochs when the kernel was computed.
    public var epoch: Int
    /// Completed optimiser steps when the kernel was computed.
    public var step: Int
    /// Why it was computed.
    public var trigger: Trigger
    /// Its Frobenius norm (so listings need not load it).
    public var norm: Double
    /// The MD5 digest of the file's bytes (``KernelFile/checksum(of:)``), checked whenever the file is
    /// loaded; nil in indexes written before checksums were recorded.
    public var checksum: String?

    /// A snapshot record.
    public init(file: String, epoch: Int, step: Int, trigger: Trigger, norm: Double, checksum: String? = nil) {
        self.file = file
        self.epoch = epoch
        self.step = step
        self.trigger = trigger
        self.norm = norm
        self.checksum = checksum
    }
}

/// `kernels/index.json`: the probe and kernel settings of a run's kernels, and every snapshot in order.
public struct KernelSnapshotIndex: Codable, Sendable, Equatable {
    /// Always `tangent-kernel-index`.
    public var format: String = "tangent-kernel-index"
    /// Format version (1).
    public var version: Int = 1
    /// Full or traced kernels.
    public var kind: KernelKind
    /// Whether kernels were computed on the probe's adversarial (PGD) version.
    public var adversarialProbe: Bool
    /// The probe's training-set indices.
    public var probe: [Int]
    /// N, the probe size.
    public var samples: Int
    /// C, the classes per sample of a full kernel (nil for traced kernels).
    public var classes: Int?
    /// The snapshots in the order they were computed.
    public var snapshots: [KernelSnapshot]

    /// An index with no snapshots yet.
    public init(kind: KernelKind, adversarialProbe: Bool, probe: [Int], samples: Int, classes: Int?,
                snapshots: [KernelSnapshot] = []) {
        self.kind = kind
        self.adversarialProbe = adversarialProbe
        self.probe = probe
        self.samples = samples
        self.classes = classes
        self.snapshots = snapshots
    }

    /// Pretty-printed JSON with sorted keys.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    /// Decodes index JSON and checks every value (see ``validate(path:)``), with a clear error naming `path`.
    public static func decode(_ data: Data, path: String) throws -> KernelSnapshotIndex {
        let index: KernelSnapshotIndex
        do { index = try JSONDecoder().decode(KernelSnapshotIndex.self, from: data) }
        catch { throw ConfigurationError("\(path) is not a kernel index: \(error)") }
        try index.validate(path: path)
        return index
    }

    /// The side of the kernels this index describes: `samples × classes`, or `samples` for traced kernels
    /// (0 for an index that does not pass ``validate(path:)``).
    public var kernelSide: Int { KernelSize.side(samples: samples, classes: classes) ?? 0 }

    /// Checks that the index is one Tangent writes: its format and version; a probe of `samples` distinct,
    /// non-negative indices; `classes` present exactly for full kernels; a kernel size whose bytes are
    /// representable; and snapshots whose files are plain names inside the kernels folder, at
    /// non-negative, increasing steps and epochs, with finite norms. Errors name `path`, the key and the value.
    public func validate(path: String) throws {
        func fail(_ problem: String) -> ConfigurationError { ConfigurationError("\(path): \(problem)") }
        guard format == "tangent-kernel-index" else { throw fail("'format' = '\(format)', expected 'tangent-kernel-index'") }
        guard version == 1 else { throw fail("'version' = \(version), this build reads version 1") }
        guard samples >= 1 else { throw fail("'samples' = \(samples) is not a positive count") }
        guard probe.count == samples else { throw fail("'probe' lists \(probe.count) indices but 'samples' = \(samples)") }
        if let bad = probe.first(where: { $0 < 0 }) { throw fail("'probe' holds \(bad), not a training-set index") }
        guard Set(probe).count == probe.count else { throw fail("'probe' lists an index twice") }
        switch (kind, classes) {
        case (.full, let c?) where c >= 1: break
        case (.traced, nil): break
        case (.full, _): throw fail("'classes' = \(classes.map(String.init) ?? "null") does not describe full kernels (a positive count)")
        case (.traced, let c?): throw fail("'classes' = \(c) but the kernels are traced (no classes)")
        }
        guard KernelSize.bytes(samples: samples, classes: classes) != nil else {
            throw fail("'samples' = \(samples) and 'classes' = \(classes ?? 1) describe a kernel too large to hold")
        }
        var previous: KernelSnapshot?
        for (i, snapshot) in snapshots.enumerated() {
            let entry = "snapshot \(i) ('\(snapshot.file)')"
            guard KernelSnapshotStore.isPlainFileName(snapshot.file) else {
                throw fail("\(entry) is not a file name inside the kernels folder")
            }
            guard snapshot.step >= 0, snapshot.epoch >= 0 else {
                throw fail("\(entry) has 'step' = \(snapshot.step), 'epoch' = \(snapshot.epoch); both must be at least 0")
            }
            if let previous, snapshot.step <= previous.step || snapshot.epoch < previous.epoch {
                throw fail("\(entry) at step \(snapshot.step), epoch \(snapshot.epoch) does not follow step \(previous.step), epoch \(previous.epoch)")
            }
            guard snapshot.norm.isFinite, snapshot.norm >= 0 else { throw fail("\(entry) has 'norm' = \(snapshot.norm)") }
            if let checksum = snapshot.checksum, !KernelFile.isChecksum(checksum) {
                throw fail("\(entry) has 'checksum' = '\(checksum)', not an MD5 digest (32 lowercase hex digits)")
            }
            previous = snapshot
        }
    }
}

/// Overflow-checked sizes of kernels described by sample and class counts read from files.
enum KernelSize {
    /// `samples × (classes ?? 1)`, or nil when it overflows or a count is not positive.
    static func side(samples: Int, classes: Int?) -> Int? {
        guard samples >= 1, (classes ?? 1) >= 1 else { return nil }
        let (side, overflow) = samples.multipliedReportingOverflow(by: classes ?? 1)
        return overflow ? nil : side
    }

    /// The bytes of a Float kernel of that side, or nil when they overflow.
    static func bytes(samples: Int, classes: Int?) -> Int? {
        guard let side = side(samples: samples, classes: classes) else { return nil }
        let (square, overflow) = side.multipliedReportingOverflow(by: side)
        let (bytes, overflow2) = square.multipliedReportingOverflow(by: MemoryLayout<Float>.size)
        return overflow || overflow2 ? nil : bytes
    }
}

/// The `kernels/` folder of a run: one zstd-compressed kernel file per snapshot
/// (`step-00000200.safetensors.zst`) and `index.json` listing them, so analysis after the run loads
/// kernels one at a time and never needs all of them in memory.
public struct KernelSnapshotStore: Sendable {
    /// The `kernels/` folder.
    public let directory: String
    /// The index as last written.
    public private(set) var index: KernelSnapshotIndex

    /// The folder name inside a run folder.
    public static let folderName = "kernels"
    /// The index file name inside the folder.
    public static let indexName = "index.json"

    /// A store for a run folder, starting from `index` (empty for a new run, restored on resume).
    public init(runDirectory: String, index: KernelSnapshotIndex) {
        directory = (runDirectory as NSString).appendingPathComponent(Self.folderName)
        self.index = index
    }

    /// The file name of the kernel computed after `step` optimiser steps.
    public static func fileName(step: Int) -> String {
        String(format: "step-%08d.safetensors.zst", step)
    }

    /// Saves a kernel (metadata: epoch, step, kind, trigger, the probe indices; `extraTensors` stored in
    /// the same file, e.g. the probe inputs) and rewrites the index.
    @discardableResult
    public mutating func append(_ kernel: KernelMatrix, epoch: Int, step: Int, trigger: KernelSnapshot.Trigger,
                                extraTensors: [StoredTensor] = []) throws -> KernelSnapshot {
        var snapshot = KernelSnapshot(file: Self.fileName(step: step), epoch: epoch, step: step, trigger: trigger,
                                      norm: kernel.frobeniusNorm)
        snapshot.checksum = try writeFile(kernel, for: snapshot, extraTensors: extraTensors)
        index.snapshots.removeAll { $0.file == snapshot.file }
        index.snapshots.append(snapshot)
        try writeIndex()
        return snapshot
    }

    /// Writes `kernel` as the file of `snapshot` (metadata: its epoch, step and trigger, and the index's
    /// probe) without touching the index; returns the file's checksum.
    @discardableResult
    func writeFile(_ kernel: KernelMatrix, for snapshot: KernelSnapshot, extraTensors: [StoredTensor] = []) throws -> String {
        try RunDirectory.create(directory)
        let metadata = ["epoch": "\(snapshot.epoch)", "step": "\(snapshot.step)", "trigger": snapshot.trigger.rawValue,
                        "probe": index.probe.map(String.init).joined(separator: ","),
                        "adversarial_probe": "\(index.adversarialProbe)"]
        return try KernelFile.write(kernel, metadata: metadata, extraTensors: extraTensors,
                                    to: (directory as NSString).appendingPathComponent(snapshot.file))
    }

    /// Writes `index.json` atomically.
    public func writeIndex() throws {
        try RunDirectory.create(directory)
        try index.jsonData().write(to: URL(fileURLWithPath: (directory as NSString).appendingPathComponent(Self.indexName)),
                                   options: .atomic)
    }

    /// Loads one snapshot's kernel, checked against the index (see ``load(_:in:index:)``).
    public func load(_ snapshot: KernelSnapshot) throws -> KernelMatrix {
        try Self.load(snapshot, in: directory, index: index)
    }

    /// Loads one snapshot's kernel from a `kernels/` folder. The file must lie inside the folder (no
    /// symbolic link out of it), be a regular file, match the snapshot's checksum when it records one,
    /// and hold a kernel of the size `index` describes; the kernel comes back with the index's sample and
    /// class counts.
    public static func load(_ snapshot: KernelSnapshot, in directory: String, index: KernelSnapshotIndex) throws -> KernelMatrix {
        let path = try containedPath(of: snapshot, in: directory)
        let bytes = try PlainFile.read(path)
        if let expected = snapshot.checksum {
            let actual = KernelFile.checksum(of: bytes)
            guard actual == expected else {
                throw ConfigurationError("\(path): the file's MD5 is \(actual) but \(indexName) records \(expected) for it; the kernel was replaced or damaged since it was computed")
            }
        }
        let kernel = try KernelFile.kernel(in: CheckpointFile.decode(fileBytes: bytes, path: path), path: path)
        let side = index.kernelSide
        guard kernel.n == side else {
            throw ConfigurationError("\(path): the kernel is \(kernel.n)×\(kernel.n) but \(indexName) describes \(index.kind.rawValue) kernels of \(index.samples) samples\(index.classes.map { " × \($0) classes" } ?? "") (\(side)×\(side))")
        }
        if let samples = kernel.sampleCount, samples != index.samples || kernel.classCount != index.classes {
            throw ConfigurationError("\(path): the kernel's metadata describes \(samples) samples and \(kernel.classCount.map(String.init) ?? "no") classes but \(indexName) describes \(index.samples) and \(index.classes.map(String.init) ?? "no")")
        }
        return KernelMatrix(n: side, values: kernel.values, sampleCount: index.samples, classCount: index.classes)
    }

    /// The path of a snapshot's file, refused unless it resolves (following symbolic links) to a file
    /// inside `directory`.
    static func containedPath(of snapshot: KernelSnapshot, in directory: String) throws -> String {
        let indexPath = (directory as NSString).appendingPathComponent(indexName)
        guard isPlainFileName(snapshot.file) else {
            throw ConfigurationError("\(indexPath): snapshot '\(snapshot.file)' is not a file name inside the kernels folder")
        }
        let path = (directory as NSString).appendingPathComponent(snapshot.file)
        guard let folder = resolvedPath(directory) else {
            throw ConfigurationError("cannot resolve the kernels folder \(directory): \(String(cString: strerror(errno)))")
        }
        guard let file = resolvedPath(path) else {
            throw ConfigurationError("\(indexPath): snapshot '\(snapshot.file)' cannot be opened: \(String(cString: strerror(errno)))")
        }
        guard file.hasPrefix(folder.hasSuffix("/") ? folder : folder + "/") else {
            throw ConfigurationError("\(indexPath): snapshot '\(snapshot.file)' leads to \(file), outside the kernels folder \(folder)")
        }
        return path
    }

    /// Whether `name` names a file directly inside a folder: not empty, `.` or `..`, and free of `/`
    /// and NUL.
    static func isPlainFileName(_ name: String) -> Bool {
        !name.isEmpty && name != "." && name != ".." && !name.contains("/") && !name.contains("\0")
    }

    /// `path` with every symbolic link, `.` and `..` resolved, or nil (with `errno` set) when it does not exist.
    private static func resolvedPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// The index of a run folder's kernels, or nil when the run tracked none. The index must be a
    /// regular file (a FIFO is refused, not waited on) and is checked as
    /// ``KernelSnapshotIndex/validate(path:)`` describes.
    public static func readIndex(runDirectory: String) throws -> KernelSnapshotIndex? {
        let path = ((runDirectory as NSString).appendingPathComponent(folderName) as NSString)
            .appendingPathComponent(indexName)
        var status = stat()
        guard lstat(path, &status) == 0 else { return nil }
        let bytes: [UInt8]
        do { bytes = try PlainFile.read(path) }
        catch let error as CheckpointError { throw ConfigurationError("\(path): \(error.message)") }
        return try KernelSnapshotIndex.decode(Data(bytes), path: path)
    }
}
