import Datasets
import Foundation
import XCTest

final class IDXReaderTests: XCTestCase {
    private func roundTrip(gzip: Bool) throws {
        let directory = try TestFiles.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let written = try TestFiles.writeMNISTStyle(into: directory, trainCount: 25, testCount: 7, gzip: gzip)
        let splits = try MNISTLoader.load(directory: directory, variant: .fashionMNIST)

        XCTAssertEqual(splits.train.count, 25)
        XCTAssertEqual(splits.test.count, 7)
        XCTAssertEqual(splits.train.channels, 1)
        XCTAssertEqual(splits.train.height, 4)
        XCTAssertEqual(splits.train.width, 3)
        XCTAssertEqual(splits.train.imageSize, 12)
        XCTAssertEqual(splits.train.images, written.trainPixels.map { Float($0) / 255 })
        XCTAssertEqual(splits.test.images, written.testPixels.map { Float($0) / 255 })
        XCTAssertEqual(splits.train.labels, written.trainLabels.map(Int32.init))
        XCTAssertEqual(splits.test.labels, written.testLabels.map(Int32.init))
        XCTAssertEqual(splits.train.classNames, MNISTVariant.fashionMNIST.classNames)
        XCTAssertEqual(splits.train.name, "fashion-mnist-train")
        XCTAssertTrue(splits.train.images.allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    func testGzipRoundTrip() throws { try roundTrip(gzip: true) }

    func testPlainRoundTrip() throws { try roundTrip(gzip: false) }

    func testExtremePixelValuesScaleToZeroAndOne() throws {
        let directory = try TestFiles.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/images"
        try TestFiles.write(TestFiles.idxImages(count: 1, rows: 1, columns: 3, pixels: [0, 255, 51]), to: path)
        let images = try IDXFile.readImages(at: path)
        XCTAssertEqual(images.pixels, [0, 255, 51])
        let dataset = try IDXFile.readDataset(
            imagesPath: path, labelsPath: { let p = directory + "/labels"
                try TestFiles.write(TestFiles.idxLabels([9]), to: p); return p }(),
            name: "tiny", classNames: MNISTVariant.mnist.classNames)
        XCTAssertEqual(dataset.images, [0, 1, 0.2])
    }

    func testMissingFileNamesThePath() throws {
        let directory = try TestFiles.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        assertDatasetError(try MNISTLoader.load(directory: directory),
                           mentions: directory + "/train-images-idx3-ubyte.gz", "not found")
        assertDatasetError(try MNISTLoader.load(directory: directory + "/absent"),
                           mentions: directory + "/absent", "not found")
        assertDatasetError(try IDXFile.readImages(at: directory), mentions: directory, "folder")
    }

    func testTruncatedPlainFileNamesThePath() throws {
        let directory = try TestFiles.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let full = TestFiles.idxImages(count: 5, rows: 4, columns: 4, pixels: TestFiles.pixels(count: 5, size: 16))
        let path = directory + "/train-images-idx3-ubyte"
        try TestFiles.write(Array(full.dropLast(10)), to: path)
        assertDatasetError(try IDXFile.readImages(at: path), mentions: path, "truncated")
        try TestFiles.write(Array(full.prefix(9)), to: path)
        assertDatasetError(try IDXFile.readImages(at: path), mentions: path, "truncated")
        try TestFiles.write([], to: path)
        assertDatasetError(try IDXFile.readImages(at: path), mentions: path, "truncated")
    }

    func testTruncatedGzipFileNamesThePath() throws {
        let directory = try TestFiles.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let full = TestFiles.gzip(TestFiles.idxLabels([1, 2, 3, 4, 5, 6]))
        let path = directory + "/train-labels-idx1-ubyte.gz"
        for cut in [1, 6, 12, full.count - 20] {
            try TestFiles.write(Array(full.dropLast(cut)), to: path)
            assertDatasetError(try IDXFile.readLabels(at: path), mentions: path)
        }
        try TestFiles.write([], to: path)
        assertDatasetError(try IDXFile.readLabels(at: path), mentions: path, "truncated")
    }

    func testWrongMagicNamesThePath() throws {
        let directory = try TestFiles.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // A label file where the image file should be.
        let path = directory + "/train-images-idx3-ubyte.gz"
        try TestFiles.write(TestFiles.gzip(TestFiles.idxLabels([1, 2, 3])), to: path)
        assertDatasetError(try IDXFile.readImages(at: path), mentions: path, "magic", "0x00000801", "0x00000803")
        let labelsPath = directory + "/labels"
        try TestFiles.write(TestFiles.idxLabels([1, 2], magic: 0x0000_0901), to: labelsPath)
        assertDatasetError(try IDXFile.readLabels(at: labelsPath), mentions: labelsPath, "magic")
    }

    func testExtraBytesAndBadLabelsAreMalformed() throws {
        let directory = try TestFiles.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/labels"
        try TestFiles.write(TestFiles.idxLabels([1, 2, 3]) + [0], to: path)
        assertDatasetError(try IDXFile.readLabels(at: path), mentions: path, "extra bytes")
        try TestFiles.write(TestFiles.idxLabels([1, 10, 3]), to: path)
        assertDatasetError(try IDXFile.readLabels(at: path), mentions: path, "label 10")
        let images = directory + "/images"
        try TestFiles.write(TestFiles.idxImages(count: 2, rows: 0, columns: 3, pixels: []), to: images)
        assertDatasetError(try IDXFile.readImages(at: images), mentions: images, "zero")
        // A header declaring an enormous size must fail cleanly, not allocate it.
        try TestFiles.write(TestFiles.idxImages(count: 0xFFFF_FFFF, rows: 0xFFFF_FFFF, columns: 0xFFFF_FFFF,
                                                pixels: [1, 2, 3]), to: images)
        assertDatasetError(try IDXFile.readImages(at: images), mentions: images)
        try TestFiles.write(TestFiles.idxImages(count: 60_000, rows: 28, columns: 28, pixels: [1, 2, 3]), to: images)
        assertDatasetError(try IDXFile.readImages(at: images), mentions: images, "truncated")
    }

    func testImageLabelCountMismatchNamesBothFiles() throws {
        let directory = try TestFiles.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        _ = try TestFiles.writeMNISTStyle(into: directory, trainCount: 6, testCount: 2, gzip: true)
        let labelsPath = directory + "/train-labels-idx1-ubyte.gz"
        try TestFiles.write(TestFiles.gzip(TestFiles.idxLabels([1, 2, 3, 4, 5])), to: labelsPath)
        assertDatasetError(try MNISTLoader.load(directory: directory), mentions: labelsPath,
                           directory + "/train-images-idx3-ubyte.gz", "5 labels for 6 images")
    }

    func testCorruptGzipNamesThePath() throws {
        let directory = try TestFiles.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/t10k-labels-idx1-ubyte.gz"
        var bytes = TestFiles.gzip(TestFiles.idxLabels([1, 2, 3, 4]))
        bytes[bytes.count - 6] ^= 0xFF  // inside the CRC-32 trailer
        try TestFiles.write(bytes, to: path)
        assertDatasetError(try IDXFile.readLabels(at: path), mentions: path, "corrupt gzip")

        var payload = TestFiles.gzip(TestFiles.idxLabels([1, 2, 3, 4]))
        payload[payload.count - 10] ^= 0x01  // a data byte: CRC no longer matches
        try TestFiles.write(payload, to: path)
        assertDatasetError(try IDXFile.readLabels(at: path), mentions: path, "corrupt gzip")

        try TestFiles.write(Array("this is not gzip at all, just text".utf8), to: path)
        assertDatasetError(try IDXFile.readLabels(at: path), mentions: path, "corrupt gzip")
    }

    func testConcatenatedGzipMembersAreRead() throws {
        let directory = try TestFiles.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/labels.gz"
        let file = TestFiles.idxLabels([3, 1, 4, 1, 5, 9, 2, 6])
        try TestFiles.write(TestFiles.gzip(Array(file.prefix(5))) + TestFiles.gzip(Array(file.dropFirst(5))), to: path)
        XCTAssertEqual(try IDXFile.readLabels(at: path), [3, 1, 4, 1, 5, 9, 2, 6])
    }

    func testLargeGzipSpanningManyStoredBlocks() throws {
        let directory = try TestFiles.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pixels = TestFiles.pixels(count: 300, size: 28 * 28, salt: 5)
        let path = directory + "/images.gz"
        try TestFiles.write(TestFiles.gzip(TestFiles.idxImages(count: 300, rows: 28, columns: 28, pixels: pixels)), to: path)
        let images = try IDXFile.readImages(at: path)
        XCTAssertEqual(images.count, 300)
        XCTAssertEqual(images.pixels, pixels)
    }
}
