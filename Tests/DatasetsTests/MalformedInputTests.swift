import Datasets
import Foundation
import XCTest

/// Damaged inputs of every kind must produce a `DatasetError` naming the file — never a crash or an
/// out-of-bounds read.
final class MalformedInputTests: XCTestCase {
    /// A tiny deterministic generator for the damage positions.
    private struct SplitMix {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
    }

    /// Every truncation and many random corruptions of a gzip IDX file either load or fail with an error
    /// naming the file.
    func testEveryTruncationAndRandomCorruptionOfGzipIDX() throws {
        let directory = try TestFiles.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let original = TestFiles.gzip(TestFiles.idxImages(count: 3, rows: 5, columns: 4,
                                                          pixels: TestFiles.pixels(count: 3, size: 20)))
        let path = directory + "/train-images-idx3-ubyte.gz"
        for length in 0..<original.count {
            try TestFiles.write(Array(original.prefix(length)), to: path)
            assertDatasetError(try IDXFile.readImages(at: path), mentions: path)
        }
        var random = SplitMix(state: 1)
        for _ in 0..<300 {
            var damaged = original
            for _ in 0..<(1 + random.below(3)) {
                damaged[random.below(damaged.count)] ^= UInt8(1 + random.below(255))
            }
            try TestFiles.write(damaged, to: path)
            do {
                _ = try IDXFile.readImages(at: path)
                // Damage confined to ignored header fields (mtime, OS byte) leaves a valid file.
            } catch let error as DatasetError {
                XCTAssertTrue(error.description.contains(path), error.description)
            }
        }
    }

    /// Random corruption of plain IDX headers (sizes, magic) never crashes.
    func testRandomCorruptionOfPlainIDXHeaders() throws {
        let directory = try TestFiles.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let original = TestFiles.idxImages(count: 4, rows: 3, columns: 3, pixels: TestFiles.pixels(count: 4, size: 9))
        let path = directory + "/images"
        var random = SplitMix(state: 2)
        for _ in 0..<300 {
            var damaged = original
            damaged[random.below(16)] = UInt8(random.below(256))
            try TestFiles.write(damaged, to: path)
            do {
                _ = try IDXFile.readImages(at: path)
            } catch let error as DatasetError {
                XCTAssertTrue(error.description.contains(path), error.description)
            }
        }
    }

    /// Every truncation and random corruptions of a CIFAR-10 `.tar` archive (headers included).
    func testTruncationAndCorruptionOfCIFARTar() throws {
        let directory = try TestFiles.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let names = CIFAR10Loader.trainingFileNames + [CIFAR10Loader.testFileName]
        let members = names.enumerated().map { index, name in
            (path: "cifar-10-batches-bin/" + name, contents: TestFiles.cifarRecords(count: 1, salt: index).bytes)
        }
        let original = TestFiles.tar(members)
        let path = directory + "/cifar.tar"
        // Cuts inside the members or their padding must fail; the reader, like GNU tar, accepts an
        // archive whose closing zero blocks are cut short, since every member is whole.
        let endOfMembers = original.count - 1024
        for length in stride(from: 0, to: endOfMembers, by: 181) {
            try TestFiles.write(Array(original.prefix(length)), to: path)
            assertDatasetError(try CIFAR10Loader.load(from: path), mentions: path)
        }
        for length in [endOfMembers, endOfMembers + 512, endOfMembers + 700] {
            try TestFiles.write(Array(original.prefix(length)), to: path)
            XCTAssertEqual(try CIFAR10Loader.load(from: path).train.count, 5)
        }
        var random = SplitMix(state: 3)
        for _ in 0..<120 {
            var damaged = original
            // Hit a header block (every member's header sits at a multiple of 512 bytes).
            let header = random.below(members.count) * (512 + 3584)
            damaged[header + random.below(512)] = UInt8(random.below(256))
            try TestFiles.write(damaged, to: path)
            do {
                _ = try CIFAR10Loader.load(from: path)
            } catch let error as DatasetError {
                XCTAssertTrue(error.description.contains(path), error.description)
            }
        }
    }

    /// GNU long-name and pax `path` records give members their full names.
    func testLongNameExtensionsInTar() throws {
        let directory = try TestFiles.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let longGNU = String(repeating: "g", count: 120) + "/data.bin"
        let longPax = String(repeating: "p", count: 130) + "/other.bin"
        var tar: [UInt8] = []
        func append(contents: [UInt8], header: [UInt8]) {
            tar += header + contents + [UInt8](repeating: 0, count: (512 - contents.count % 512) % 512)
        }
        let gnuName = Array(longGNU.utf8) + [0]
        append(contents: gnuName, header: TestFiles.tarHeader(path: "././@LongLink", size: gnuName.count,
                                                              typeFlag: UInt8(ascii: "L")))
        append(contents: [1, 2, 3], header: TestFiles.tarHeader(path: "truncated-name", size: 3, typeFlag: UInt8(ascii: "0")))
        let record = " path=\(longPax)\n"
        var length = record.utf8.count + 3
        if String(length).count + record.utf8.count != length { length = String(length).count + record.utf8.count }
        let pax = Array("\(length)\(record)".utf8)
        append(contents: pax, header: TestFiles.tarHeader(path: "PaxHeader", size: pax.count, typeFlag: UInt8(ascii: "x")))
        append(contents: [9], header: TestFiles.tarHeader(path: "short", size: 1, typeFlag: UInt8(ascii: "0")))
        tar += [UInt8](repeating: 0, count: 1024)
        let path = directory + "/long.tar.gz"
        try TestFiles.write(TestFiles.gzip(tar), to: path)

        let reader = try TarArchiveReader(path: path)
        var found: [(String, [UInt8])] = []
        while let entry = try reader.nextEntry() { found.append((entry.path, try reader.readEntryContents(entry))) }
        XCTAssertEqual(found.map(\.0), [longGNU, longPax])
        XCTAssertEqual(found.map(\.1), [[1, 2, 3], [9]])
    }
}
