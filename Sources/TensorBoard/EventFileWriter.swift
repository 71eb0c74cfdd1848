import Foundation

/// Writes one TensorBoard event file: `DIRECTORY/events.out.tfevents.SECONDS.HOST`, a sequence of
/// ``TFRecord`` records each holding a ``TensorBoardEvent``, the first of them the file version
/// `brain.Event:2`.
///
/// TensorBoard reads every file whose name contains `tfevents` in a folder, in name order, as one run;
/// a new writer in a folder that already holds event files picks a name that sorts after theirs (later
/// seconds if need be), so its events are read last. Every ``write(_:)`` is one `write(2)` of whole
/// records with no buffering in between: a TensorBoard watching the folder sees the events as soon as the
/// call returns.
public final class EventFileWriter {
    /// The file being written.
    public let path: String
    private let handle: FileHandle

    /// What every event file's name starts with.
    public static let namePrefix = "events.out.tfevents."

    /// Creates `directory` if needed and a new event file in it, and writes the file-version event
    /// stamped `date`.
    /// - Throws: ``EventFileError`` naming the folder when it cannot be created or written.
    public init(directory: String, date: Date = Date(), host: String = EventFileWriter.hostName()) throws {
        try Self.createDirectory(directory)
        let existing = try Self.eventFiles(in: directory)
        var seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        func name(_ s: Int64) -> String { "\(Self.namePrefix)\(s).\(host)" }
        if let last = existing.last, last >= name(seconds) {
            // Later than every file already there, so TensorBoard reads this one last.
            let newest = existing.compactMap { Int64($0.dropFirst(Self.namePrefix.count).prefix { $0.isNumber }) }.max() ?? seconds
            seconds = max(seconds, newest) + 1
        }
        path = (directory as NSString).appendingPathComponent(name(seconds))
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw EventFileError("cannot create the event file \(path): \(String(cString: strerror(errno)))")
        }
        handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        try write([TensorBoardEvent(wallTime: date.timeIntervalSince1970, step: 0,
                                    payload: .fileVersion(TensorBoardEvent.currentFileVersion))])
    }

    /// Appends `events`, each framed as a record, in one write. Returns the bytes written.
    @discardableResult
    public func write(_ events: [TensorBoardEvent]) throws -> [UInt8] {
        let records = events.flatMap { TFRecord.frame($0.encoded()) }
        try write(records: records)
        return records
    }

    /// Appends already framed records (e.g. ones written before and kept), after checking that they are
    /// whole records with valid checksums holding events.
    public func write(records: [UInt8]) throws {
        _ = try EventFileReader.events(in: records, source: "the records to append to \(path)")
        do { try handle.write(contentsOf: Data(records)) }
        catch { throw EventFileError("cannot write to the event file \(path): \(error.localizedDescription)") }
    }

    /// Forces the file's contents to disk (`fsync`).
    public func synchronize() throws {
        do { try handle.synchronize() }
        catch { throw EventFileError("cannot synchronize the event file \(path): \(error.localizedDescription)") }
    }

    /// The names of the event files in `directory` (every name containing `tfevents`, as TensorBoard
    /// reads them), sorted; none when the folder does not exist.
    public static func eventFiles(in directory: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else { return [] }
        guard isDirectory.boolValue else { throw EventFileError("\(directory) is a file, not a folder") }
        do { return try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.contains("tfevents") }.sorted() }
        catch { throw EventFileError("cannot list the folder \(directory): \(error.localizedDescription)") }
    }

    /// Creates `directory` (with its parents) when missing and checks that files can be created in it, by
    /// creating and removing an empty one; the error names the folder and the reason.
    public static func createDirectory(_ directory: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw EventFileError("the TensorBoard folder \(directory) is a file, not a folder")
        }
        do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        catch { throw EventFileError("cannot create the TensorBoard folder \(directory): \(error.localizedDescription)") }
        let probe = (directory as NSString).appendingPathComponent(".write-test-\(getpid())")
        let fd = open(probe, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw EventFileError("the TensorBoard folder \(directory) is not writable: \(String(cString: strerror(errno)))")
        }
        close(fd)
        unlink(probe)
    }

    /// This machine's name as it appears in event file names (characters other than letters, digits,
    /// `-`, `_` and `.` replaced by `_`).
    public static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        let name = gethostname(&buffer, buffer.count) == 0
            ? String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
        let cleaned = String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) ? $0 : "_" })
        return cleaned.isEmpty ? "localhost" : cleaned
    }
}
