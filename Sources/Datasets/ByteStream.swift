#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A forward-only source of bytes (a file, or a decompressor over a file) that reports problems as
/// ``DatasetError``s naming ``sourcePath``.
protocol ByteStream: AnyObject {
    /// The path named in errors about this stream.
    var sourcePath: String { get }

    /// Reads up to `buffer.count` bytes into `buffer` and returns how many were read; returns 0 only at
    /// the end of the stream.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int

    /// An upper bound on the bytes the stream can still deliver, known without reading them.
    var remainingCapacity: StreamCapacity { get }
}

/// The most bytes a stream can still deliver, and why, for errors that refuse a declared size before
/// reading it.
struct StreamCapacity {
    /// The bound.
    var bytes: Int
    /// Where the bound comes from, e.g. "the file has 12 bytes left".
    var reason: String
}

extension ByteStream {
    /// Reads up to `count` bytes, fewer only when the stream ends first. The array grows as data
    /// arrives, so a corrupt header announcing a huge size cannot force a huge allocation.
    func read(upTo count: Int) throws -> [UInt8] {
        precondition(count >= 0)
        var result = [UInt8]()
        result.reserveCapacity(min(count, 1 << 20))
        let chunkSize = 1 << 20
        var chunk = [UInt8](repeating: 0, count: min(chunkSize, max(count, 1)))
        while result.count < count {
            let wanted = min(chunk.count, count - result.count)
            let got = try chunk.withUnsafeMutableBytes { raw in
                try read(into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<wanted]))
            }
            if got == 0 { break }
            result.append(contentsOf: chunk[0..<got])
        }
        return result
    }

    /// Reads exactly `count` bytes or throws ``DatasetError/truncated(path:detail:)`` describing `what`
    /// was being read.
    func read(exactly count: Int, what: String) throws -> [UInt8] {
        let bytes = try read(upTo: count)
        guard bytes.count == count else {
            throw DatasetError.truncated(
                path: sourcePath, detail: "\(what) needs \(count) bytes but only \(bytes.count) remain")
        }
        return bytes
    }

    /// Discards exactly `count` bytes or throws ``DatasetError/truncated(path:detail:)``.
    func skip(exactly count: Int, what: String) throws {
        var remaining = count
        var scratch = [UInt8](repeating: 0, count: min(1 << 20, max(count, 1)))
        while remaining > 0 {
            let wanted = min(scratch.count, remaining)
            let got = try scratch.withUnsafeMutableBytes { raw in
                try read(into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<wanted]))
            }
            if got == 0 {
                throw DatasetError.truncated(
                    path: sourcePath,
                    detail: "\(what) needs \(count) bytes but only \(count - remaining) remain")
            }
            remaining -= got
        }
    }

    /// Whether the stream has no bytes left (consumes one byte when it does have some).
    func isAtEnd() throws -> Bool {
        var probe: UInt8 = 0
        return try withUnsafeMutableBytes(of: &probe) { try read(into: $0) } == 0
    }

    /// Throws ``DatasetError/truncated(path:detail:)`` when `count` bytes, declared for `what`, cannot
    /// follow — checked before anything of that size is allocated or decompressed.
    func requireCapacity(for count: Int, what: String) throws {
        let capacity = remainingCapacity
        guard count <= capacity.bytes else {
            throw DatasetError.truncated(
                path: sourcePath, detail: "\(what) needs \(count) bytes, but \(capacity.reason)")
        }
    }
}

/// Opens `path` as a byte stream, decompressing it on the fly when its name ends in `.gz`.
func openByteStream(path: String) throws -> ByteStream {
    let file = try FileByteStream(path: path)
    if path.hasSuffix(".gz") { return try GzipByteStream(source: file) }
    return file
}

/// A regular file read with POSIX `open`/`read`. FIFOs, devices and sockets are refused: they could
/// block forever or never end.
final class FileByteStream: ByteStream {
    let sourcePath: String
    private let descriptor: Int32
    /// The file's size when it was opened.
    private let size: Int
    private var position = 0

    /// Opens `path` for reading; a missing file is ``DatasetError/fileNotFound(path:detail:)``.
    init(path: String) throws {
        sourcePath = path
        var info = stat()
        if stat(path, &info) != 0 {
            let code = errno
            if code == ENOENT || code == ENOTDIR {
                throw DatasetError.fileNotFound(path: path, detail: "no such file")
            }
            throw DatasetError.unreadable(path: path, reason: systemErrorMessage(code))
        }
        try Self.requireRegularFile(info, path: path)
        // Non-blocking, so that a FIFO swapped in after the check cannot hang the open.
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        if fd < 0 { throw DatasetError.unreadable(path: path, reason: systemErrorMessage(errno)) }
        if fstat(fd, &info) != 0 {
            let code = errno
            close(fd)
            throw DatasetError.unreadable(path: path, reason: systemErrorMessage(code))
        }
        do { try Self.requireRegularFile(info, path: path) } catch { close(fd); throw error }
        descriptor = fd
        size = Int(info.st_size)
    }

    private static func requireRegularFile(_ info: stat, path: String) throws {
        switch info.st_mode & S_IFMT {
        case S_IFREG: return
        case S_IFDIR: throw DatasetError.unreadable(path: path, reason: "it is a folder, not a file")
        default: throw DatasetError.unreadable(path: path, reason: "it is not a regular file (a FIFO, device or socket)")
        }
    }

    deinit { close(descriptor) }

    var remainingCapacity: StreamCapacity {
        let left = max(0, size - position)
        return StreamCapacity(bytes: left, reason: "the file has only \(left) bytes left")
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        while true {
            #if canImport(Glibc)
            let got = Glibc.read(descriptor, base, buffer.count)
            #else
            let got = Darwin.read(descriptor, base, buffer.count)
            #endif
            if got >= 0 {
                position += got
                return got
            }
            if errno == EINTR { continue }
            throw DatasetError.unreadable(path: sourcePath, reason: systemErrorMessage(errno))
        }
    }
}

/// The C library's message for an `errno` value.
func systemErrorMessage(_ code: Int32) -> String {
    String(cString: strerror(code))
}

/// Whether `path` names an existing folder.
func isDirectory(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
}

/// Whether `path` names an existing regular file (or a link to one).
func isRegularFile(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
}

/// Joins two path components with exactly one slash.
func joinPath(_ directory: String, _ name: String) -> String {
    if directory.isEmpty { return name }
    return directory.hasSuffix("/") ? directory + name : directory + "/" + name
}
