import Datasets
import Foundation
import XCTest

/// Exercises the downloader against a local HTTP server (Python's `http.server` on 127.0.0.1).
final class DownloaderTests: XCTestCase {
    /// A running `python3` HTTP server serving one folder on a free loopback port.
    private final class LocalServer {
        let process = Process()
        let port: Int

        init(serving directory: String) throws {
            guard let python = LocalServer.findExecutable("python3") else {
                throw XCTSkip("python3 is not installed, so there is no local HTTP server for the download test")
            }
            // The server binds an ephemeral loopback port, prints it, and exits by itself after 120 s.
            let script = """
            import functools, http.server, signal, sys
            signal.alarm(120)
            class Quiet(http.server.SimpleHTTPRequestHandler):
                def log_message(self, *args): pass
            handler = functools.partial(Quiet, directory=sys.argv[1])
            server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
            print(server.server_address[1], flush=True)
            server.serve_forever()
            """
            process.executableURL = URL(fileURLWithPath: python)
            process.arguments = ["-c", script, directory]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            // Reading the port blocks until the line arrives or the server dies (closing the pipe).
            var line = Data()
            while !line.contains(UInt8(ascii: "\n")) {
                let chunk = output.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                line.append(chunk)
            }
            guard let text = String(data: line, encoding: .utf8),
                  let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                process.terminate()
                throw XCTSkip("the local python3 HTTP server did not start")
            }
            self.port = port
        }

        var baseURL: String { "http://127.0.0.1:\(port)/" }

        func stop() {
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
        }

        static func findExecutable(_ name: String) -> String? {
            let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
            for folder in path.split(separator: ":") {
                let candidate = "\(folder)/\(name)"
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            }
            return nil
        }
    }

    func testDownloadVerifiesChecksumsAndRejectsCorruptFiles() throws {
        let served = try TestFiles.makeTemporaryDirectory("served")
        let destination = try TestFiles.makeTemporaryDirectory("destination")
        defer {
            try? FileManager.default.removeItem(atPath: served)
            try? FileManager.default.removeItem(atPath: destination)
        }
        _ = try TestFiles.writeMNISTStyle(into: served, trainCount: 20, testCount: 5, gzip: true)
        let names = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                     "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
        let files = try names.map { RemoteDatasetFile(name: $0, md5: try MD5.hexDigest(ofFileAt: served + "/" + $0)) }

        let server = try LocalServer(serving: served)
        defer { server.stop() }

        // Good path: all four arrive, pass their checksums, and load.
        let paths = try DatasetDownloader.download(.mnist, into: destination, baseURL: server.baseURL,
                                                   files: files, timeout: 30)
        XCTAssertEqual(paths, names.map { destination + "/" + $0 })
        let splits = try MNISTLoader.load(directory: destination)
        XCTAssertEqual(splits.train.count, 20)
        XCTAssertEqual(splits.test.count, 5)

        // Already present with the right checksum: kept, no new transfer needed (server files removed).
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
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: destination).filter { $0.contains("partial") }
        XCTAssertEqual(leftovers, [])

        // A file the server does not have: an HTTP error naming the file.
        assertDatasetError(
            try DatasetDownloader.download(.mnist, into: destination, baseURL: server.baseURL,
                                           files: [RemoteDatasetFile(name: "absent.gz", md5: String(repeating: "0", count: 32))],
                                           timeout: 30),
            mentions: destination + "/absent.gz", "404")
        XCTAssertFalse(FileManager.default.fileExists(atPath: destination + "/absent.gz"))
    }

    func testPublishedChecksumTables() {
        XCTAssertEqual(DatasetDownloader.publishedFiles(for: .mnist).count, 4)
        XCTAssertEqual(DatasetDownloader.publishedFiles(for: .fashionMNIST).map(\.md5),
                       ["8d4fb7e6c68d591d4c3dfef9ec88bf0d", "25c81989df183df01b3e8a0aad5dffbe",
                        "bef4ecab320f06d8554ea6380940ec79", "bb300cfdad3c16e7a12a480ee83cd310"])
        XCTAssertEqual(DatasetDownloader.publishedFiles(for: .cifar10),
                       [RemoteDatasetFile(name: "cifar-10-binary.tar.gz", md5: "c32a1d4ab5d03f1284b67883e8d87530")])
        XCTAssertEqual(DatasetDownloader.defaultBaseURL(for: .mnist), "https://ossci-datasets.s3.amazonaws.com/mnist/")
        for dataset in DownloadableDataset.allCases {
            XCTAssertTrue(DatasetDownloader.publishedFiles(for: dataset).allSatisfy {
                $0.md5.count == 32 && $0.md5.allSatisfy(\.isHexDigit)
            })
        }
    }
}
