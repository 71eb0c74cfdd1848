import Foundation
import FuzzSupport
import Tangent

/// The data-reader fuzz target. An input's first byte picks which file of a small, otherwise valid data
/// set the rest of the input becomes; the set is then loaded through the public loaders, with a data
/// limit of 64 MB (so a declared size beyond it must be refused before it is allocated):
///
/// | mode | the input is | read by |
/// |---|---|---|
/// | 0 | MNIST `train-images-idx3-ubyte` (plain IDX) | `MNISTLoader.load` |
/// | 1 | MNIST `train-labels-idx1-ubyte` (plain IDX) | `MNISTLoader.load` |
/// | 2 | MNIST `t10k-images-idx3-ubyte.gz` (gzip) | `MNISTLoader.load` |
/// | 3 | a CIFAR-10 `.tar` archive | `CIFAR10Loader.load` |
/// | 4 | a CIFAR-10 `.tar.gz` archive | `CIFAR10Loader.load` |
/// | 5 | CIFAR-10 `test_batch.bin` in a batch folder | `CIFAR10Loader.load` |
///
/// Thrown errors are the expected outcome; a trap, hang or memory blow-up is a finding.
enum DataReadersTarget {
    static let modes = 6
    static let limits: DatasetLimits = {
        do { return try DatasetLimits(maxDataBytes: 64 << 20) } catch { fatalError("\(error)") }
    }()

    /// Scratch space for one process.
    static let scratch: String = {
        let path = NSTemporaryDirectory() + "tangent-fuzz-data-\(getpid())"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    /// An IDX file: magic (0, 0, type 8 = unsigned byte, rank), big-endian dimensions, then the bytes.
    static func idx(dimensions: [Int], fill: (Int) -> UInt8) -> [UInt8] {
        var bytes: [UInt8] = [0, 0, 8, UInt8(dimensions.count)]
        for d in dimensions { bytes += withUnsafeBytes(of: UInt32(d).bigEndian, Array.init) }
        return bytes + (0..<dimensions.reduce(1, *)).map(fill)
    }

    /// The four files of a valid MNIST set: 6 training and 4 test images of 28 × 28.
    static var mnistFiles: [String: [UInt8]] {
        var files: [String: [UInt8]] = [:]
        files["train-images-idx3-ubyte"] = idx(dimensions: [6, 28, 28]) { UInt8(truncatingIfNeeded: $0 &* 7) }
        files["train-labels-idx1-ubyte"] = idx(dimensions: [6]) { UInt8($0 % 10) }
        files["t10k-images-idx3-ubyte"] = idx(dimensions: [4, 28, 28]) { UInt8(truncatingIfNeeded: $0 &* 13) }
        files["t10k-labels-idx1-ubyte"] = idx(dimensions: [4]) { UInt8(($0 + 3) % 10) }
        return files
    }

    /// A valid CIFAR-10 batch file of `records` records (label byte, then 3 × 32 × 32 pixels).
    static func cifarBatch(records: Int, salt: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        for r in 0..<records {
            bytes.append(UInt8((r + salt) % 10))
            for p in 0..<3072 { bytes.append(UInt8(truncatingIfNeeded: p &+ r &* 31 &+ salt)) }
        }
        return bytes
    }

    static let cifarNames = (1...5).map { "data_batch_\($0).bin" } + ["test_batch.bin"]

    /// Writes `files` into a fresh folder `name` under the scratch space and returns its path.
    static func folder(_ name: String, _ files: [String: [UInt8]]) throws -> String {
        let path = scratch + "/" + name
        try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        for (file, bytes) in files { try Data(bytes).write(to: URL(fileURLWithPath: path + "/" + file)) }
        return path
    }

    /// Runs a tool (tar, gzip) for seed making.
    static func tool(_ arguments: [String], in directory: String) throws -> [UInt8] {
        let p = Process(), pipe = Pipe()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = arguments
        p.currentDirectoryURL = URL(fileURLWithPath: directory)
        p.standardOutput = pipe
        try p.run()
        let out = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw ConfigurationError("\(arguments.joined(separator: " ")) failed") }
        return Array(out)
    }

    /// One valid input per mode.
    static func seeds() throws -> [[UInt8]] {
        let mnist = mnistFiles
        let cifar = try folder("seed-cifar/cifar-10-batches-bin",
                               Dictionary(uniqueKeysWithValues: cifarNames.enumerated().map { ($1, cifarBatch(records: 2, salt: $0)) }))
        let tar = try tool(["tar", "-cf", "-", "cifar-10-batches-bin"], in: (cifar as NSString).deletingLastPathComponent)
        let tarPath = scratch + "/seed.tar"
        try Data(tar).write(to: URL(fileURLWithPath: tarPath))
        let gzImages = try folder("seed-gz", ["t10k": mnist["t10k-images-idx3-ubyte"]!])
        return [[0] + mnist["train-images-idx3-ubyte"]!,
                [1] + mnist["train-labels-idx1-ubyte"]!,
                [2] + (try tool(["gzip", "-9", "-n", "-c", "t10k"], in: gzImages)),
                [3] + tar,
                [4] + (try tool(["gzip", "-9", "-n", "-c", "seed.tar"], in: scratch)),
                [5] + cifarBatch(records: 2, salt: 9)]
    }

    /// Runs one input; returns "loaded" or the refusal's message (never traps on bad input).
    @discardableResult
    static func run(_ input: [UInt8]) -> String {
        guard let first = input.first else { return "empty input" }
        let body = Array(input.dropFirst())
        do {
            switch Int(first) % modes {
            case 0, 1, 2:
                var files = mnistFiles
                switch Int(first) % modes {
                case 0: files["train-images-idx3-ubyte"] = body
                case 1: files["train-labels-idx1-ubyte"] = body
                default:
                    files["t10k-images-idx3-ubyte"] = nil
                    files["t10k-images-idx3-ubyte.gz"] = body
                }
                _ = try MNISTLoader.load(directory: try folder("mnist", files), limits: limits)
            case 3, 4:
                let path = scratch + (first % 6 == 3 ? "/input.tar" : "/input.tar.gz")
                try Data(body).write(to: URL(fileURLWithPath: path))
                _ = try CIFAR10Loader.load(from: path, limits: limits)
            default:
                var files = Dictionary(uniqueKeysWithValues: cifarNames.enumerated().map { ($1, cifarBatch(records: 1, salt: $0)) })
                files["test_batch.bin"] = body
                _ = try CIFAR10Loader.load(from: try folder("cifar", files), limits: limits)
            }
        } catch {
            return "refused: \(error)"  // the expected outcome for most mutated inputs
        }
        return "loaded"
    }
}

@main
struct FuzzDataReaders {
    static func main() throws {
        try FuzzTarget.main(seeds: DataReadersTarget.seeds, replay: DataReadersTarget.run) { bytes, count in
            DataReadersTarget.run(Array(UnsafeBufferPointer(start: bytes, count: count)))
            return 0
        }
    }
}
