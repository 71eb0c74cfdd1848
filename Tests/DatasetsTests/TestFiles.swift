import Datasets
import Foundation
import XCTest

/// Builders for small data set files in the official formats, written independently of the reader so
/// that the tests check it against the format rather than against itself.
enum TestFiles {
    /// A fresh empty folder under the system temporary folder.
    static func makeTemporaryDirectory(_ label: String = #function) throws -> String {
        let cleaned = label.filter { $0.isLetter || $0.isNumber }
        let path = NSTemporaryDirectory() + "tangent-datasets-\(cleaned)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Writes `bytes` to `path`.
    static func write(_ bytes: [UInt8], to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// Big-endian 32-bit encoding.
    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    /// An IDX3 image file: magic 0x00000803, dimensions, then the pixel bytes.
    static func idxImages(count: Int, rows: Int, columns: Int, pixels: [UInt8],
                          magic: UInt32 = 0x0000_0803) -> [UInt8] {
        bigEndian(magic) + bigEndian(UInt32(count)) + bigEndian(UInt32(rows)) + bigEndian(UInt32(columns)) + pixels
    }

    /// An IDX1 label file: magic 0x00000801, count, then the label bytes.
    static func idxLabels(_ labels: [UInt8], magic: UInt32 = 0x0000_0801) -> [UInt8] {
        bigEndian(magic) + bigEndian(UInt32(labels.count)) + labels
    }

    /// Deterministic pixel bytes for `count` images of `size` pixels.
    static func pixels(count: Int, size: Int, salt: Int = 0) -> [UInt8] {
        (0..<(count * size)).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ salt &* 11 &+ ($0 / size) &* 5) }
    }

    /// Writes the four MNIST-named files of a tiny data set into `directory`, gzip-compressed or plain.
    static func writeMNISTStyle(into directory: String, trainCount: Int, testCount: Int, rows: Int = 4,
                                columns: Int = 3, gzip compressed: Bool) throws
        -> (trainPixels: [UInt8], trainLabels: [UInt8], testPixels: [UInt8], testLabels: [UInt8]) {
        let size = rows * columns
        let trainPixels = pixels(count: trainCount, size: size, salt: 1)
        let testPixels = pixels(count: testCount, size: size, salt: 2)
        let trainLabels = (0..<trainCount).map { UInt8($0 * 7 % 10) }
        let testLabels = (0..<testCount).map { UInt8($0 * 3 % 10) }
        let files: [(String, [UInt8])] = [
            ("train-images-idx3-ubyte", idxImages(count: trainCount, rows: rows, columns: columns, pixels: trainPixels)),
            ("train-labels-idx1-ubyte", idxLabels(trainLabels)),
            ("t10k-images-idx3-ubyte", idxImages(count: testCount, rows: rows, columns: columns, pixels: testPixels)),
            ("t10k-labels-idx1-ubyte", idxLabels(testLabels)),
        ]
        for (name, bytes) in files {
            if compressed {
                try write(gzip(bytes), to: directory + "/" + name + ".gz")
            } else {
                try write(bytes, to: directory + "/" + name)
            }
        }
        return (trainPixels, trainLabels, testPixels, testLabels)
    }

    // MARK: gzip with stored (uncompressed) deflate blocks

    /// CRC-32 (IEEE, reflected, polynomial 0xEDB88320), as in the gzip trailer.
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    /// A valid single-member gzip file holding `bytes` in stored deflate blocks (RFC 1951 §3.2.4).
    static func gzip(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 255]
        var offset = 0
        repeat {
            let length = min(65_535, bytes.count - offset)
            let isLast = offset + length == bytes.count
            out.append(isLast ? 1 : 0)
            out += [UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8((~length >> 8) & 0xFF)]
            out += bytes[offset..<(offset + length)]
            offset += length
        } while offset < bytes.count
        let crc = crc32(bytes)
        let size = UInt32(truncatingIfNeeded: bytes.count)
        for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8(crc >> UInt32(shift) & 0xFF)) }
        for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8(size >> UInt32(shift) & 0xFF)) }
        return out
    }

    // MARK: ustar archives

    /// A POSIX ustar archive of `members` (path, contents), with folder entries for `folders`.
    static func tar(_ members: [(path: String, contents: [UInt8])], folders: [String] = []) -> [UInt8] {
        var out: [UInt8] = []
        for folder in folders { out += tarHeader(path: folder, size: 0, typeFlag: UInt8(ascii: "5")) }
        for member in members {
            out += tarHeader(path: member.path, size: member.contents.count, typeFlag: UInt8(ascii: "0"))
            out += member.contents
            out += [UInt8](repeating: 0, count: (512 - member.contents.count % 512) % 512)
        }
        out += [UInt8](repeating: 0, count: 1024)
        return out
    }

    /// One 512-byte ustar header with a correct checksum.
    static func tarHeader(path: String, size: Int, typeFlag: UInt8) -> [UInt8] {
        var header = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int) {
            for (i, byte) in text.utf8.enumerated() { header[offset + i] = byte }
        }
        func octal(_ value: Int, width: Int) -> String {
            let digits = String(value, radix: 8)
            return String(repeating: "0", count: width - 1 - digits.count) + digits
        }
        put(path, at: 0)
        put(octal(0o644, width: 8), at: 100)
        put(octal(0, width: 8), at: 108)
        put(octal(0, width: 8), at: 116)
        put(octal(size, width: 12), at: 124)
        put(octal(0, width: 12), at: 136)
        header[156] = typeFlag
        put("ustar", at: 257)
        put("00", at: 263)
        for i in 148..<156 { header[i] = 0x20 }
        let checksum = header.reduce(0) { $0 + Int($1) }
        put(octal(checksum, width: 7), at: 148)
        header[155] = 0x20
        return header
    }

    // MARK: CIFAR-10 records

    /// `count` CIFAR-10 records (label byte + 3,072 pixel bytes) with the given labels cycle.
    static func cifarRecords(count: Int, salt: Int) -> (bytes: [UInt8], labels: [UInt8], pixels: [UInt8]) {
        var bytes: [UInt8] = []
        var labels: [UInt8] = []
        var pixels: [UInt8] = []
        for record in 0..<count {
            let label = UInt8((record + salt) % 10)
            let image = (0..<3072).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ record &* 13 &+ salt &* 29) }
            labels.append(label)
            pixels += image
            bytes.append(label)
            bytes += image
        }
        return (bytes, labels, pixels)
    }

    // MARK: shared real data

    /// `../shared/data` relative to the package root (derived from this file's path).
    static var sharedDataDirectory: String {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // DatasetsTests
            .deletingLastPathComponent()  // Tests
            .deletingLastPathComponent()  // package root
            .deletingLastPathComponent()
            .appendingPathComponent("shared/data").path
    }
}

/// Asserts that `body` throws a `DatasetError` whose description names `path` and contains every
/// fragment; returns the error.
@discardableResult
func assertDatasetError<T>(_ body: @autoclosure () throws -> T, mentions path: String, _ fragments: String...,
                           file: StaticString = #filePath, line: UInt = #line) -> DatasetError? {
    do {
        _ = try body()
        XCTFail("expected a DatasetError mentioning \(path)", file: file, line: line)
        return nil
    } catch let error as DatasetError {
        let text = error.description
        XCTAssertTrue(text.contains(path), "error \"\(text)\" does not name \(path)", file: file, line: line)
        for fragment in fragments {
            XCTAssertTrue(text.contains(fragment), "error \"\(text)\" does not mention \"\(fragment)\"",
                          file: file, line: line)
        }
        return error
    } catch {
        XCTFail("expected a DatasetError, got \(error)", file: file, line: line)
        return nil
    }
}
