import CZlib

/// A minimal PNG writer over the system zlib: 8-bit grey (colour type 0) or RGB (colour type 2), no
/// interlacing, every row with filter type 0 (none), one IDAT chunk, CRCs from zlib's `crc32`.
public enum PNGEncoder {
    /// The eight bytes every PNG file starts with.
    public static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// The PNG file of `image`.
    /// - Throws: ``RasterImageError/compression(status:)`` if zlib fails.
    public static func encode(_ image: RasterImage) throws -> [UInt8] {
        var header = [UInt8]()
        append32(UInt32(image.width), to: &header)
        append32(UInt32(image.height), to: &header)
        header += [8, image.colorModel == .grey ? 0 : 2, 0, 0, 0]

        let stride = image.width * image.colorModel.channels
        var raw = [UInt8](repeating: 0, count: image.height * (stride + 1))
        for y in 0..<image.height {
            raw.replaceSubrange((y * (stride + 1) + 1)..<((y + 1) * (stride + 1)),
                                with: image.pixels[(y * stride)..<((y + 1) * stride)])
        }
        var compressed = [UInt8](repeating: 0, count: Int(compressBound(uLong(raw.count))))
        var length = uLongf(compressed.count)
        let status = compressed.withUnsafeMutableBufferPointer { out in
            raw.withUnsafeBufferPointer { input in
                compress2(out.baseAddress, &length, input.baseAddress, uLong(input.count), Z_BEST_COMPRESSION)
            }
        }
        guard status == Z_OK else { throw RasterImageError.compression(status: Int(status)) }
        compressed.removeSubrange(Int(length)...)
        // A chunk holds at most 2³¹ − 1 bytes.
        guard compressed.count <= Int(Int32.max) else { throw RasterImageError.invalidSize(width: image.width, height: image.height) }

        var file = signature
        appendChunk("IHDR", header, to: &file)
        appendChunk("IDAT", compressed, to: &file)
        appendChunk("IEND", [], to: &file)
        return file
    }

    static func append32(_ value: UInt32, to bytes: inout [UInt8]) {
        bytes += [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }

    /// Length, type, data, and the CRC-32 of type and data.
    static func appendChunk(_ type: String, _ data: [UInt8], to file: inout [UInt8]) {
        append32(UInt32(data.count), to: &file)
        let typed = Array(type.utf8) + data
        file += typed
        let crc = typed.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) }
        append32(UInt32(truncatingIfNeeded: crc), to: &file)
    }
}
