/// Reads protocol-buffer fields back, bounds-checked: a malformed message is an error, never a trap.
struct ProtobufReader {
    /// One field: its number and its value by wire type.
    enum Field {
        case varint(Int, UInt64)
        case fixed64(Int, UInt64)
        case lengthDelimited(Int, [UInt8])
        case fixed32(Int, UInt32)

        /// The field number.
        var number: Int {
            switch self {
            case .varint(let n, _), .fixed64(let n, _), .lengthDelimited(let n, _), .fixed32(let n, _): return n
            }
        }
    }

    private let bytes: [UInt8]
    private var offset = 0
    /// What is being read, for errors (`an Event`, `a HistogramProto`).
    private let context: String

    init(_ bytes: [UInt8], context: String) {
        self.bytes = bytes
        self.context = context
    }

    /// Every field of the message, in order.
    static func fields(of bytes: [UInt8], context: String) throws -> [Field] {
        var reader = ProtobufReader(bytes, context: context)
        var fields: [Field] = []
        while let field = try reader.next() { fields.append(field) }
        return fields
    }

    /// The next field, or nil at the end of the message.
    mutating func next() throws -> Field? {
        guard offset < bytes.count else { return nil }
        let key = try varint()
        let number = Int(key >> 3)
        guard number > 0, number < 1 << 29 else { throw malformed("field number \(key >> 3)") }
        switch key & 7 {
        case 0: return .varint(number, try varint())
        case 1: return .fixed64(number, try fixed(8))
        case 2:
            let length = try varint()
            guard length <= UInt64(bytes.count - offset) else { throw malformed("a field of \(length) bytes past the end") }
            let value = Array(bytes[offset..<offset + Int(length)])
            offset += Int(length)
            return .lengthDelimited(number, value)
        case 5: return .fixed32(number, UInt32(try fixed(4)))
        default: throw malformed("wire type \(key & 7) of field \(number)")
        }
    }

    private mutating func varint() throws -> UInt64 {
        var value: UInt64 = 0
        for shift in stride(from: 0, to: 70, by: 7) {
            guard offset < bytes.count else { throw malformed("a varint cut short") }
            let byte = bytes[offset]
            offset += 1
            guard shift < 63 || byte <= 1 else { throw malformed("a varint longer than 64 bits") }
            value |= UInt64(byte & 0x7F) << UInt64(shift)
            if byte & 0x80 == 0 { return value }
        }
        throw malformed("a varint longer than ten bytes")
    }

    private mutating func fixed(_ count: Int) throws -> UInt64 {
        guard bytes.count - offset >= count else { throw malformed("a \(count * 8)-bit value cut short") }
        let value = (0..<count).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << ($1 * 8) }
        offset += count
        return value
    }

    private func malformed(_ what: String) -> EventFileError {
        EventFileError("\(context) is malformed at byte \(offset): \(what)")
    }

    /// The values of a packed `repeated double` field.
    static func packedDoubles(_ bytes: [UInt8], context: String) throws -> [Double] {
        guard bytes.count % 8 == 0 else { throw EventFileError("\(context): a packed double field of \(bytes.count) bytes") }
        return stride(from: 0, to: bytes.count, by: 8).map { start in
            Double(bitPattern: (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[start + $1]) << ($1 * 8) })
        }
    }
}
