import Datasets
import Foundation
import XCTest

final class CIFAR10LoaderTests: XCTestCase {
    /// Small batch files: 3, 2, 4, 1 and 2 training records, 3 test records.
    private static let trainingRecordCounts = [3, 2, 4, 1, 2]

    private func makeBatches() -> (files: [(name: String, bytes: [UInt8])], trainLabels: [UInt8],
                                   trainPixels: [UInt8], testLabels: [UInt8], testPixels: [UInt8]) {
        var files: [(String, [UInt8])] = []
        var trainLabels: [UInt8] = [], trainPixels: [UInt8] = []
        for (batch, count) in Self.trainingRecordCounts.enumerated() {
            let records = TestFiles.cifarRecords(count: count, salt: batch + 1)
            files.append(("data_batch_\(batch + 1).bin", records.bytes))
            trainLabels += records.labels
            trainPixels += records.pixels
        }
        let test = TestFiles.cifarRecords(count: 3, salt: 42)
        files.append(("test_batch.bin", test.bytes))
        return (files, trainLabels, trainPixels, test.labels, test.pixels)
    }

    private func check(_ splits: DatasetSplits, against batches: (files: [(name: String, bytes: [UInt8])],
        trainLabels: [UInt8], trainPixels: [UInt8], testLabels: [UInt8], testPixels: [UInt8])) {
        XCTAssertEqual(splits.train.count, Self.trainingRecordCounts.reduce(0, +))
        XCTAssertEqual(splits.test.count, 3)
        XCTAssertEqual(splits.train.channels, 3)
        XCTAssertEqual(splits.train.height, 32)
        XCTAssertEqual(splits.train.width, 32)
        XCTAssertEqual(splits.train.imageSize, 3072)
        XCTAssertEqual(splits.train.labels, batches.trainLabels.map(Int32.init))
        XCTAssertEqual(splits.test.labels, batches.testLabels.map(Int32.init))
        XCTAssertEqual(splits.train.images, batches.trainPixels.map { Float($0) / 255 })
        XCTAssertEqual(splits.test.images, batches.testPixels.map { Float($0) / 255 })
        XCTAssertEqual(splits.train.classNames, CIFAR10Loader.classNames)
        XCTAssertEqual(CIFAR10Loader.classNames[0], "airplane")
        XCTAssertEqual(CIFAR10Loader.classNames[1], "automobile")
    }

    func testFolderDirectlyAndNested() throws {
        let directory = try TestFiles.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let batches = makeBatches()
        let nested = directory + "/cifar-10-batches-bin"
        try FileManager.default.createDirectory(atPath: nested, withIntermediateDirectories: true)
        for file in batches.files { try TestFiles.write(file.bytes, to: nested + "/" + file.name) }
        check(try CIFAR10Loader.load(from: nested), against: batches)
        check(try CIFAR10Loader.load(from: directory), against: batches)
    }

    func testArchiveTarGzAndTar() throws {
        let directory = try TestFiles.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let batches = makeBatches()
        // Member order as in the official archive: not sorted.
        let order = [3, 4, 1, 0, 2, 5]
        var members = order.map { (path: "cifar-10-batches-bin/" + batches.files[$0].name, contents: batches.files[$0].bytes) }
        members.insert((path: "cifar-10-batches-bin/batches.meta.txt",
                        contents: Array(CIFAR10Loader.classNames.joined(separator: "\n").utf8)), at: 2)
        let tar = TestFiles.tar(members, folders: ["cifar-10-batches-bin/"])
        let archive = directory + "/cifar-10-binary.tar.gz"
        try TestFiles.write(TestFiles.gzip(tar), to: archive)
        check(try CIFAR10Loader.load(from: archive), against: batches)
        check(try CIFAR10Loader.load(from: directory), against: batches)
        let plainTar = directory + "/batches.tar"
        try TestFiles.write(tar, to: plainTar)
        check(try CIFAR10Loader.load(from: plainTar), against: batches)
    }

    func testTarReaderListsMembers() throws {
        let directory = try TestFiles.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/a.tar"
        try TestFiles.write(TestFiles.tar([(path: "x/one.txt", contents: Array("hello".utf8)),
                                           (path: "x/two.bin", contents: [UInt8](repeating: 7, count: 1300))],
                                          folders: ["x/"]), to: path)
        let reader = try TarArchiveReader(path: path)
        var seen: [TarEntry] = []
        var contents: [[UInt8]] = []
        while let entry = try reader.nextEntry() {
            seen.append(entry)
            if entry.path == "x/two.bin" { contents.append(try reader.readEntryContents(entry)) }
        }
        XCTAssertEqual(seen.map(\.path), ["x/", "x/one.txt", "x/two.bin"])
        XCTAssertEqual(seen.map(\.kind), [.directory, .regularFile, .regularFile])
        XCTAssertEqual(seen.map(\.size), [0, 5, 1300])
        XCTAssertEqual(contents, [[UInt8](repeating: 7, count: 1300)])
    }

    func testPartialRecordNamesTheFile() throws {
        let directory = try TestFiles.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for file in makeBatches().files { try TestFiles.write(file.bytes, to: directory + "/" + file.name) }
        let damaged = directory + "/data_batch_3.bin"
        let bytes = TestFiles.cifarRecords(count: 2, salt: 0).bytes
        try TestFiles.write(Array(bytes.dropLast(100)), to: damaged)
        assertDatasetError(try CIFAR10Loader.load(from: directory), mentions: damaged, "3073-byte records")
        try TestFiles.write([], to: damaged)
        assertDatasetError(try CIFAR10Loader.load(from: directory), mentions: damaged, "empty")
    }

    func testBadLabelAndMissingFileNameTheFile() throws {
        let directory = try TestFiles.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for file in makeBatches().files { try TestFiles.write(file.bytes, to: directory + "/" + file.name) }
        var bytes = TestFiles.cifarRecords(count: 2, salt: 0).bytes
        bytes[3073] = 12
        try TestFiles.write(bytes, to: directory + "/test_batch.bin")
        assertDatasetError(try CIFAR10Loader.load(from: directory), mentions: directory + "/test_batch.bin",
                           "record 1", "label 12")
        try FileManager.default.removeItem(atPath: directory + "/data_batch_5.bin")
        assertDatasetError(try CIFAR10Loader.load(from: directory), mentions: directory + "/data_batch_5.bin",
                           "not found")
        let empty = try TestFiles.makeTemporaryDirectory("empty")
        defer { try? FileManager.default.removeItem(atPath: empty) }
        assertDatasetError(try CIFAR10Loader.load(from: empty), mentions: empty, "not found")
    }

    func testDamagedArchivesNameTheArchive() throws {
        let directory = try TestFiles.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let batches = makeBatches()
        let members = batches.files.map { (path: "cifar-10-batches-bin/" + $0.name, contents: $0.bytes) }
        let tar = TestFiles.tar(members)
        let archive = directory + "/cifar-10-binary.tar.gz"

        // Truncated gzip.
        try TestFiles.write(Array(TestFiles.gzip(tar).prefix(20_000)), to: archive)
        assertDatasetError(try CIFAR10Loader.load(from: archive), mentions: archive, "truncated")

        // Corrupt CRC.
        var corrupt = TestFiles.gzip(tar)
        corrupt[corrupt.count - 7] ^= 0x55
        try TestFiles.write(corrupt, to: archive)
        assertDatasetError(try CIFAR10Loader.load(from: archive), mentions: archive, "corrupt gzip")

        // A damaged tar header checksum.
        var badHeader = tar
        badHeader[0] = UInt8(ascii: "X")
        try TestFiles.write(TestFiles.gzip(badHeader), to: archive)
        assertDatasetError(try CIFAR10Loader.load(from: archive), mentions: archive, "checksum")

        // Not a tar at all.
        try TestFiles.write(TestFiles.gzip([UInt8](repeating: 65, count: 2000)), to: archive)
        assertDatasetError(try CIFAR10Loader.load(from: archive), mentions: archive)

        // A member missing.
        try TestFiles.write(TestFiles.gzip(TestFiles.tar(Array(members.dropLast()))), to: archive)
        assertDatasetError(try CIFAR10Loader.load(from: archive), mentions: archive, "test_batch.bin")

        // A member cut short inside an uncompressed tar.
        let plain = directory + "/short.tar"
        try TestFiles.write(Array(tar.prefix(512 + 5000)), to: plain)
        assertDatasetError(try CIFAR10Loader.load(from: plain), mentions: plain, "truncated")

        // A member whose size is not a whole number of records.
        var odd = members
        odd[1].contents.removeLast()
        try TestFiles.write(TestFiles.gzip(TestFiles.tar(odd)), to: archive)
        assertDatasetError(try CIFAR10Loader.load(from: archive), mentions: archive, "data_batch_2.bin",
                           "3073-byte records")
    }
}
