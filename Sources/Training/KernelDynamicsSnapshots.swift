import Checkpoints
import Foundation
import NTK

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

    /// Writes `kernel` to `path` atomically (see ``checkpoint(_:metadata:extraTensors:)``).
    public static func write(_ kernel: KernelMatrix, metadata: [String: String] = [:],
                             extraTensors: [StoredTensor] = [], to path: String) throws {
        try CheckpointFile.write(checkpoint(kernel, metadata: metadata, extraTensors: extraTensors), to: path,
                                 level: compressionLevel)
    }

    /// The kernel stored in `file`, with its descriptors checked against its shape.
    public static func kernel(in file: Checkpoint, path: String) throws -> KernelMatrix {
        guard let tensor = file[tensorName] else {
            throw ConfigurationError("\(path) holds no '\(tensorName)' tensor: not a kernel file")
        }
        guard tensor.shape.count == 2, tensor.shape[0] == tensor.shape[1] else {
            throw ConfigurationError("\(path): the kernel has shape \(tensor.shape), expected a square matrix")
        }
        let n = tensor.shape[0]
        let values = try tensor.floats()
        let samples = file.metadata["samples"].flatMap { Int($0) }
        let classes = file.metadata["classes"].flatMap { Int($0) }
        if let samples, samples * (classes ?? 1) == n {
            return KernelMatrix(n: n, values: values, sampleCount: samples, classCount: classes)
        }
        return KernelMatrix(n: n, values: values)
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

    /// Decodes index JSON, with a clear error naming `path`.
    public static func decode(_ data: Data, path: String) throws -> KernelSnapshotIndex {
        do { return try JSONDecoder().decode(KernelSnapshotIndex.self, from: data) }
        catch { throw ConfigurationError("\(path) is not a kernel index: \(error)") }
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

    /// Saves a kernel (metadata: epoch, step, kind, trigger, the probe indices) and rewrites the index.
    @discardableResult
    public mutating func append(_ kernel: KernelMatrix, epoch: Int, step: Int,
                                trigger: KernelSnapshot.Trigger) throws -> KernelSnapshot {
        try RunDirectory.create(directory)
        let name = Self.fileName(step: step)
        let metadata = ["epoch": "\(epoch)", "step": "\(step)", "trigger": trigger.rawValue,
                        "probe": index.probe.map(String.init).joined(separator: ","),
                        "adversarial_probe": "\(index.adversarialProbe)"]
        try KernelFile.write(kernel, metadata: metadata, to: (directory as NSString).appendingPathComponent(name))
        let snapshot = KernelSnapshot(file: name, epoch: epoch, step: step, trigger: trigger, norm: kernel.frobeniusNorm)
        index.snapshots.removeAll { $0.file == name }
        index.snapshots.append(snapshot)
        try writeIndex()
        return snapshot
    }

    /// Writes `index.json` atomically.
    public func writeIndex() throws {
        try RunDirectory.create(directory)
        try index.jsonData().write(to: URL(fileURLWithPath: (directory as NSString).appendingPathComponent(Self.indexName)),
                                   options: .atomic)
    }

    /// Loads one snapshot's kernel.
    public func load(_ snapshot: KernelSnapshot) throws -> KernelMatrix {
        try Self.load(snapshot, in: directory)
    }

    /// Loads one snapshot's kernel from a `kernels/` folder.
    public static func load(_ snapshot: KernelSnapshot, in directory: String) throws -> KernelMatrix {
        try KernelFile.read(path: (directory as NSString).appendingPathComponent(snapshot.file)).kernel
    }

    /// The index of a run folder's kernels, or nil when the run tracked none.
    public static func readIndex(runDirectory: String) throws -> KernelSnapshotIndex? {
        let path = ((runDirectory as NSString).appendingPathComponent(folderName) as NSString)
            .appendingPathComponent(indexName)
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try KernelSnapshotIndex.decode(data, path: path)
    }
}
