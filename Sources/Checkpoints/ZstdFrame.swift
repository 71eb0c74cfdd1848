import CZstd
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Compression and strict decompression of the single zstd frame that wraps a checkpoint payload.
enum ZstdFrame {
    /// Magic number at the start of every zstd frame (little-endian on disk).
    static let magic: UInt32 = 0xFD2F_B528

    /// One frame holding `payload`, with the content size in the header and the content checksum on.
    static func compress(_ payload: [UInt8], level: Int) throws -> [UInt8] {
        guard let context = ZSTD_createCCtx() else {
            throw CheckpointError(.compression, "could not allocate a zstd compression context")
        }
        defer { ZSTD_freeCCtx(context) }
        try check(ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, Int32(clamping: level)), "setting the level")
        try check(ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1), "enabling the checksum")
        try check(ZSTD_CCtx_setParameter(context, ZSTD_c_contentSizeFlag, 1), "enabling the content size")
        let bound = ZSTD_compressBound(payload.count)
        var output = [UInt8](repeating: 0, count: bound)
        let written = output.withUnsafeMutableBytes { out in
            payload.withUnsafeBytes { input in
                ZSTD_compress2(context, out.baseAddress, out.count, input.baseAddress, input.count)
            }
        }
        try check(written, "compressing")
        output.removeSubrange(written...)
        return output
    }

    /// The content of `frame`, which must be exactly one zstd frame (no trailing bytes) that declares its
    /// content size and carries a content checksum. The output buffer grows with the data actually decoded,
    /// so a forged content size cannot force a giant allocation.
    static func decompress(_ frame: [UInt8]) throws -> [UInt8] {
        guard frame.count >= 4 else {
            throw CheckpointError(.compression, "file is \(frame.count) bytes, too short to be a zstd frame")
        }
        let fileMagic = UInt32(frame[0]) | UInt32(frame[1]) << 8 | UInt32(frame[2]) << 16 | UInt32(frame[3]) << 24
        guard fileMagic == magic else {
            let hex = frame[0 ..< 4].map { byte in String(byte, radix: 16).count == 1 ? "0\(String(byte, radix: 16))" : String(byte, radix: 16) }
            throw CheckpointError(.compression, "not a zstd frame (wrong magic number \(hex.joined(separator: " ")), expected 28 b5 2f fd)")
        }
        guard frame.count >= 5 else { throw CheckpointError(.compression, "zstd frame is truncated inside its header") }
        // Frame_Header_Descriptor bit 2 is the Content_Checksum_flag (RFC 8878 §3.1.1.1.1).
        guard frame[4] & 0x04 != 0 else {
            throw CheckpointError(.compression, "zstd frame has no content checksum (checkpoints are written with one)")
        }
        let contentSize = frame.withUnsafeBytes { ZSTD_getFrameContentSize($0.baseAddress, $0.count) }
        if contentSize == ZSTD_CONTENTSIZE_ERROR_VALUE {
            throw CheckpointError(.compression, "zstd frame header is truncated or corrupt")
        }
        if contentSize == ZSTD_CONTENTSIZE_UNKNOWN_VALUE {
            throw CheckpointError(.compression, "zstd frame does not record its content size (checkpoints are written with it)")
        }
        guard contentSize <= UInt64(Int.max) else {
            throw CheckpointError(.compression, "zstd frame declares an impossible content size \(contentSize)")
        }
        let frameSize = frame.withUnsafeBytes { ZSTD_findFrameCompressedSize($0.baseAddress, $0.count) }
        if ZSTD_isError(frameSize) != 0 {
            throw CheckpointError(.compression, "zstd frame is truncated or corrupt (\(errorName(frameSize)))")
        }
        guard frameSize == frame.count else {
            throw CheckpointError(.compression, "\(frame.count - frameSize) unexpected bytes follow the zstd frame")
        }
        return try streamDecompress(frame, contentSize: Int(contentSize))
    }

    private static func streamDecompress(_ frame: [UInt8], contentSize: Int) throws -> [UInt8] {
        guard let context = ZSTD_createDCtx() else {
            throw CheckpointError(.compression, "could not allocate a zstd decompression context")
        }
        defer { ZSTD_freeDCtx(context) }
        let maximumCapacity = max(contentSize, 1)
        let firstGuess = frame.count > Int.max / 4 ? Int.max : max(1 << 20, frame.count * 4)
        var output = try GrowableBuffer(capacity: min(maximumCapacity, firstGuess))
        defer { output.release() }
        var produced = 0
        var consumed = 0
        while true {
            var inBuffer = ZSTD_inBuffer(src: nil, size: 0, pos: consumed)
            var outBuffer = ZSTD_outBuffer(dst: output.base, size: output.capacity, pos: produced)
            let status = frame.withUnsafeBytes { input in
                inBuffer.src = input.baseAddress
                inBuffer.size = input.count
                return ZSTD_decompressStream(context, &outBuffer, &inBuffer)
            }
            if ZSTD_isError(status) != 0 {
                throw CheckpointError(.compression, "zstd frame is corrupt (\(errorName(status)))")
            }
            let madeProgress = inBuffer.pos != consumed || outBuffer.pos != produced
            consumed = inBuffer.pos
            produced = outBuffer.pos
            if status == 0 { break }
            if produced == output.capacity && output.capacity < maximumCapacity {
                try output.grow(to: output.capacity > maximumCapacity / 2 ? maximumCapacity : output.capacity * 2)
                continue
            }
            if !madeProgress {
                if consumed == frame.count {
                    throw CheckpointError(.compression, "zstd frame is truncated")
                }
                throw CheckpointError(.compression, "zstd frame decodes to more than its declared \(contentSize) bytes")
            }
        }
        guard produced == contentSize else {
            throw CheckpointError(.compression, "zstd frame decoded to \(produced) bytes but declares \(contentSize)")
        }
        guard consumed == frame.count else {
            throw CheckpointError(.compression, "\(frame.count - consumed) unexpected bytes follow the zstd frame")
        }
        return Array(UnsafeRawBufferPointer(start: output.base, count: produced))
    }

    private static func check(_ code: Int, _ action: String) throws {
        if ZSTD_isError(code) != 0 {
            throw CheckpointError(.compression, "zstd failed while \(action): \(errorName(code))")
        }
    }

    private static func errorName(_ code: Int) -> String {
        ZSTD_getErrorName(code).map { String(cString: $0) } ?? "unknown zstd error"
    }

    // The C macros are `(0ULL - 1)` and `(0ULL - 2)`, which Swift does not import.
    private static let ZSTD_CONTENTSIZE_UNKNOWN_VALUE = UInt64.max
    private static let ZSTD_CONTENTSIZE_ERROR_VALUE = UInt64.max - 1
}

/// A malloc'd byte buffer that grows with `realloc`, so growing never touches the bytes one by one.
private struct GrowableBuffer {
    private(set) var base: UnsafeMutableRawPointer
    private(set) var capacity: Int

    init(capacity: Int) throws {
        guard let base = malloc(max(capacity, 1)) else {
            throw CheckpointError(.compression, "cannot allocate \(capacity) bytes for the decompressed payload")
        }
        self.base = base
        self.capacity = capacity
    }

    mutating func grow(to newCapacity: Int) throws {
        guard let grown = realloc(base, newCapacity) else {
            throw CheckpointError(.compression, "cannot allocate \(newCapacity) bytes for the decompressed payload")
        }
        base = grown
        capacity = newCapacity
    }

    func release() { free(base) }
}
