import Datasets
import Foundation
import XCTest

/// Declared sizes are checked before anything of that size is allocated or inflated — against the
/// data limit, the format and what the file or archive can hold — and decompression stops at what the
/// container declares.
final class BoundedReadingTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = try TestFiles.makeTemporaryDirectory("bounded")
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// `bytes` + `data_batch_2…5` + `test_batch` of one record each, as a tar member list.
    private func cifarMembers(firstBatch: [UInt8]) -> [(path: String, contents: [UInt8])] {
        let others = CIFAR10Loader.trainingFileNames.dropFirst() + [CIFAR10Loader.testFileName]
        return [(path: "cifar-10-batches-bin/data_batch_1.bin", contents: firstBatch)]
            + others.map { (path: "cifar-10-batches-bin/" + $0, contents: TestFiles.cifarRecords(count: 1, salt: 3).bytes) }
    }

    func testDeflateWriterMakesStreamsZlibAccepts() throws {
        // The bombs below are only meaningful if their deflate data is valid.
        var stream = DeflateWriter()
        let header = TestFiles.bigEndian(0x0000_0801) + TestFiles.bigEndian(70_000)
        stream.stored(header, final: false)
        stream.zeros(70_000, final: true)
        let plain = header + [UInt8](repeating: 0, count: 70_000)
        let path = directory + "/labels.gz"
        try TestFiles.write(stream.gzip(crc: TestFiles.crc32(plain), size: UInt32(plain.count)), to: path)
        XCTAssertEqual(try IDXFile.readLabels(at: path), [UInt8](repeating: 0, count: 70_000))
    }

    /// The audit's archive: a `.tar.gz` whose first batch declares 350,000 records (1.08 GB of zeros,
    /// 4.3 GB as floats) — refused at its tar header, before reading or allocating anything that size.
    func testCIFARBatchWithTooManyRecordsIsRefusedAtItsHeader() throws {
        let records = 350_000
        let size = records * CIFAR10Loader.recordSize
        var stream = DeflateWriter()
        stream.stored(TestFiles.tarHeader(path: "cifar-10-batches-bin/data_batch_1.bin", size: size,
                                          typeFlag: UInt8(ascii: "0")), final: false)
        stream.zeros(size, final: false)
        stream.stored(Array(TestFiles.tar(Array(cifarMembers(firstBatch: []).dropFirst()))), final: true)
        let archive = directory + "/cifar-10-binary.tar.gz"
        let bytes = stream.gzip()
        XCTAssertLessThan(bytes.count, 8_000_000)
        try TestFiles.write(bytes, to: archive)
        assertDatasetError(try CIFAR10Loader.load(from: archive), mentions: archive, "data_batch_1.bin",
                           "350000 records", "at most 10000")
    }

    func testCIFARMemberLargerThanTheArchiveCanHoldIsRefused() throws {
        // A whole batch of 10,000 records declared in a plain tar of a few KB, and in a gzip whose few
        // hundred compressed bytes cannot inflate to 30 MB.
        let header = TestFiles.tarHeader(path: "cifar-10-batches-bin/data_batch_1.bin", size: 10_000 * 3073,
                                         typeFlag: UInt8(ascii: "0"))
        let plain = directory + "/short.tar"
        try TestFiles.write(header + [UInt8](repeating: 0, count: 4096), to: plain)
        assertDatasetError(try CIFAR10Loader.load(from: plain), mentions: plain, "truncated", "data_batch_1.bin",
                           "the file has only 4096 bytes left")
        let compressed = directory + "/short.tar.gz"
        var stream = DeflateWriter()
        stream.stored(header, final: false)
        stream.zeros(4096, final: true)
        try TestFiles.write(stream.gzip(), to: compressed)
        assertDatasetError(try CIFAR10Loader.load(from: compressed), mentions: compressed, "truncated",
                           "data_batch_1.bin", "can inflate to at most")
    }

    func testCIFARFolderBatchSizesAreCheckedBeforeReading() throws {
        for (index, name) in (CIFAR10Loader.trainingFileNames + [CIFAR10Loader.testFileName]).enumerated() {
            try TestFiles.write(TestFiles.cifarRecords(count: 2, salt: index).bytes, to: directory + "/" + name)
        }
        XCTAssertEqual(try CIFAR10Loader.load(from: directory).train.count, 10)
        // One record over a batch file's 10,000, as a sparse file: refused without being read.
        let oversized = directory + "/data_batch_4.bin"
        XCTAssertEqual(truncate(oversized, off_t(10_001 * 3073)), 0)
        assertDatasetError(try CIFAR10Loader.load(from: directory), mentions: oversized, "10001 records", "at most 10000")
    }

    func testDataLimitCoversBothSplitsAndIsCheckedFirst() throws {
        for (index, name) in (CIFAR10Loader.trainingFileNames + [CIFAR10Loader.testFileName]).enumerated() {
            try TestFiles.write(TestFiles.cifarRecords(count: 2, salt: index).bytes, to: directory + "/" + name)
        }
        let perRecord = 3072 * 4 + 4
        XCTAssertEqual(DatasetLimits.inMemoryBytes(images: 2, pixelsPerImage: 3072), 2 * perRecord)
        // Exactly enough for all 12 records loads; one byte less fails on the last file read.
        XCTAssertEqual(try CIFAR10Loader.load(from: directory, limits: DatasetLimits(maxDataBytes: 12 * perRecord)).test.count, 2)
        let test = directory + "/" + CIFAR10Loader.testFileName
        assertDatasetError(try CIFAR10Loader.load(from: directory, limits: DatasetLimits(maxDataBytes: 12 * perRecord - 1)),
                           mentions: test, "too large", "with the \(10 * perRecord) bytes of the files read before it",
                           "limit of \(12 * perRecord - 1) bytes")
        // The same through an archive.
        let archive = directory + "/cifar.tar"
        try TestFiles.write(TestFiles.tar(cifarMembers(firstBatch: TestFiles.cifarRecords(count: 3, salt: 9).bytes)), to: archive)
        assertDatasetError(try CIFAR10Loader.load(from: archive, limits: DatasetLimits(maxDataBytes: 2 * perRecord)),
                           mentions: archive, "data_batch_1.bin", "3 records", "limit of \(2 * perRecord) bytes")

        // MNIST: the training split fits, the test split pushes the total over.
        let mnist = directory + "/mnist"
        try FileManager.default.createDirectory(atPath: mnist, withIntermediateDirectories: true)
        _ = try TestFiles.writeMNISTStyle(into: mnist, trainCount: 20, testCount: 5, gzip: true)
        let trainBytes = 20 * (12 * 4 + 4)
        XCTAssertEqual(try MNISTLoader.load(directory: mnist, limits: DatasetLimits(maxDataBytes: 25 * 52)).train.count, 20)
        assertDatasetError(try MNISTLoader.load(directory: mnist, limits: DatasetLimits(maxDataBytes: trainBytes + 10)),
                           mentions: mnist + "/t10k-images-idx3-ubyte.gz", "5 images of 4×3 pixels",
                           "with the \(trainBytes) bytes")
        // The default limit refuses a header declaring 2^32 - 1 one-pixel images before reading them.
        let huge = directory + "/huge-images"
        try TestFiles.write(TestFiles.idxImages(count: 0xFFFF_FFFF, rows: 1, columns: 1, pixels: [1]), to: huge)
        assertDatasetError(try IDXFile.readImages(at: huge), mentions: huge, "too large", "4294967295 images")
    }

    func testInvalidLimitsAreRefused() {
        for bad in [0, -5, Int.min] {
            XCTAssertThrowsError(try DatasetLimits(maxDataBytes: bad)) { error in
                XCTAssertTrue("\(error)".contains("\(bad)"), "\(error)")
            }
        }
        XCTAssertEqual(DatasetLimits().maxDataBytes, 4 << 30)
        XCTAssertNil(DatasetLimits.inMemoryBytes(images: Int.max / 2, pixelsPerImage: 3072))
    }

    func testIDXDeclaredSizesAreCheckedAgainstTheFile() throws {
        // Plain: the header promises 47 MB, the file holds 3 bytes.
        let plain = directory + "/images"
        try TestFiles.write(TestFiles.idxImages(count: 60_000, rows: 28, columns: 28, pixels: [1, 2, 3]), to: plain)
        assertDatasetError(try IDXFile.readImages(at: plain), mentions: plain, "truncated", "47040000 bytes",
                           "the file has only 3 bytes left")
        // Gzip: 784 MB declared in a file of a few hundred bytes, refused before inflating.
        let compressed = directory + "/images.gz"
        var stream = DeflateWriter()
        stream.stored(TestFiles.idxImages(count: 1_000_000, rows: 28, columns: 28, pixels: []), final: false)
        stream.zeros(60_000, final: true)
        try TestFiles.write(stream.gzip(), to: compressed)
        assertDatasetError(try IDXFile.readImages(at: compressed), mentions: compressed, "truncated",
                           "784000000 bytes", "can inflate to at most")
        // Labels: a count that does not match the images is refused before the labels are read.
        let labels = directory + "/labels"
        try TestFiles.write(TestFiles.bigEndian(0x0000_0801) + TestFiles.bigEndian(0xFFFF_FFFF) + [1, 2, 3], to: labels)
        let images = directory + "/small-images"
        try TestFiles.write(TestFiles.idxImages(count: 2, rows: 2, columns: 2, pixels: [1, 2, 3, 4, 5, 6, 7, 8]), to: images)
        assertDatasetError(try IDXFile.readDataset(imagesPath: images, labelsPath: labels, name: "x",
                                                   classNames: (0...9).map(String.init)),
                           mentions: labels, images, "4294967295 labels for 2 images")
        assertDatasetError(try IDXFile.readLabels(at: labels), mentions: labels, "too large", "4294967295 labels")
    }

    /// A gzip IDX file that goes on after its declared data: the reader asks for the declared bytes and
    /// one more, so it stops with "extra bytes" long before the invalid block placed 2 MB later.
    func testGzipIDXIsInflatedNoFurtherThanItsHeaderDeclares() throws {
        let pixels = TestFiles.pixels(count: 10, size: 12)
        var stream = DeflateWriter()
        stream.stored(TestFiles.idxImages(count: 10, rows: 4, columns: 3, pixels: pixels), final: false)
        stream.zeros(2 << 20, final: false)
        stream.invalidBlock()
        let path = directory + "/images.gz"
        try TestFiles.write(stream.gzip(), to: path)
        let error = assertDatasetError(try IDXFile.readImages(at: path), mentions: path, "extra bytes")
        XCTAssertFalse(error?.description.contains("invalid block type") ?? true)
    }

    /// A tar.gz that goes on after its end-of-archive blocks (a GB bomb in the audit) is refused after
    /// 1 MiB of padding; the invalid block 3 MB later shows the inflater never got there.
    func testTarIsInflatedNoFurtherThanItsEndPadding() throws {
        let members = cifarMembers(firstBatch: TestFiles.cifarRecords(count: 1, salt: 1).bytes)
        var stream = DeflateWriter()
        stream.stored(TestFiles.tar(members), final: false)
        stream.zeros(3 << 20, final: false)
        stream.invalidBlock()
        let archive = directory + "/cifar-10-binary.tar.gz"
        try TestFiles.write(stream.gzip(), to: archive)
        let error = assertDatasetError(try CIFAR10Loader.load(from: archive), mentions: archive, "too large",
                                       "more than 1048576 bytes follow the end-of-archive block")
        XCTAssertFalse(error?.description.contains("invalid block type") ?? true)

        // Ordinary record padding (here 10 KB of zeros, as GNU tar writes) is accepted.
        var padded = TestFiles.tar(members)
        padded += [UInt8](repeating: 0, count: 10_240 - padded.count % 10_240)
        try TestFiles.write(TestFiles.gzip(padded), to: archive)
        XCTAssertEqual(try CIFAR10Loader.load(from: archive).train.count, 5)
    }

    /// Sizes near `Int.max` (a GNU base-256 size field, a pax `size` record) are refused, not overflowed.
    func testTarSizesNearIntMaxAreRefused() throws {
        var header = TestFiles.tarHeader(path: "huge.bin", size: 0, typeFlag: UInt8(ascii: "0"))
        header.replaceSubrange(124..<136, with: [0x80, 0, 0, 0, 0x7F] + [UInt8](repeating: 0xFF, count: 7))
        for i in 148..<156 { header[i] = 0x20 }
        let checksum = Array(String(header.reduce(0) { $0 + Int($1) }, radix: 8).utf8)
        header.replaceSubrange(148..<156, with: [UInt8](repeating: UInt8(ascii: "0"), count: 6 - checksum.count) + checksum + [0, 0x20])
        let gnu = directory + "/gnu.tar"
        try TestFiles.write(header + [UInt8](repeating: 0, count: 1024), to: gnu)
        assertDatasetError(try CIFAR10Loader.load(from: gnu), mentions: gnu, "huge.bin", "9223372036854775807")

        let record = " size=\(Int.max)\n"
        let length = String(record.utf8.count + 2).count + record.utf8.count
        let pax = Array("\(length)\(record)".utf8)
        let paxTar = TestFiles.tarHeader(path: "PaxHeader", size: pax.count, typeFlag: UInt8(ascii: "x"))
            + pax + [UInt8](repeating: 0, count: 512 - pax.count)
            + TestFiles.tarHeader(path: "huge.bin", size: 1, typeFlag: UInt8(ascii: "0")) + [UInt8](repeating: 0, count: 1536)
        let paxPath = directory + "/pax.tar"
        try TestFiles.write(paxTar, to: paxPath)
        assertDatasetError(try CIFAR10Loader.load(from: paxPath), mentions: paxPath, "huge.bin", "9223372036854775807")
    }

    func testFIFOsAndDevicesAreRefusedWithoutBlocking() throws {
        let fifo = directory + "/train-images-idx3-ubyte"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        assertDatasetError(try IDXFile.readImages(at: fifo), mentions: fifo, "not a regular file")
        assertDatasetError(try TarArchiveReader(path: fifo), mentions: fifo, "not a regular file")
        assertDatasetError(try IDXFile.readLabels(at: "/dev/zero"), mentions: "/dev/zero", "not a regular file")
    }
}
