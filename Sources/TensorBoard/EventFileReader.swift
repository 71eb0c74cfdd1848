import Foundation

/// Reads event files back: every record's checksums are verified and every event decoded (the fields
/// ``TensorBoardEvent`` describes). For tests and tools; TensorBoard has its own reader.
public enum EventFileReader {
    /// The events of the file at `path` (a regular file; anything else is refused without blocking).
    public static func events(inFile path: String) throws -> [TensorBoardEvent] {
        let attributes: [FileAttributeKey: Any]
        do { attributes = try FileManager.default.attributesOfItem(atPath: path) }
        catch { throw EventFileError("cannot read \(path): \(error.localizedDescription)") }
        guard attributes[.type] as? FileAttributeType == .typeRegular else {
            throw EventFileError("\(path) is not a regular file")
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw EventFileError("cannot read \(path)") }
        return try events(in: [UInt8](data), source: path)
    }

    /// The events of the records in `bytes` (`source` names them in errors).
    public static func events(in bytes: [UInt8], source: String) throws -> [TensorBoardEvent] {
        try TFRecord.payloads(in: bytes, source: source).enumerated().map { i, payload in
            do { return try TensorBoardEvent(decoding: payload) }
            catch let error as EventFileError { throw EventFileError("\(source), record \(i + 1): \(error.description)") }
        }
    }

    /// The events of every event file in `directory`, file after file in name order (TensorBoard's order).
    public static func events(inDirectory directory: String) throws -> [TensorBoardEvent] {
        try EventFileWriter.eventFiles(in: directory).flatMap { try events(inFile: (directory as NSString).appendingPathComponent($0)) }
    }
}
