/// TFRecord framing, the container of TensorBoard event files: each record is its payload's length as
/// a little-endian UInt64, the masked CRC-32C of those 8 bytes (UInt32, little-endian), the payload, and
/// the payload's masked CRC-32C.
public enum TFRecord {
    /// Bytes a record adds around its payload (8 + 4 + 4).
    public static let overhead = 16

    /// The record holding `payload`.
    public static func frame(_ payload: [UInt8]) -> [UInt8] {
        var record: [UInt8] = []
        record.reserveCapacity(payload.count + overhead)
        let length = littleEndianBytes(UInt64(payload.count))
        record += length
        record += littleEndianBytes(CRC32C.maskedChecksum(length))
        record += payload
        record += littleEndianBytes(CRC32C.maskedChecksum(payload))
        return record
    }

    /// The payloads of the records in `bytes`, in order. Every length and checksum is checked; a record
    /// cut short, a wrong checksum or trailing bytes that are not a whole record are an error naming
    /// `source` and the byte offset.
    public static func payloads(in bytes: [UInt8], source: String) throws -> [[UInt8]] {
        var payloads: [[UInt8]] = []
        var offset = 0
        while offset < bytes.count {
            guard bytes.count - offset >= 12 else {
                throw EventFileError("\(source): \(bytes.count - offset) bytes at offset \(offset) are too few for a record header (12)")
            }
            let lengthBytes = bytes[offset..<offset + 8]
            guard readUInt32(bytes, at: offset + 8) == CRC32C.maskedChecksum(lengthBytes) else {
                throw EventFileError("\(source): the length checksum of the record at offset \(offset) does not match")
            }
            let length = readUInt64(bytes, at: offset)
            let available = UInt64(bytes.count - offset - 12)
            guard available >= 4, length <= available - 4 else {
                throw EventFileError("\(source): the record at offset \(offset) declares \(length) bytes but the file ends after \(available)")
            }
            let start = offset + 12, end = start + Int(length)
            let payload = Array(bytes[start..<end])
            guard readUInt32(bytes, at: end) == CRC32C.maskedChecksum(payload) else {
                throw EventFileError("\(source): the data checksum of the record at offset \(offset) does not match")
            }
            payloads.append(payload)
            offset = end + 4
        }
        return payloads
    }

    static func littleEndianBytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        (0..<T.bitWidth / 8).map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) }
    }

    private static func readUInt64(_ bytes: [UInt8], at offset: Int) -> UInt64 {
        (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << ($1 * 8) }
    }

    private static func readUInt32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[offset + $1]) << ($1 * 8) }
    }
}

/// An event file or record that cannot be written or read, described in plain words.
public struct EventFileError: Error, CustomStringConvertible {
    /// The problem, naming the file.
    public let description: String
    /// An error saying `description`.
    public init(_ description: String) { self.description = description }
}
