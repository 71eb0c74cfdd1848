/// The file guarantees of checkpoints for the other files of a run (indexes, metric logs): only regular
/// files are read — a FIFO or device named like a data file is refused, never waited on — and the
/// temporary files of interrupted atomic writes can be swept away.
public enum PlainFile {
    /// The complete contents of the regular file at `path`.
    /// - Throws: ``CheckpointError`` of kind `.io` naming `path` when it is missing, unreadable or not a
    ///   regular file.
    public static func read(_ path: String) throws -> [UInt8] {
        try FileSystem.readAll(path)
    }

    /// Writes `bytes` to `path` so that readers see either the old file or the complete new one (a
    /// temporary file `.NAME.tmp-PID` beside it, fsynced, renamed into place, the folder fsynced).
    /// - Throws: ``CheckpointError`` of kind `.io` naming `path`.
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        try FileSystem.writeAtomically(bytes, to: path)
    }

    /// Deletes the temporary files that interrupted atomic writes (``CheckpointFile/write(_:to:level:)``,
    /// named `.NAME.tmp-PID`) left in `directory`, for each writer process id that `isAbandoned` accepts,
    /// and returns their paths. Other files, and anything that is not a regular file, are left alone.
    public static func removeTemporaryFiles(in directory: String, isAbandoned: (Int32) -> Bool) throws -> [String] {
        try FileSystem.removeTemporaryFiles(in: directory, isAbandoned: isAbandoned)
    }

    /// Whether a process with this id currently exists.
    public static func processExists(_ pid: Int32) -> Bool {
        FileSystem.processExists(pid)
    }
}
