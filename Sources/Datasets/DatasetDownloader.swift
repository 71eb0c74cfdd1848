import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A data set the downloader can fetch.
public enum DownloadableDataset: String, Sendable, CaseIterable, Codable {
    /// MNIST: four gzip-compressed IDX files.
    case mnist
    /// Fashion-MNIST: four gzip-compressed IDX files.
    case fashionMNIST = "fashion-mnist"
    /// CIFAR-10, binary version: one `.tar.gz`.
    case cifar10
}

/// A file to download and its expected MD5 checksum.
public struct RemoteDatasetFile: Sendable, Equatable, Codable {
    /// The file name, appended to the base URL and used as the local name.
    public var name: String
    /// The expected MD5 as 32 lowercase hex digits.
    public var md5: String

    /// Names a file and its checksum.
    public init(name: String, md5: String) {
        self.name = name
        self.md5 = md5.lowercased()
    }
}

/// Fetches the official data set files over HTTP(S) with `URLSession`, verifying each against its
/// published MD5 before giving it its final name.
///
/// Each file is written to a hidden temporary name in the target folder, checked, then renamed; a file
/// whose checksum does not match is deleted and reported as ``DatasetError/checksumMismatch(path:expectedMD5:actualMD5:)``.
/// Files already present with the right checksum are not downloaded again.
public enum DatasetDownloader {
    /// The commonly used mirror for each data set (a folder URL ending in `/`, or the archive's folder).
    public static func defaultBaseURL(for dataset: DownloadableDataset) -> String {
        switch dataset {
        case .mnist: return "https://ossci-datasets.s3.amazonaws.com/mnist/"
        case .fashionMNIST: return "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
        case .cifar10: return "https://www.cs.toronto.edu/~kriz/"
        }
    }

    /// The official files of each data set with their published MD5 checksums.
    public static func publishedFiles(for dataset: DownloadableDataset) -> [RemoteDatasetFile] {
        switch dataset {
        case .mnist:
            return [
                RemoteDatasetFile(name: "train-images-idx3-ubyte.gz", md5: "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
                RemoteDatasetFile(name: "train-labels-idx1-ubyte.gz", md5: "d53e105ee54ea40749a09fcbcd1e9432"),
                RemoteDatasetFile(name: "t10k-images-idx3-ubyte.gz", md5: "9fb629c4189551a2d022fa330f9573f3"),
                RemoteDatasetFile(name: "t10k-labels-idx1-ubyte.gz", md5: "ec29112dd5afa0611ce80d1b7f02629c"),
            ]
        case .fashionMNIST:
            return [
                RemoteDatasetFile(name: "train-images-idx3-ubyte.gz", md5: "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
                RemoteDatasetFile(name: "train-labels-idx1-ubyte.gz", md5: "25c81989df183df01b3e8a0aad5dffbe"),
                RemoteDatasetFile(name: "t10k-images-idx3-ubyte.gz", md5: "bef4ecab320f06d8554ea6380940ec79"),
                RemoteDatasetFile(name: "t10k-labels-idx1-ubyte.gz", md5: "bb300cfdad3c16e7a12a480ee83cd310"),
            ]
        case .cifar10:
            return [RemoteDatasetFile(name: "cifar-10-binary.tar.gz", md5: "c32a1d4ab5d03f1284b67883e8d87530")]
        }
    }

    /// Downloads `dataset` into `directory` (created if needed) and returns the local paths, in the order
    /// of `files`. Load the result with ``MNISTLoader/load(directory:variant:)`` or
    /// ``CIFAR10Loader/load(from:)`` on `directory`.
    ///
    /// - Parameters:
    ///   - dataset: which data set.
    ///   - directory: where its files go.
    ///   - baseURL: overrides ``defaultBaseURL(for:)`` (a mirror, or a local server in tests).
    ///   - files: overrides ``publishedFiles(for:)`` (names and checksums).
    ///   - timeout: the most seconds each file may take.
    ///   - progress: called with a line of text before and after each file.
    public static func download(_ dataset: DownloadableDataset, into directory: String, baseURL: String? = nil,
                                files: [RemoteDatasetFile]? = nil, timeout: TimeInterval = 600,
                                progress: (@Sendable (String) -> Void)? = nil) throws -> [String] {
        let base = baseURL ?? defaultBaseURL(for: dataset)
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw DatasetError.unreadable(path: directory, reason: "cannot create the folder: \(error.localizedDescription)")
        }
        var paths: [String] = []
        for file in files ?? publishedFiles(for: dataset) {
            let finalPath = joinPath(directory, file.name)
            if isRegularFile(finalPath), (try? MD5.hexDigest(ofFileAt: finalPath)) == file.md5 {
                progress?("\(finalPath): already present, checksum OK")
                paths.append(finalPath)
                continue
            }
            let urlText = base.hasSuffix("/") ? base + file.name : base + "/" + file.name
            progress?("downloading \(urlText)")
            try fetch(urlText: urlText, to: finalPath, expectedMD5: file.md5, timeout: timeout)
            progress?("\(finalPath): checksum OK")
            paths.append(finalPath)
        }
        return paths
    }

    /// Downloads one URL to a temporary file beside `finalPath`, checks its MD5 and renames it.
    private static func fetch(urlText: String, to finalPath: String, expectedMD5: String,
                              timeout: TimeInterval) throws {
        guard let url = URL(string: urlText), let scheme = url.scheme, ["http", "https"].contains(scheme) else {
            throw DatasetError.downloadFailed(url: urlText, path: finalPath, detail: "not an http(s) URL")
        }
        let directory = (finalPath as NSString).deletingLastPathComponent
        let fileName = (finalPath as NSString).lastPathComponent
        let temporaryPath = joinPath(directory, ".\(fileName).partial-\(ProcessInfo.processInfo.processIdentifier)")
        defer { try? FileManager.default.removeItem(atPath: temporaryPath) }

        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = min(timeout, 60)
        configuration.timeoutIntervalForResource = timeout
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        let session = URLSession(configuration: configuration)
        defer { session.finishTasksAndInvalidate() }

        let outcome = DownloadOutcome()
        let finished = DispatchSemaphore(value: 0)
        let task = session.downloadTask(with: url) { location, response, error in
            defer { finished.signal() }
            if let error {
                outcome.record(.failure("\(error.localizedDescription)"))
                return
            }
            if let http = response as? HTTPURLResponse, !(200..<300).contains(http.statusCode) {
                outcome.record(.failure("HTTP status \(http.statusCode)"))
                return
            }
            guard let location else {
                outcome.record(.failure("no data received"))
                return
            }
            // The system deletes `location` when this handler returns, so move it now — unless the
            // caller has already given up waiting, in which case nothing may be left behind.
            guard !outcome.isAbandoned else { return }
            do {
                try? FileManager.default.removeItem(atPath: temporaryPath)
                try FileManager.default.moveItem(atPath: location.path, toPath: temporaryPath)
                outcome.record(.success)
            } catch {
                outcome.record(.failure("cannot store the download at \(temporaryPath): \(error.localizedDescription)"))
            }
        }
        task.resume()
        if finished.wait(timeout: .now() + timeout + 5) == .timedOut {
            outcome.abandon()
            task.cancel()
            throw DatasetError.downloadFailed(url: urlText, path: finalPath, detail: "timed out after \(Int(timeout)) s")
        }
        switch outcome.result {
        case .success:
            break
        case .failure(let reason):
            throw DatasetError.downloadFailed(url: urlText, path: finalPath, detail: reason)
        case nil:
            throw DatasetError.downloadFailed(url: urlText, path: finalPath, detail: "the transfer ended without a result")
        }
        let actualMD5 = try MD5.hexDigest(ofFileAt: temporaryPath)
        guard actualMD5 == expectedMD5.lowercased() else {
            throw DatasetError.checksumMismatch(path: finalPath, expectedMD5: expectedMD5.lowercased(), actualMD5: actualMD5)
        }
        try? FileManager.default.removeItem(atPath: finalPath)
        guard rename(temporaryPath, finalPath) == 0 else {
            throw DatasetError.downloadFailed(url: urlText, path: finalPath,
                                              detail: "cannot rename the download into place: \(systemErrorMessage(errno))")
        }
    }
}

/// The result of one transfer, handed from URLSession's delegate queue to the waiting caller.
private final class DownloadOutcome: @unchecked Sendable {
    enum Result {
        case success
        case failure(String)
    }

    private let lock = NSLock()
    private var stored: Result?
    private var abandoned = false

    var result: Result? {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }

    /// Whether the waiting caller has timed out and no longer wants the file.
    var isAbandoned: Bool {
        lock.lock()
        defer { lock.unlock() }
        return abandoned
    }

    func abandon() {
        lock.lock()
        defer { lock.unlock() }
        abandoned = true
    }

    func record(_ result: Result) {
        lock.lock()
        defer { lock.unlock() }
        stored = result
    }
}
