import Checkpoints
import Foundation

/// The run's metric record: one JSON object per line in `metrics.jsonl`
/// (`{"epoch":1,"name":"test_accuracy","step":200,"value":0.97}`) and the same rows in `metrics.csv`.
///
/// Its state is the byte length of both files; restoring truncates them to that length, so a
/// resumed run's lines are exactly those of an uninterrupted run. Every metric of a run passes through
/// ``log(_:_:epoch:step:)``, so an observer (``addObserver(_:)``) sees all of them — the TensorBoard
/// callback mirrors the log this way.
public final class MetricsLog {
    /// The JSON-lines file (`metrics.jsonl`).
    public let jsonlPath: String
    /// The CSV file with the same rows (`metrics.csv`).
    public let csvPath: String
    private var jsonl: FileHandle
    private var csv: FileHandle
    /// The values logged for the current epoch so far, by name (for progress lines).
    public private(set) var latest: [String: Double] = [:]
    /// Told about every row after it is written, in the order they were added.
    private var observers: [MetricsLogObserver] = []

    /// Opens (creating or appending to) the two files in `directory`.
    public init(directory: String) throws {
        jsonlPath = (directory as NSString).appendingPathComponent("metrics.jsonl")
        csvPath = (directory as NSString).appendingPathComponent("metrics.csv")
        let fm = FileManager.default
        if !fm.fileExists(atPath: jsonlPath) { _ = fm.createFile(atPath: jsonlPath, contents: nil) }
        if !fm.fileExists(atPath: csvPath) { _ = fm.createFile(atPath: csvPath, contents: Data("epoch,step,name,value\n".utf8)) }
        guard let j = FileHandle(forUpdatingAtPath: jsonlPath), let c = FileHandle(forUpdatingAtPath: csvPath) else {
            throw ConfigurationError("cannot open the metric files in \(directory) for writing")
        }
        jsonl = j
        csv = c
        try jsonl.seekToEnd()
        try csv.seekToEnd()
    }

    deinit {
        try? jsonl.close()
        try? csv.close()
    }

    /// Appends one metric row.
    public func log(_ name: String, _ value: Double, epoch: Int, step: Int) throws {
        latest[name] = value
        let v = value.isFinite ? "\(value)" : "null"
        let escaped = name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        try jsonl.write(contentsOf: Data("{\"epoch\":\(epoch),\"step\":\(step),\"name\":\"\(escaped)\",\"value\":\(v)}\n".utf8))
        try csv.write(contentsOf: Data(CSVText.row(["\(epoch)", "\(step)", name, value.isFinite ? "\(value)" : ""]).utf8))
        for observer in observers { try observer.metricLogged(name, value, epoch: epoch, step: step) }
    }

    /// Tells `observer` about every row logged from now on (an observer already added is not added twice).
    public func addObserver(_ observer: MetricsLogObserver) {
        if !observers.contains(where: { $0 === observer }) { observers.append(observer) }
    }

    /// Forgets the per-epoch values shown on progress lines.
    public func clearLatest() { latest = [:] }

    /// Byte lengths of both files (the state saved in checkpoints).
    public func position() throws -> (jsonl: UInt64, csv: UInt64) {
        (try jsonl.offset(), try csv.offset())
    }

    /// Truncates both files to a saved position and continues writing from there.
    public func restore(jsonl jsonlLength: UInt64, csv csvLength: UInt64) throws {
        let jl = try jsonl.seekToEnd(), cl = try csv.seekToEnd()
        guard jsonlLength <= jl, csvLength <= cl else {
            throw ConfigurationError("metric files are shorter than the checkpoint records (\(jsonlPath)); they were edited or truncated")
        }
        try jsonl.truncate(atOffset: jsonlLength)
        try csv.truncate(atOffset: csvLength)
        try jsonl.seekToEnd()
        try csv.seekToEnd()
    }

    /// Flushes to disk.
    public func synchronize() throws {
        try jsonl.synchronize()
        try csv.synchronize()
    }
}

/// Receives the rows of a ``MetricsLog`` as they are logged. An error it throws fails the `log` call
/// (and so the run) after the row is in the files.
public protocol MetricsLogObserver: AnyObject {
    /// `name` took `value` (possibly NaN or infinite) at `epoch` completed epochs and `step` steps.
    func metricLogged(_ name: String, _ value: Double, epoch: Int, step: Int) throws
}

/// Reads `metrics.jsonl` back: rows of (epoch, step, name, value).
public struct MetricRow: Codable, Sendable, Equatable {
    /// Completed epochs when the value was logged.
    public var epoch: Int
    /// Completed optimiser steps when the value was logged.
    public var step: Int
    /// The metric's name (`test_accuracy`, `ntk_norm`, …).
    public var name: String
    /// Its value (nil for a non-finite number, written as null).
    public var value: Double?

    /// All rows of a metrics.jsonl file, in order (which must be a regular file: a FIFO is refused, not
    /// waited on).
    public static func read(path: String) throws -> [MetricRow] {
        let data: [UInt8]
        do { data = try PlainFile.read(path) }
        catch let error as CheckpointError { throw ConfigurationError("cannot read \(path): \(error.message)") }
        let decoder = JSONDecoder()
        var rows: [MetricRow] = []
        for (i, line) in String(decoding: data, as: UTF8.self).split(separator: "\n").enumerated() {
            do { rows.append(try decoder.decode(MetricRow.self, from: Data(line.utf8))) }
            catch { throw ConfigurationError("\(path) line \(i + 1) is not a metric row: \(line.prefix(80))") }
        }
        return rows
    }
}
