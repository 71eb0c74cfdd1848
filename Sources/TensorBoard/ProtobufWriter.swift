/// The protocol-buffer wire format, written by hand for the few messages an event file holds: each field
/// is a key (field number << 3 | wire type) as a varint, then its value.
struct ProtobufWriter {
    /// Wire types of the protocol-buffer encoding.
    enum WireType: UInt64 {
        case varint = 0, fixed64 = 1, lengthDelimited = 2, fixed32 = 5
    }

    /// The message so far.
    private(set) var bytes: [UInt8] = []

    /// Base-128 varint: 7 bits a byte, least significant first, high bit set on all but the last.
    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func key(_ field: Int, _ wireType: WireType) {
        varint(UInt64(field) << 3 | wireType.rawValue)
    }

    /// A `double` field (fixed64, IEEE 754 little-endian).
    mutating func double(_ field: Int, _ value: Double) {
        key(field, .fixed64)
        bytes += TFRecord.littleEndianBytes(value.bitPattern)
    }

    /// A `float` field (fixed32, IEEE 754 little-endian).
    mutating func float(_ field: Int, _ value: Float) {
        key(field, .fixed32)
        bytes += TFRecord.littleEndianBytes(value.bitPattern)
    }

    /// An `int64`, `int32` or enum field: a varint of the two's-complement value (ten bytes when negative).
    mutating func integer(_ field: Int, _ value: Int64) {
        key(field, .varint)
        varint(UInt64(bitPattern: value))
    }

    /// A `bytes` field.
    mutating func bytes(_ field: Int, _ value: [UInt8]) {
        key(field, .lengthDelimited)
        varint(UInt64(value.count))
        bytes += value
    }

    /// A `string` field (UTF-8).
    mutating func string(_ field: Int, _ value: String) {
        bytes(field, Array(value.utf8))
    }

    /// An embedded message field.
    mutating func message(_ field: Int, _ build: (inout ProtobufWriter) -> Void) {
        var inner = ProtobufWriter()
        build(&inner)
        bytes(field, inner.bytes)
    }

    /// A packed `repeated double` field: one length-delimited run of fixed64 values.
    mutating func packedDoubles(_ field: Int, _ values: [Double]) {
        bytes(field, values.flatMap { TFRecord.littleEndianBytes($0.bitPattern) })
    }
}
