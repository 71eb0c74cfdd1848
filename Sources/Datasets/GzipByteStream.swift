import CZlib

/// Decompresses a gzip (or zlib) stream with zlib's `inflate`, reading its compressed input from another
/// ``ByteStream``. zlib checks the gzip header, the CRC-32 and the length trailer; any failure becomes
/// ``DatasetError/corruptCompressedData(path:detail:)``, and input that ends before the compressed stream
/// does becomes ``DatasetError/truncated(path:detail:)``. Concatenated gzip members are read one after
/// another, as `gunzip` does.
final class GzipByteStream: ByteStream {
    /// Window bits 15 plus 32: zlib detects and checks a gzip or zlib header automatically.
    private static let windowBitsWithHeaderDetection: Int32 = 15 + 32
    private static let inputChunkSize = 1 << 18

    private let source: ByteStream
    private let stream: UnsafeMutablePointer<z_stream>
    private let inputBuffer: UnsafeMutableRawPointer
    private var sourceExhausted = false
    private var finished = false

    var sourcePath: String { source.sourcePath }

    /// Deflate turns one compressed byte into at most 1032 bytes (a 258-byte match coded in two bits).
    static let maximumExpansion = 1032
    /// Output zlib may hold back between calls (a partly copied match, bits not yet decoded), with room
    /// to spare.
    private static let pendingOutputAllowance = 1 << 16

    /// What the compressed bytes not yet inflated can expand to at most.
    var remainingCapacity: StreamCapacity {
        if finished { return StreamCapacity(bytes: 0, reason: "the gzip stream has ended") }
        let compressed = source.remainingCapacity.bytes.addingReportingOverflow(Int(stream.pointee.avail_in))
        let expanded = compressed.partialValue.multipliedReportingOverflow(by: Self.maximumExpansion)
        let bound = expanded.partialValue.addingReportingOverflow(Self.pendingOutputAllowance)
        let overflow = compressed.overflow || expanded.overflow || bound.overflow
        let compressedText = compressed.overflow ? "its compressed bytes" : "its \(compressed.partialValue) compressed bytes left"
        return StreamCapacity(
            bytes: overflow ? Int.max : bound.partialValue,
            reason: "\(compressedText) can inflate to at most \(overflow ? Int.max : bound.partialValue) "
                + "(deflate expands at most \(Self.maximumExpansion)-fold)")
    }

    init(source: ByteStream) throws {
        self.source = source
        stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        inputBuffer = UnsafeMutableRawPointer.allocate(byteCount: Self.inputChunkSize, alignment: 16)
        let status = inflateInit2_(stream, Self.windowBitsWithHeaderDetection, zlibVersion(),
                                   Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            stream.deinitialize(count: 1)
            stream.deallocate()
            inputBuffer.deallocate()
            throw DatasetError.corruptCompressedData(
                path: source.sourcePath, detail: "zlib could not start inflating (status \(status))")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
        inputBuffer.deallocate()
    }

    /// Refills zlib's input from the source when it has run dry; returns false at the end of the source.
    private func refillInputIfEmpty() throws -> Bool {
        if stream.pointee.avail_in > 0 { return true }
        if sourceExhausted { return false }
        let got = try source.read(into: UnsafeMutableRawBufferPointer(start: inputBuffer,
                                                                       count: Self.inputChunkSize))
        if got == 0 {
            sourceExhausted = true
            return false
        }
        stream.pointee.next_in = inputBuffer.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_in = uInt(got)
        return true
    }

    private func zlibMessage(_ status: Int32) -> String {
        guard let pointer = stream.pointee.msg else { return "zlib status \(status)" }
        let message = String(cString: pointer)
        switch message {
        case "incorrect data check": return "CRC-32 mismatch (incorrect data check)"
        case "incorrect length check": return "length trailer mismatch (incorrect length check)"
        case "incorrect header check": return "not a gzip stream (incorrect header check)"
        default: return message
        }
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0, !finished else { return 0 }
        let capacity = min(buffer.count, Int(UInt32.max))
        stream.pointee.next_out = base.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = uInt(capacity)
        while true {
            let hasInput = try refillInputIfEmpty()
            if !hasInput {
                let produced = capacity - Int(stream.pointee.avail_out)
                if produced > 0 { return produced }
                throw DatasetError.truncated(
                    path: sourcePath, detail: "the file ends before the gzip stream is complete")
            }
            let status = inflate(stream, Z_NO_FLUSH)
            let produced = capacity - Int(stream.pointee.avail_out)
            switch status {
            case Z_OK:
                if produced == capacity { return produced }
            case Z_STREAM_END:
                // Another gzip member may follow; otherwise the stream is done.
                if try refillInputIfEmpty() {
                    let resetStatus = inflateReset(stream)
                    guard resetStatus == Z_OK else {
                        throw DatasetError.corruptCompressedData(path: sourcePath, detail: zlibMessage(resetStatus))
                    }
                } else {
                    finished = true
                    return produced
                }
                if produced == capacity { return produced }
            case Z_BUF_ERROR:
                // No progress was possible: more input is needed (handled by the refill above).
                if produced > 0 { return produced }
            case Z_NEED_DICT:
                throw DatasetError.corruptCompressedData(
                    path: sourcePath, detail: "the stream needs a preset dictionary, which gzip files never use")
            case Z_MEM_ERROR:
                throw DatasetError.unreadable(path: sourcePath, reason: "out of memory while inflating")
            default:
                throw DatasetError.corruptCompressedData(path: sourcePath, detail: zlibMessage(status))
            }
        }
    }
}
