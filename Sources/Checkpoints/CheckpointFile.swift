/// Checkpoint files: a safetensors-layout payload inside one checksummed zstd frame, written atomically.
public enum CheckpointFile {
    /// The default zstd compression level.
    public static let defaultLevel = 3

    /// The complete file bytes for `checkpoint`: the encoded payload compressed into one zstd frame with the
    /// content size and content checksum recorded.
    public static func encode(_ checkpoint: Checkpoint, level: Int = defaultLevel) throws -> [UInt8] {
        try ZstdFrame.compress(SafeTensorsCodec.encode(checkpoint), level: level)
    }

    /// Wraps an already encoded payload in one zstd frame with content size and checksum (no validation of
    /// the payload; for tools and tests).
    public static func compress(payload: [UInt8], level: Int = defaultLevel) throws -> [UInt8] {
        try ZstdFrame.compress(payload, level: level)
    }

    /// The payload inside file bytes, after the strict frame checks (one frame, content size and checksum
    /// present, nothing trailing, checksum verified) but without decoding it.
    public static func decompress(fileBytes: [UInt8]) throws -> [UInt8] {
        try ZstdFrame.decompress(fileBytes)
    }

    /// Decodes complete file bytes (zstd frame, then payload), validating both strictly.
    /// - Parameters:
    ///   - fileBytes: the whole file.
    ///   - path: used only to attribute errors.
    public static func decode(fileBytes: [UInt8], path: String? = nil) throws -> Checkpoint {
        do {
            return try SafeTensorsCodec.decode(ZstdFrame.decompress(fileBytes))
        } catch let error as CheckpointError {
            throw path.map { error.at(path: $0) } ?? error
        }
    }

    /// Writes `checkpoint` to `path` atomically: a temporary file `.NAME.tmp-PID` in the same directory is
    /// written and fsynced, renamed over `path`, and the directory is fsynced. Readers never observe a
    /// partial file. One writer per path at a time.
    public static func write(_ checkpoint: Checkpoint, to path: String, level: Int = defaultLevel) throws {
        do {
            try FileSystem.writeAtomically(encode(checkpoint, level: level), to: path)
        } catch let error as CheckpointError {
            throw error.at(path: path)
        }
    }

    /// Reads and validates the checkpoint at `path`.
    /// - Throws: ``CheckpointError`` naming `path`.
    public static func read(path: String) throws -> Checkpoint {
        try decode(fileBytes: FileSystem.readAll(path), path: path)
    }
}
