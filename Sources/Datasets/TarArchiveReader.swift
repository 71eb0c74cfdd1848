/// One member of a tar archive, as described by its header.
public struct TarEntry: Sendable, Equatable {
    /// What kind of member this is.
    public enum Kind: Sendable, Equatable {
        /// A regular file with contents.
        case regularFile
        /// A folder.
        case directory
        /// Anything else (links, devices, FIFOs); its contents, if any, are skipped.
        case other(typeFlag: UInt8)
    }

    /// The member's path inside the archive (long names from GNU `L` and pax `path` records applied).
    public var path: String
    /// The number of content bytes.
    public var size: Int
    /// The member kind.
    public var kind: Kind
}

/// A small streaming reader for POSIX ustar archives (including the GNU and pax variants written by
/// GNU tar and Python's `tarfile`), optionally gzip-compressed. Each header's checksum, magic and
/// numeric fields are validated; problems are ``DatasetError``s naming the archive and the member.
public final class TarArchiveReader {
    private static let blockSize = 512
    /// The most bytes accepted after the end-of-archive block: tar pads archives to whole records
    /// (10,240 bytes by default, rarely more than a few hundred KB).
    private static let maximumEndPadding = 1 << 20

    private let stream: ByteStream
    private var pendingContentBytes = 0
    private var pendingPadding = 0
    private var reachedEnd = false

    /// The archive's path, as named in errors.
    public var archivePath: String { stream.sourcePath }

    /// Opens the archive at `path`; names ending in `.gz` or `.tgz` are decompressed on the fly.
    public init(path: String) throws {
        let file = try FileByteStream(path: path)
        if path.hasSuffix(".gz") || path.hasSuffix(".tgz") {
            stream = try GzipByteStream(source: file)
        } else {
            stream = file
        }
    }

    /// The next member's header, or `nil` at the end of the archive. Any unread contents of the previous
    /// member are skipped.
    public func nextEntry() throws -> TarEntry? {
        if reachedEnd { return nil }
        try skipPendingContents()
        var longPath: String?
        var paxPath: String?
        var paxSize: Int?
        while true {
            let header = try stream.read(upTo: Self.blockSize)
            if header.isEmpty {
                // The archive ends without the two zero blocks that normally close it; everything
                // before was whole, so treat this as the end.
                reachedEnd = true
                return nil
            }
            guard header.count == Self.blockSize else {
                throw DatasetError.truncated(path: archivePath,
                                             detail: "the archive ends inside a 512-byte tar header")
            }
            if header.allSatisfy({ $0 == 0 }) {
                reachedEnd = true
                try readThroughEndPadding()
                return nil
            }
            try validateChecksum(header)
            let magic = Array(header[257..<263])
            let isPOSIX = magic == Array("ustar".utf8) + [0]
            let isGNU = magic == Array("ustar ".utf8)
            guard isPOSIX || isGNU else {
                throw DatasetError.malformed(path: archivePath,
                                             detail: "a tar header lacks the ustar magic (not a ustar archive)")
            }
            var name = cString(header[0..<100])
            if isPOSIX {
                let prefix = cString(header[345..<500])
                if !prefix.isEmpty { name = prefix + "/" + name }
            }
            let headerSize = try numericField(header[124..<136], field: "size", member: name)
            let typeFlag = header[156]
            switch typeFlag {
            case UInt8(ascii: "L"):  // GNU long name for the next member
                let data = try readContents(count: headerSize, member: "GNU long-name record")
                longPath = cString(data[...])
                continue
            case UInt8(ascii: "x"):  // pax extended header for the next member
                let data = try readContents(count: headerSize, member: "pax header for \(name)")
                let records = try parsePaxRecords(data, member: name)
                if let path = records["path"] { paxPath = path }
                if let sizeText = records["size"] {
                    guard let size = Int(sizeText), size >= 0 else {
                        throw DatasetError.malformed(path: archivePath,
                                                     detail: "pax size \"\(sizeText)\" for \(name) is not a size")
                    }
                    paxSize = size
                }
                continue
            case UInt8(ascii: "g"), UInt8(ascii: "K"):  // global pax header, GNU long link name
                _ = try readContents(count: headerSize, member: "tar metadata record")
                continue
            default:
                break
            }
            let path = paxPath ?? longPath ?? name
            let size = paxSize ?? headerSize
            let kind: TarEntry.Kind
            switch typeFlag {
            case 0, UInt8(ascii: "0"), UInt8(ascii: "7"): kind = .regularFile
            case UInt8(ascii: "5"): kind = .directory
            default: kind = .other(typeFlag: typeFlag)
            }
            // Links and folders carry no contents whatever their size field says.
            let contentSize: Int
            switch kind {
            case .regularFile: contentSize = size
            case .directory: contentSize = 0
            case .other(let flag): contentSize = (flag == UInt8(ascii: "1") || flag == UInt8(ascii: "2")) ? 0 : size
            }
            let (stored, overflow) = contentSize.addingReportingOverflow(paddingAfter(contentSize))
            guard !overflow else {
                throw DatasetError.malformed(path: archivePath, detail: "member \(path) declares \(contentSize) bytes, more than any file")
            }
            try stream.requireCapacity(for: stored, what: "member \(path) (\(contentSize) bytes and its padding)")
            pendingContentBytes = contentSize
            pendingPadding = paddingAfter(contentSize)
            return TarEntry(path: path, size: contentSize, kind: kind)
        }
    }

    /// The whole contents of the member just returned by ``nextEntry()``.
    public func readEntryContents(_ entry: TarEntry) throws -> [UInt8] {
        precondition(pendingContentBytes == entry.size, "contents already read or belong to another member")
        let data = try stream.read(exactly: entry.size, what: "member \(entry.path) (\(entry.size) bytes)")
        pendingContentBytes = 0
        return data
    }

    private func skipPendingContents() throws {
        if pendingContentBytes > 0 {
            try stream.skip(exactly: pendingContentBytes, what: "the contents of a tar member")
        }
        if pendingPadding > 0 {
            try stream.skip(exactly: pendingPadding, what: "the padding after a tar member")
        }
        pendingContentBytes = 0
        pendingPadding = 0
    }

    /// Reads the rest of the archive after its end-of-archive block, so that a gzip stream's CRC and
    /// length trailer get checked too — but no more than tar's record padding can take: a stream that
    /// goes on is refused instead of being inflated to its end.
    private func readThroughEndPadding() throws {
        let padding = try stream.read(upTo: Self.maximumEndPadding)
        let endsWithinPadding = try padding.count < Self.maximumEndPadding || stream.isAtEnd()
        guard endsWithinPadding else {
            throw DatasetError.tooLarge(
                path: archivePath,
                detail: "more than \(Self.maximumEndPadding) bytes follow the end-of-archive block, "
                    + "far more than tar's record padding")
        }
    }

    private func readContents(count: Int, member: String) throws -> [UInt8] {
        guard count <= 1 << 20 else {
            throw DatasetError.malformed(path: archivePath, detail: "\(member) claims an implausible \(count) bytes")
        }
        let data = try stream.read(exactly: count, what: member)
        try stream.skip(exactly: paddingAfter(count), what: "the padding after \(member)")
        return data
    }

    private func paddingAfter(_ size: Int) -> Int {
        (Self.blockSize - size % Self.blockSize) % Self.blockSize
    }

    private func validateChecksum(_ header: [UInt8]) throws {
        let stored = try numericField(header[148..<156], field: "checksum", member: cString(header[0..<100]))
        var unsignedSum = 0
        var signedSum = 0
        for (offset, byte) in header.enumerated() {
            let value = (148..<156).contains(offset) ? 0x20 : byte
            unsignedSum += Int(value)
            signedSum += Int(Int8(bitPattern: value))
        }
        guard stored == unsignedSum || stored == signedSum else {
            throw DatasetError.malformed(
                path: archivePath,
                detail: "tar header checksum mismatch for member \"\(cString(header[0..<100]))\" "
                    + "(stored \(stored), computed \(unsignedSum))")
        }
    }

    /// Parses an octal field (NUL/space padded) or a GNU base-256 field (high bit of the first byte set).
    private func numericField(_ field: ArraySlice<UInt8>, field fieldName: String, member: String) throws -> Int {
        if let first = field.first, first & 0x80 != 0 {
            guard first == 0x80 else {
                throw DatasetError.malformed(path: archivePath,
                                             detail: "negative base-256 \(fieldName) for member \(member)")
            }
            var value = 0
            for byte in field.dropFirst() {
                guard value <= (Int.max >> 8) else {
                    throw DatasetError.malformed(path: archivePath, detail: "\(fieldName) of \(member) overflows")
                }
                value = value << 8 | Int(byte)
            }
            return value
        }
        var value = 0
        var sawDigit = false
        var finished = false
        for byte in field {
            if byte == 0 || byte == UInt8(ascii: " ") {
                if sawDigit { finished = true }
                continue
            }
            guard !finished, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "7") else {
                throw DatasetError.malformed(path: archivePath,
                                             detail: "tar header field \(fieldName) of member \(member) is not octal")
            }
            guard value <= (Int.max >> 3) else {
                throw DatasetError.malformed(path: archivePath, detail: "\(fieldName) of \(member) overflows")
            }
            value = value << 3 | Int(byte - UInt8(ascii: "0"))
            sawDigit = true
        }
        guard sawDigit else {
            throw DatasetError.malformed(path: archivePath,
                                         detail: "tar header field \(fieldName) of member \(member) is empty")
        }
        return value
    }

    /// Parses pax records of the form `"<length> <key>=<value>\n"`.
    private func parsePaxRecords(_ data: [UInt8], member: String) throws -> [String: String] {
        var records: [String: String] = [:]
        var position = 0
        while position < data.count {
            guard let space = data[position...].firstIndex(of: UInt8(ascii: " ")),
                  let length = Int(String(decoding: data[position..<space], as: UTF8.self)),
                  length > space - position, position + length <= data.count,
                  data[position + length - 1] == UInt8(ascii: "\n") else {
                throw DatasetError.malformed(path: archivePath, detail: "bad pax record in the header of \(member)")
            }
            let record = data[(space + 1)..<(position + length - 1)]
            if let equals = record.firstIndex(of: UInt8(ascii: "=")) {
                let key = String(decoding: record[record.startIndex..<equals], as: UTF8.self)
                records[key] = String(decoding: record[(equals + 1)...], as: UTF8.self)
            }
            position += length
        }
        return records
    }

    private func cString(_ bytes: ArraySlice<UInt8>) -> String {
        let end = bytes.firstIndex(of: 0) ?? bytes.endIndex
        return String(decoding: bytes[bytes.startIndex..<end], as: UTF8.self)
    }
}
