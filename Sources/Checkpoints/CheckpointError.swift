/// Any failure while building, encoding, reading or writing a checkpoint.
///
/// The description names the file path when one is known and says what is wrong in plain words, e.g.
/// `checkpoint file 'runs/a/step-00000100.safetensors.zst': zstd frame is truncated or corrupt (…)`.
public struct CheckpointError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Broad classes of failure, for callers that want to react differently to them.
    public enum Kind: String, Sendable, Equatable {
        /// The file system refused an operation (open, read, write, fsync, rename, list).
        case io
        /// The bytes are not a single, checksummed zstd frame, or the frame does not decompress cleanly.
        case compression
        /// The safetensors header is missing, too long, not JSON, or has missing / ill-typed fields.
        case header
        /// Offsets, shapes or sizes are inconsistent with each other or with the data section.
        case layout
        /// The format metadata is missing, names another format, or has an unsupported version.
        case format
        /// A tensor was built or requested inconsistently (shape vs. values, wrong dtype, duplicate name).
        case invalidTensor
        /// An argument is out of range (e.g. a negative step).
        case invalidArgument
        /// A requested tensor is not in the checkpoint.
        case missingTensor
        /// A checkpoint directory holds checkpoints but none of them could be read.
        case noValidCheckpoint
    }

    /// What went wrong, broadly.
    public var kind: Kind
    /// The problem in plain words, without the path.
    public var message: String
    /// The file the problem concerns, when known.
    public var path: String?

    /// Creates an error.
    public init(_ kind: Kind, _ message: String, path: String? = nil) {
        self.kind = kind
        self.message = message
        self.path = path
    }

    /// The same error attributed to `path` (kept if a path is already set).
    public func at(path: String) -> CheckpointError {
        var copy = self
        if copy.path == nil { copy.path = path }
        return copy
    }

    public var description: String {
        if let path { return "checkpoint file '\(path)': \(message)" }
        return "checkpoint: \(message)"
    }
}
