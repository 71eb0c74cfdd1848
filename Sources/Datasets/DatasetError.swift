/// Everything that can go wrong while locating, reading, decompressing, validating or downloading a data
/// set file. Every case carries the path of the file concerned, and ``description`` names it.
public enum DatasetError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file or folder does not exist. `detail` says what was being looked for.
    case fileNotFound(path: String, detail: String)
    /// The file exists but could not be opened or read (permissions, I/O error, a folder where a file
    /// was expected).
    case unreadable(path: String, reason: String)
    /// The file (or the decompressed stream) ends before the data its header or format promises.
    case truncated(path: String, detail: String)
    /// The gzip / deflate stream is damaged: bad header, bad deflate data, CRC or length mismatch.
    case corruptCompressedData(path: String, detail: String)
    /// An IDX file starts with the wrong magic number (for example a label file given as an image file).
    case wrongMagic(path: String, expected: UInt32, found: UInt32)
    /// The file's structure is invalid: wrong dimension count, out-of-range labels, extra data, a bad tar
    /// header, a record size that does not divide the file, and the like.
    case malformed(path: String, detail: String)
    /// Two files that must agree (an image file and its label file) do not.
    case mismatchedFiles(path: String, otherPath: String, detail: String)
    /// A downloaded or existing file's MD5 differs from the published checksum.
    case checksumMismatch(path: String, expectedMD5: String, actualMD5: String)
    /// A download failed (network error, HTTP status, timeout, or the file could not be written).
    case downloadFailed(url: String, path: String, detail: String)
    /// The file declares more data than a limit allows: the loaded data set's memory bound
    /// (``DatasetLimits``), or what its format accepts (e.g. padding after a tar archive's end).
    case tooLarge(path: String, detail: String)

    /// The path of the file (or folder) the error concerns.
    public var path: String {
        switch self {
        case .fileNotFound(let path, _), .unreadable(let path, _), .truncated(let path, _),
             .corruptCompressedData(let path, _), .wrongMagic(let path, _, _), .malformed(let path, _),
             .mismatchedFiles(let path, _, _), .checksumMismatch(let path, _, _),
             .downloadFailed(_, let path, _), .tooLarge(let path, _):
            return path
        }
    }

    /// A one-line explanation naming the file and the problem.
    public var description: String {
        switch self {
        case .fileNotFound(let path, let detail):
            return "\(path): not found (\(detail))"
        case .unreadable(let path, let reason):
            return "\(path): cannot be read: \(reason)"
        case .truncated(let path, let detail):
            return "\(path): truncated: \(detail)"
        case .corruptCompressedData(let path, let detail):
            return "\(path): corrupt gzip data: \(detail)"
        case .wrongMagic(let path, let expected, let found):
            return "\(path): wrong magic number 0x\(hex8(found)), expected 0x\(hex8(expected))"
        case .malformed(let path, let detail):
            return "\(path): malformed: \(detail)"
        case .mismatchedFiles(let path, let otherPath, let detail):
            return "\(path) does not match \(otherPath): \(detail)"
        case .checksumMismatch(let path, let expected, let actual):
            return "\(path): MD5 checksum mismatch: expected \(expected), got \(actual)"
        case .downloadFailed(let url, let path, let detail):
            return "\(path): download from \(url) failed: \(detail)"
        case .tooLarge(let path, let detail):
            return "\(path): too large: \(detail)"
        }
    }
}

/// Eight lowercase hex digits, zero-padded.
private func hex8(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: max(0, 8 - digits.count)) + digits
}
