import Foundation

/// A data set the downloader can fetch.
public enum DownloadableDataset: String, Sendable, CaseIterable, Codable {
    /// MNIST: four gzip-compressed IDX files.
    case mnist
    /// Fashion-MNIST: four gzip-compressed IDX files.
    case fashionMNIST = "fashion-mnist"
    /// CIFAR-10, binary version: one `.tar.gz`.
    case cifar10
}

/// A file to download, its expected MD5 checksum and its size.
public struct RemoteDatasetFile: Sendable, Equatable, Codable {
    /// The file name, appended to the base URL and used as the local name.
    public var name: String
    /// The expected MD5 as 32 lowercase hex digits.
    public var md5: String
    /// The file's exact size in bytes; a download is stopped as soon as it exceeds it.
    public var size: Int

    /// Names a file, its checksum and its size.
    public init(name: String, md5: String, size: Int) {
        self.name = name
        self.md5 = md5.lowercased()
        self.size = size
    }
}

/// Fetches the official data set files over HTTP(S), verifying each against its published size and MD5
/// before giving it its final name.
///
/// Each file is streamed (with libcurl) into a hidden temporary file in the target folder, never more
/// than its known size, hashed as it arrives, then renamed into place; on any failure — an HTTP error,
/// more bytes than the file has, a stalled or too slow transfer, a checksum mismatch — the temporary file
/// is removed and a ``DatasetError`` names the file. Files already present with the right size and
/// checksum are not downloaded again.
public enum DatasetDownloader {
    /// The commonly used mirror for each data set (a folder URL ending in `/`, or the archive's folder).
    public static func defaultBaseURL(for dataset: DownloadableDataset) -> String {
        switch dataset {
        case .mnist: return "https://ossci-datasets.s3.amazonaws.com/mnist/"
        case .fashionMNIST: return "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
        case .cifar10: return "https://www.cs.toronto.edu/~kriz/"
        }
    }

    /// The official files of each data set with their published MD5 checksums and sizes.
    public static func publishedFiles(for dataset: DownloadableDataset) -> [RemoteDatasetFile] {
        switch dataset {
        case .mnist:
            return [
                RemoteDatasetFile(name: "train-images-idx3-ubyte.gz", md5: "f68b3c2dcbeaaa9fbdd348bbdeb94873", size: 9_912_422),
                RemoteDatasetFile(name: "train-labels-idx1-ubyte.gz", md5: "d53e105ee54ea40749a09fcbcd1e9432", size: 28_881),
                RemoteDatasetFile(name: "t10k-images-idx3-ubyte.gz", md5: "9fb629c4189551a2d022fa330f9573f3", size: 1_648_877),
                RemoteDatasetFile(name: "t10k-labels-idx1-ubyte.gz", md5: "ec29112dd5afa0611ce80d1b7f02629c", size: 4_542),
            ]
        case .fashionMNIST:
            return [
                RemoteDatasetFile(name: "train-images-idx3-ubyte.gz", md5: "8d4fb7e6c68d591d4c3dfef9ec88bf0d", size: 26_421_880),
                RemoteDatasetFile(name: "train-labels-idx1-ubyte.gz", md5: "25c81989df183df01b3e8a0aad5dffbe", size: 29_515),
                RemoteDatasetFile(name: "t10k-images-idx3-ubyte.gz", md5: "bef4ecab320f06d8554ea6380940ec79", size: 4_422_102),
                RemoteDatasetFile(name: "t10k-labels-idx1-ubyte.gz", md5: "bb300cfdad3c16e7a12a480ee83cd310", size: 5_148),
            ]
        case .cifar10:
            return [RemoteDatasetFile(name: "cifar-10-binary.tar.gz", md5: "c32a1d4ab5d03f1284b67883e8d87530",
                                      size: 170_052_171)]
        }
    }

    /// Downloads `dataset` into `directory` (created if needed) and returns the local paths, in the order
    /// of `files`. Load the result with ``MNISTLoader/load(directory:variant:limits:)`` or
    /// ``CIFAR10Loader/load(from:limits:)`` on `directory`. Every argument is checked before the folder
    /// is created.
    ///
    /// - Parameters:
    ///   - dataset: which data set.
    ///   - directory: where its files go.
    ///   - baseURL: overrides ``defaultBaseURL(for:)`` (a mirror, or a local server in tests).
    ///   - files: overrides ``publishedFiles(for:)`` (names, checksums and sizes).
    ///   - timeout: the most seconds each file may take (finite, positive).
    ///   - idleTimeout: the most seconds a transfer may go without receiving a byte, connecting
    ///     included (finite, positive; checked about once a second).
    ///   - progress: called with a line of text before and after each file.
    public static func download(_ dataset: DownloadableDataset, into directory: String, baseURL: String? = nil,
                                files: [RemoteDatasetFile]? = nil, timeout: Double = 600, idleTimeout: Double = 60,
                                progress: (@Sendable (String) -> Void)? = nil) throws -> [String] {
        let base = baseURL ?? defaultBaseURL(for: dataset)
        let wanted = files ?? publishedFiles(for: dataset)
        try validate(directory: directory, baseURL: base, files: wanted, timeout: timeout, idleTimeout: idleTimeout)
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw DatasetError.unreadable(path: directory, reason: "cannot create the folder: \(error.localizedDescription)")
        }
        var paths: [String] = []
        for file in wanted {
            let finalPath = joinPath(directory, file.name)
            if isPresent(file, at: finalPath) {
                progress?("\(finalPath): already present, checksum OK")
                paths.append(finalPath)
                continue
            }
            let urlText = base.hasSuffix("/") ? base + file.name : base + "/" + file.name
            progress?("downloading \(urlText)")
            let limits = HTTPFileTransfer.Limits(maximumBytes: file.size, timeout: timeout, idleTimeout: idleTimeout)
            try fetch(urlText: urlText, file: file, to: finalPath, limits: limits)
            progress?("\(finalPath): checksum OK")
            paths.append(finalPath)
        }
        return paths
    }

    /// Refuses arguments a download cannot use, before anything is written.
    private static func validate(directory: String, baseURL: String, files: [RemoteDatasetFile],
                                 timeout: Double, idleTimeout: Double) throws {
        guard !directory.isEmpty else { throw DatasetLimitError.invalid("the destination folder must not be empty") }
        guard timeout.isFinite, timeout > 0 else {
            throw DatasetLimitError.invalid("the download timeout must be a finite, positive number of seconds; got \(timeout)")
        }
        guard idleTimeout.isFinite, idleTimeout > 0 else {
            throw DatasetLimitError.invalid("the idle timeout must be a finite, positive number of seconds; got \(idleTimeout)")
        }
        guard let url = URL(string: baseURL), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
              url.host != nil else {
            throw DatasetLimitError.invalid("the base URL \"\(baseURL)\" is not an http(s) URL")
        }
        for file in files {
            guard !file.name.isEmpty, file.name != ".", file.name != "..", !file.name.contains("/") else {
                throw DatasetLimitError.invalid("\"\(file.name)\" is not a plain file name")
            }
            guard file.md5.count == 32, file.md5.allSatisfy(\.isHexDigit) else {
                throw DatasetLimitError.invalid("the MD5 of \(file.name), \"\(file.md5)\", is not 32 hex digits")
            }
            guard file.size > 0 else {
                throw DatasetLimitError.invalid("the size of \(file.name) must be positive; got \(file.size)")
            }
        }
    }

    /// Whether `path` already holds `file`: the right size, then the right checksum.
    private static func isPresent(_ file: RemoteDatasetFile, at path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, Int(info.st_size) == file.size else { return false }
        return (try? MD5.hexDigest(ofFileAt: path)) == file.md5
    }

    /// Streams one URL into a temporary file beside `finalPath`, checks its size and MD5, and renames it
    /// into place; the temporary file never outlives a failure.
    private static func fetch(urlText: String, file: RemoteDatasetFile, to finalPath: String,
                              limits: HTTPFileTransfer.Limits) throws {
        let directory = (finalPath as NSString).deletingLastPathComponent
        let ownID = Int(getpid())
        removeAbandonedPartials(of: file.name, in: directory, ownID: ownID)
        let temporaryPath = joinPath(directory, partialPrefix(of: file.name) + String(ownID))
        let descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw DatasetError.downloadFailed(url: urlText, path: finalPath,
                                              detail: "cannot create \(temporaryPath): \(systemErrorMessage(errno))")
        }
        var renamed = false
        defer { if !renamed { unlink(temporaryPath) } }
        let received: HTTPFileTransfer.Received
        do {
            received = try HTTPFileTransfer.fetch(url: urlText, into: descriptor, path: finalPath, limits: limits)
        } catch {
            close(descriptor)
            throw error
        }
        let synced = fsync(descriptor) == 0
        let closed = close(descriptor) == 0
        guard synced, closed else {
            throw DatasetError.downloadFailed(url: urlText, path: finalPath,
                                              detail: "cannot write \(temporaryPath): \(systemErrorMessage(errno))")
        }
        guard received.bytes == file.size else {
            throw DatasetError.downloadFailed(url: urlText, path: finalPath,
                                              detail: "the transfer ended after \(received.bytes) of the file's \(file.size) bytes")
        }
        guard received.md5 == file.md5 else {
            throw DatasetError.checksumMismatch(path: finalPath, expectedMD5: file.md5, actualMD5: received.md5)
        }
        guard rename(temporaryPath, finalPath) == 0 else {
            throw DatasetError.downloadFailed(url: urlText, path: finalPath,
                                              detail: "cannot rename the download into place: \(systemErrorMessage(errno))")
        }
        renamed = true
    }

    /// The hidden name of a download in progress, before the writer's process id.
    private static func partialPrefix(of name: String) -> String { ".\(name).partial-" }

    /// Removes temporary files of `name` left by downloads whose process no longer runs (killed ones).
    private static func removeAbandonedPartials(of name: String, in directory: String, ownID: Int) {
        let prefix = partialPrefix(of: name)
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for entry in entries where entry.hasPrefix(prefix) {
            guard let id = Int32(entry.dropFirst(prefix.count)), Int(id) != ownID, id > 0 else { continue }
            if kill(id, 0) != 0 && errno == ESRCH { unlink(joinPath(directory, entry)) }
        }
    }
}
