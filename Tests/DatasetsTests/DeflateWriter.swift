/// Writes raw deflate streams (RFC 1951) block by block, for crafting decompression bombs: long runs of
/// zeros cost 13 bits per 258 bytes in a fixed-Huffman block, so a few MB inflate to a GB. Written from
/// the RFC, independently of zlib.
struct DeflateWriter {
    private(set) var bytes: [UInt8] = []
    private var bitBuffer: UInt64 = 0
    private var bitCount = 0

    /// Appends `count` bits of `value`, least significant first (block headers, extra bits).
    private mutating func bits(_ value: UInt64, _ count: Int) {
        bitBuffer |= value << UInt64(bitCount)
        bitCount += count
        while bitCount >= 8 {
            bytes.append(UInt8(truncatingIfNeeded: bitBuffer))
            bitBuffer >>= 8
            bitCount -= 8
        }
    }

    /// Appends a Huffman code of `length` bits, most significant first.
    private mutating func code(_ value: UInt64, _ length: Int) {
        var reversed: UInt64 = 0
        for i in 0..<length { reversed |= ((value >> UInt64(i)) & 1) << UInt64(length - 1 - i) }
        bits(reversed, length)
    }

    private mutating func alignToByte() {
        if bitCount > 0 { bits(0, 8 - bitCount) }
    }

    /// Stored (uncompressed) blocks holding `data`.
    mutating func stored(_ data: [UInt8], final: Bool) {
        var offset = 0
        repeat {
            let length = min(65_535, data.count - offset)
            let last = final && offset + length == data.count
            bits(last ? 1 : 0, 1)
            bits(0, 2)
            alignToByte()
            bytes += [UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8((~length >> 8) & 0xFF)]
            bytes += data[offset..<(offset + length)]
            offset += length
        } while offset < data.count
    }

    /// One fixed-Huffman block of `count` zero bytes (count ≥ 1): a literal zero, then matches of 258
    /// bytes at distance 1, then literal zeros for the rest.
    mutating func zeros(_ count: Int, final: Bool) {
        precondition(count >= 1)
        bits(final ? 1 : 0, 1)
        bits(1, 2)  // fixed Huffman
        code(0x30, 8)  // literal 0
        var remaining = count - 1
        while remaining >= 258 {
            code(0xC5, 8)  // length code 285: 258 bytes
            code(0, 5)  // distance code 0: distance 1
            remaining -= 258
        }
        for _ in 0..<remaining { code(0x30, 8) }
        code(0, 7)  // end of block (256)
    }

    /// A block with the reserved type 3, which every inflater rejects ("invalid block type").
    mutating func invalidBlock() {
        bits(1, 1)
        bits(3, 2)
        alignToByte()
    }

    /// The stream so far inside a gzip member whose trailer claims `crc` and `size` (pass the right
    /// values only when a reader is meant to reach the trailer).
    func gzip(crc: UInt32 = 0, size: UInt32 = 0) -> [UInt8] {
        var stream = self
        stream.alignToByte()
        var out: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 255] + stream.bytes
        for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8(crc >> UInt32(shift) & 0xFF)) }
        for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8(size >> UInt32(shift) & 0xFF)) }
        return out
    }
}
