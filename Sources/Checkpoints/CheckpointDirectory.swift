#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A folder of step-numbered checkpoint files, `step-00001200.safetensors.zst`, with keep-last pruning and
/// loading that falls back to an older file when the newest one is unreadable.
///
/// Files not matching the naming scheme are ignored. Temporary files left by interrupted writes
/// (`.step-….tmp-PID`) are never listed, and are deleted by ``save(_:step:)`` once their writer process
/// no longer exists. One writer per directory at a time.
public struct CheckpointDirectory: Sendable {
    /// One checkpoint file in the directory.
    public struct Entry: Sendable, Equatable {
        /// The training step encoded in the file name.
        public let step: Int
        /// The file's path (the directory path joined with the file name).
        public let path: String
    }

    /// A checkpoint loaded by ``loadLatestValid(log:)``.
    public struct Loaded: Sendable {
        /// The file it came from.
        public let entry: Entry
        /// Its contents.
        public let checkpoint: Checkpoint
        /// Newer files that were skipped, with the reason each could not be read (newest first).
        public let skipped: [CheckpointError]
    }

    /// File name prefix.
    public static let prefix = "step-"
    /// File name extension: the payload is safetensors, compressed with zstd.
    public static let fileExtension = ".safetensors.zst"

    /// The directory's path.
    public let path: String
    /// How many of the newest checkpoints ``save(_:step:)`` keeps (at least 1).
    public let keepLast: Int
    /// The zstd level used by ``save(_:step:)``.
    public let compressionLevel: Int

    /// A directory handle; nothing is created until the first ``save(_:step:)``.
    /// - Parameters:
    ///   - path: the folder of the checkpoint files.
    ///   - keepLast: how many newest checkpoints to keep; values below 1 are treated as 1.
    ///   - compressionLevel: the zstd level of new files.
    public init(path: String, keepLast: Int = 3, compressionLevel: Int = CheckpointFile.defaultLevel) {
        self.path = path
        self.keepLast = max(1, keepLast)
        self.compressionLevel = compressionLevel
    }

    /// The file name for `step`, zero-padded to 8 digits (longer when needed): `step-00001200.safetensors.zst`.
    public static func fileName(step: Int) -> String {
        let digits = String(step)
        return prefix + String(repeating: "0", count: max(0, 8 - digits.count)) + digits + fileExtension
    }

    /// The step encoded in a checkpoint file name, or `nil` if the name does not follow the scheme.
    public static func step(fromFileName name: String) -> Int? {
        guard name.hasPrefix(prefix), name.hasSuffix(fileExtension) else { return nil }
        let digits = name.dropFirst(prefix.count).dropLast(fileExtension.count)
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(digits)
    }

    /// The path of the file for `step`.
    public func path(forStep step: Int) -> String {
        FileSystem.join(path, CheckpointDirectory.fileName(step: step))
    }

    /// The checkpoint files, sorted by step (oldest first). A missing directory has none.
    public func list() throws -> [Entry] {
        guard FileSystem.isDirectory(path) else { return [] }
        return try FileSystem.list(path)
            .compactMap { name in
                CheckpointDirectory.step(fromFileName: name).map { Entry(step: $0, path: FileSystem.join(path, name)) }
            }
            .sorted { $0.step < $1.step }
    }

    /// The checkpoint file with the highest step, if any (not validated; see ``loadLatestValid(log:)``).
    public func latest() throws -> Entry? { try list().last }

    /// Writes `checkpoint` atomically as the file for `step` (replacing one with the same step), then
    /// deletes stale temporary files and prunes to the ``keepLast`` highest steps. The file just written is
    /// never deleted, even if higher-numbered files exist.
    @discardableResult
    public func save(_ checkpoint: Checkpoint, step: Int) throws -> Entry {
        guard step >= 0 else { throw CheckpointError(.invalidArgument, "step \(step) is negative", path: path) }
        try FileSystem.createDirectories(path)
        let entry = Entry(step: step, path: path(forStep: step))
        try CheckpointFile.write(checkpoint, to: entry.path, level: compressionLevel)
        try removeStaleTemporaryFiles()
        let entries = try list()
        for old in entries.dropLast(keepLast) where old.step != step {
            try FileSystem.remove(old.path)
        }
        return entry
    }

    /// Reads the checkpoint for `step`.
    public func load(step: Int) throws -> Checkpoint {
        try CheckpointFile.read(path: path(forStep: step))
    }

    /// The newest checkpoint that reads and validates, trying older files when newer ones are corrupt; each
    /// skipped file's reason is passed to `log` (by default written to standard error).
    /// - Returns: `nil` when the directory holds no checkpoint files.
    /// - Throws: `.noValidCheckpoint` when files exist but none can be read, listing every reason.
    public func loadLatestValid(log: (String) -> Void = CheckpointDirectory.logToStandardError) throws -> Loaded? {
        let entries = try list()
        guard !entries.isEmpty else { return nil }
        var skipped: [CheckpointError] = []
        for entry in entries.reversed() {
            do {
                let checkpoint = try CheckpointFile.read(path: entry.path)
                return Loaded(entry: entry, checkpoint: checkpoint, skipped: skipped)
            } catch let error as CheckpointError {
                skipped.append(error)
                log("skipping unreadable checkpoint (step \(entry.step)): \(error)")
            }
        }
        let reasons = skipped.map(\.description).joined(separator: "; ")
        throw CheckpointError(.noValidCheckpoint,
                              "none of the \(entries.count) checkpoint files could be read: \(reasons)", path: path)
    }

    /// Writes `message` and a newline to standard error.
    public static func logToStandardError(_ message: String) {
        let line = Array((message + "\n").utf8)
        line.withUnsafeBytes { buffer in _ = write(2, buffer.baseAddress, buffer.count) }
    }

    /// Deletes `.step-….tmp-PID` temporary files left by interrupted writes: those of processes that no
    /// longer exist, and this process's own (its current write has already been renamed into place, and
    /// there is one writer per directory).
    private func removeStaleTemporaryFiles() throws {
        _ = try FileSystem.removeTemporaryFiles(in: path, namePrefix: "." + CheckpointDirectory.prefix) { pid in
            pid == getpid() || !FileSystem.processExists(pid)
        }
    }
}
