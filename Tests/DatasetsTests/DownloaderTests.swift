import Datasets
import Foundation
import XCTest

/// Exercises the downloader against a local HTTP server (Python's `http.server` on 127.0.0.1).
final class DownloaderTests: XCTestCase {
    private var served = ""
    private var destination = ""

    override func setUpWithError() throws {
        served = try TestFiles.makeTemporaryDirectory("served")
        destination = try TestFiles.makeTemporaryDirectory("destination")
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: served)
        try? FileManager.default.removeItem(atPath: destination)
    }

    /// A file description for a path the server answers specially (its checksum never matters).
    private func special(_ name: String, size: Int) -> RemoteDatasetFile {
        RemoteDatasetFile(name: name, md5: String(repeating: "0", count: 32), size: size)
    }

    /// FoundationNetworking's own download buffers in the system temporary folder.
    private func foundationTemporaryFiles() -> Set<String> {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory())) ?? []
        return Set(entries.filter { $0.hasPrefix("CFNetworkDownload") })
    }

    /// Seconds of CPU this process has used.
    private func processorSeconds() -> Double {
        var usage = rusage()
        #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    func testDownloadVerifiesSizesAndChecksumsAndRejectsCorruptFiles() throws {
        _ = try TestFiles.writeMNISTStyle(into: served, trainCount: 20, testCount: 5, gzip: true)
        let names = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                     "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
        let files = try names.map { name -> RemoteDatasetFile in
            let path = served + "/" + name
            let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? -1
            return RemoteDatasetFile(name: name, md5: try MD5.hexDigest(ofFileAt: path), size: size)
        }
        let server = try LocalHTTPServer(serving: served)
        defer { server.stop() }

        // Good path: all four arrive, pass their checks, and load.
        let paths = try DatasetDownloader.download(.mnist, into: destination, baseURL: server.baseURL,
                                                   files: files, timeout: 30)
        XCTAssertEqual(paths, names.map { destination + "/" + $0 })
        let splits = try MNISTLoader.load(directory: destination)
        XCTAssertEqual(splits.train.count, 20)
        XCTAssertEqual(splits.test.count, 5)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: destination).sorted(), names.sorted())

        // Already present with the right size and checksum: kept, no transfer needed.
        let again = try DatasetDownloader.download(.mnist, into: destination, baseURL: server.baseURL + "missing/",
                                                   files: files, timeout: 30)
        XCTAssertEqual(again, paths)

        // Corrupted on the server: a checksum mismatch naming the file, which is not left in place.
        let victim = "t10k-labels-idx1-ubyte.gz"
        try FileManager.default.removeItem(atPath: destination + "/" + victim)
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: served + "/" + victim)))
        bytes[bytes.count / 2] ^= 0xFF
        try TestFiles.write(bytes, to: served + "/" + victim)
        let error = assertDatasetError(
            try DatasetDownloader.download(.mnist, into: destination, baseURL: server.baseURL, files: files, timeout: 30),
            mentions: destination + "/" + victim, "MD5 checksum mismatch")
        if case .checksumMismatch = error {} else { XCTFail("expected a checksum mismatch, got \(String(describing: error))") }
        XCTAssertFalse(FileManager.default.fileExists(atPath: destination + "/" + victim))

        // Shorter on the server than the file is known to be.
        try TestFiles.write(Array(bytes.prefix(10)), to: served + "/" + victim)
        assertDatasetError(
            try DatasetDownloader.download(.mnist, into: destination, baseURL: server.baseURL, files: files, timeout: 30),
            mentions: destination + "/" + victim, "ended after 10 of the file's \(bytes.count) bytes")

        // A file the server does not have: an HTTP error naming the file.
        assertDatasetError(
            try DatasetDownloader.download(.mnist, into: destination, baseURL: server.baseURL,
                                           files: [special("absent.gz", size: 10)], timeout: 30),
            mentions: destination + "/absent.gz", "404")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: destination).sorted(),
                       names.filter { $0 != victim }.sorted())
    }

    /// The audit's endless response wrote 3.4 GB to /tmp: now it stops at the file's known size (or at
    /// once when the announced length is larger), and nothing is left anywhere.
    func testEndlessResponseIsCutOffAtTheKnownSizeAndLeavesNothing() throws {
        let server = try LocalHTTPServer(serving: served)
        defer { server.stop() }
        let foundationFilesBefore = foundationTemporaryFiles()
        let started = Date()
        assertDatasetError(
            try DatasetDownloader.download(.mnist, into: destination, baseURL: server.baseURL,
                                           files: [special("endless", size: 100_000)], timeout: 30),
            mentions: destination + "/endless", "more than the 100000 bytes this file has")
        assertDatasetError(
            try DatasetDownloader.download(.mnist, into: destination, baseURL: server.baseURL,
                                           files: [special("announced", size: 100_000)], timeout: 30),
            mentions: destination + "/announced", "announces more than the 100000 bytes")
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: destination), [])
        XCTAssertTrue(foundationTemporaryFiles().isSubset(of: foundationFilesBefore))
    }

    /// A server that stops sending (after the headers, or before them) is given up after the idle
    /// timeout, and waiting for it costs next to no CPU.
    func testStalledConnectionTimesOutWithoutSpinning() throws {
        let server = try LocalHTTPServer(serving: served)
        defer { server.stop() }
        for name in ["stall", "silent"] {
            let started = Date()
            let cpuBefore = processorSeconds()
            assertDatasetError(
                try DatasetDownloader.download(.mnist, into: destination, baseURL: server.baseURL,
                                               files: [special(name, size: 100_000)], timeout: 30, idleTimeout: 1),
                mentions: destination + "/" + name, "timed out", "stalled")
            let wall = Date().timeIntervalSince(started)
            let cpu = processorSeconds() - cpuBefore
            XCTAssertGreaterThan(wall, 0.9, name)
            XCTAssertLessThan(wall, 5, name)
            XCTAssertLessThan(cpu, 0.3 * wall, "\(name): \(cpu) s of CPU in \(wall) s of waiting")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: destination), [])
    }

    /// A server that keeps the connection alive with a byte now and then still hits the total timeout.
    func testTrickleHitsTheTotalTimeout() throws {
        let server = try LocalHTTPServer(serving: served)
        defer { server.stop() }
        let started = Date()
        assertDatasetError(
            try DatasetDownloader.download(.mnist, into: destination, baseURL: server.baseURL,
                                           files: [special("trickle", size: 100_000)], timeout: 1.5, idleTimeout: 1),
            mentions: destination + "/trickle", "took more than 1.5 s")
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: destination), [])
    }

    func testArgumentsAreCheckedBeforeAnythingIsWritten() {
        let folder = destination + "/not-created"
        let good = [special("a.gz", size: 10)]
        func refuses(timeout: Double = 30, idleTimeout: Double = 60, baseURL: String = "http://127.0.0.1:9/",
                     files: [RemoteDatasetFile]? = nil, _ fragment: String, line: UInt = #line) {
            XCTAssertThrowsError(try DatasetDownloader.download(.mnist, into: folder, baseURL: baseURL, files: files ?? good,
                                                                timeout: timeout, idleTimeout: idleTimeout),
                                 line: line) { error in
                XCTAssertTrue("\(error)".contains(fragment), "\(error) does not mention \(fragment)", line: line)
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: folder), line: line)
        }
        refuses(timeout: .nan, "got nan")
        refuses(timeout: 0, "timeout must be a finite, positive")
        refuses(timeout: -1, "got -1")
        refuses(timeout: .infinity, "got inf")
        refuses(idleTimeout: .nan, "idle timeout")
        refuses(idleTimeout: -3, "idle timeout")
        refuses(baseURL: "ftp://example.org/", "not an http(s) URL")
        refuses(baseURL: "just words", "not an http(s) URL")
        refuses(files: [special("../escape", size: 10)], "not a plain file name")
        refuses(files: [special("a.gz", size: 0)], "size of a.gz must be positive")
        refuses(files: [RemoteDatasetFile(name: "a.gz", md5: "xyz", size: 10)], "not 32 hex digits")
    }

    func testPartialFilesOfDeadDownloadsAreRemoved() throws {
        try TestFiles.write([1, 2, 3], to: served + "/f.bin")
        let file = RemoteDatasetFile(name: "f.bin", md5: MD5.hexDigest(of: [1, 2, 3] as [UInt8]), size: 3)
        let dead = destination + "/.f.bin.partial-2000000000"  // beyond any pid_max
        let alive = destination + "/.f.bin.partial-1"  // init
        try TestFiles.write([9], to: dead)
        try TestFiles.write([9], to: alive)
        let server = try LocalHTTPServer(serving: served)
        defer { server.stop() }
        _ = try DatasetDownloader.download(.mnist, into: destination, baseURL: server.baseURL, files: [file], timeout: 30)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: destination).sorted(),
                       [".f.bin.partial-1", "f.bin"])
    }

    func testPublishedTables() {
        XCTAssertEqual(DatasetDownloader.publishedFiles(for: .mnist).map(\.size), [9_912_422, 28_881, 1_648_877, 4_542])
        XCTAssertEqual(DatasetDownloader.publishedFiles(for: .fashionMNIST).map(\.md5),
                       ["8d4fb7e6c68d591d4c3dfef9ec88bf0d", "25c81989df183df01b3e8a0aad5dffbe",
                        "bef4ecab320f06d8554ea6380940ec79", "bb300cfdad3c16e7a12a480ee83cd310"])
        XCTAssertEqual(DatasetDownloader.publishedFiles(for: .cifar10),
                       [RemoteDatasetFile(name: "cifar-10-binary.tar.gz", md5: "c32a1d4ab5d03f1284b67883e8d87530",
                                          size: 170_052_171)])
        XCTAssertEqual(DatasetDownloader.defaultBaseURL(for: .mnist), "https://ossci-datasets.s3.amazonaws.com/mnist/")
        for dataset in DownloadableDataset.allCases {
            XCTAssertTrue(DatasetDownloader.publishedFiles(for: dataset).allSatisfy {
                $0.md5.count == 32 && $0.md5.allSatisfy(\.isHexDigit) && $0.size > 0
            })
        }
    }

    /// The published sizes and checksums agree with the official MNIST files when they are on disk.
    func testPublishedMNISTEntriesMatchTheOfficialFiles() throws {
        let folder = TestFiles.sharedDataDirectory + "/mnist"
        guard FileManager.default.fileExists(atPath: folder) else {
            throw XCTSkip("the official MNIST files are not at \(folder)")
        }
        for file in DatasetDownloader.publishedFiles(for: .mnist) {
            let path = folder + "/" + file.name
            XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int, file.size, file.name)
            XCTAssertEqual(try MD5.hexDigest(ofFileAt: path), file.md5, file.name)
        }
    }
}
