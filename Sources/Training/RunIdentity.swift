import Checkpoints
import Datasets
import Foundation
import NN

/// Who a run is: an id given when its folder is created, and fingerprints of the model and the data
/// it trains. Written as `run.json` in the run folder and as metadata into every checkpoint, so a
/// checkpoint is only adopted by the run that wrote it (a checkpoint copied in from another run, or a
/// folder reused by another run, is refused instead of silently continuing the wrong run).
public struct RunIdentity: Codable, Equatable, Sendable {
    /// A random id given when the run folder was created.
    public var runID: String
    /// Digest of the model's parameter names and shapes (``fingerprint(of:)-(Module)``).
    public var modelFingerprint: String
    /// Digest of the training and test sets (``fingerprint(of:)-(TrainingData)``).
    public var dataFingerprint: String
    /// The run and checkpoint a branch continued from (nil for a run started from scratch).
    public var parent: Parent?
    /// True for a folder written before run identities existed: its checkpoints carry no run id and are
    /// adopted as they are.
    public var adoptedLegacyRun: Bool

    /// Where a branched run came from.
    public struct Parent: Codable, Equatable, Sendable {
        /// The original run's id (nil when its checkpoint carries none).
        public var runID: String?
        /// The checkpoint file continued from.
        public var checkpoint: String
    }

    /// The file in a run folder that holds the identity.
    public static let fileName = "run.json"
    /// Checkpoint metadata keys.
    static let runIDKey = "run_id", modelKey = "model_fingerprint", dataKey = "data_fingerprint"

    /// A new identity with a fresh random id for a run of `model` on `data`.
    public init(model: Module, data: TrainingData, parent: Parent? = nil, adoptedLegacyRun: Bool = false) {
        runID = UUID().uuidString.lowercased()
        modelFingerprint = Self.fingerprint(of: model)
        dataFingerprint = Self.fingerprint(of: data)
        self.parent = parent
        self.adoptedLegacyRun = adoptedLegacyRun
    }

    /// A digest of every parameter's name and shape, in order.
    public static func fingerprint(of model: Module) -> String {
        var digest = MD5()
        for (name, p) in model.namedParameters {
            digest.update(Array("\(name) \(p.value.shape.map(String.init).joined(separator: "x"))\n".utf8))
        }
        return digest.hexDigest()
    }

    /// A digest of both splits: counts, image shapes, every label and an evenly spaced sample of at
    /// most a million pixel values per split, so data sets of equal size with other contents differ
    /// while a whole CIFAR-10 digests in milliseconds. A relocated copy of the same files digests alike.
    public static func fingerprint(of data: TrainingData) -> String {
        var digest = MD5()
        for set in [data.train, data.test] {
            digest.update(Array("\(set.count) \(set.channels)x\(set.height)x\(set.width)\n".utf8))
            set.labels.withUnsafeBytes { digest.update($0) }
            let stride = max(1, set.images.count / 1_000_000)
            let sample = Swift.stride(from: 0, to: set.images.count, by: stride).map { set.images[$0].bitPattern.littleEndian }
            sample.withUnsafeBytes { digest.update($0) }
        }
        return digest.hexDigest()
    }

    /// The identity stored in `directory`, or nil when the folder has none (a folder written before
    /// identities existed, or not a run folder).
    public static func read(from directory: String) throws -> RunIdentity? {
        let path = (directory as NSString).appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let data = Data(try PlainFile.read(path))  // refuses a FIFO or device instead of waiting on it
        do { return try JSONDecoder().decode(RunIdentity.self, from: data) }
        catch { throw ConfigurationError("\(path) is not a run identity file (\(error))") }
    }

    /// Writes the identity as `run.json` in `directory` (atomically).
    public func write(to directory: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let path = (directory as NSString).appendingPathComponent(Self.fileName)
        try encoder.encode(self).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// Stores the identity in a checkpoint's metadata.
    func stamp(_ checkpoint: inout Checkpoint) {
        checkpoint.metadata[Self.runIDKey] = runID
        checkpoint.metadata[Self.modelKey] = modelFingerprint
        checkpoint.metadata[Self.dataKey] = dataFingerprint
    }

    /// Checks that `checkpoint` (at `path`) was written by this run, and that the model and data about
    /// to continue it are the ones it trained: the error names what differs.
    func checkAdoption(of checkpoint: Checkpoint, path: String, model: Module, data: TrainingData, folder: String) throws {
        guard let id = checkpoint.metadata[Self.runIDKey] else {
            guard adoptedLegacyRun else {
                throw CheckpointStateError(path: path, "carries no run id, but the run folder \(folder) belongs to run \(runID): it was not written by this run")
            }
            return
        }
        guard id == runID else {
            throw CheckpointStateError(path: path, "belongs to run \(id), but the run folder \(folder) belongs to run \(runID) (\(Self.fileName)); it was copied in from another run — resume that run, or branch from the file into a new folder")
        }
        try Self.checkFingerprints(of: checkpoint, path: path, model: model, data: data)
    }

    /// Checks the model and data fingerprints a checkpoint carries (if any) against `model` and `data`.
    static func checkFingerprints(of checkpoint: Checkpoint, path: String, model: Module, data: TrainingData) throws {
        if let stored = checkpoint.metadata[modelKey], stored != fingerprint(of: model) {
            throw CheckpointStateError(path: path, "was written for another model (fingerprint \(stored), this model's is \(fingerprint(of: model)))")
        }
        if let stored = checkpoint.metadata[dataKey], stored != fingerprint(of: data) {
            throw CheckpointStateError(path: path, "was trained on other data (fingerprint \(stored), the data given now: \(fingerprint(of: data)) from \(data.source)); continue it on the same training and test sets and subsets")
        }
    }
}
