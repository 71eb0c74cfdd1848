import Checkpoints
import Foundation

/// The folder of one run: `config.json`, `metrics.jsonl`, `metrics.csv`, checkpoints, kernels, plots.
public enum RunDirectory {
    /// A new, unused folder path under `root` named after the model and the time. Nothing is created:
    /// `TrainingSession.start` creates the folder once the run has passed its checks.
    public static func makeNew(under root: String = "checkpoints", model: String, date: Date = Date()) throws -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd-HHmmss"
        let base = (root as NSString).appendingPathComponent("\(model)-\(f.string(from: date))")
        var path = base, n = 1
        while FileManager.default.fileExists(atPath: path) { n += 1; path = "\(base)-\(n)" }
        return path
    }

    /// Renames the folder `path` to an unused `path.replaced-DATE[-N]` and returns the new name.
    public static func moveAside(_ path: String, date: Date = Date()) throws -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd-HHmmss"
        let base = "\(path).replaced-\(f.string(from: date))"
        var target = base, n = 1
        while FileManager.default.fileExists(atPath: target) { n += 1; target = "\(base)-\(n)" }
        do { try FileManager.default.moveItem(atPath: path, toPath: target) }
        catch { throw ConfigurationError("cannot move \(path) aside to \(target): \(error.localizedDescription)") }
        return target
    }

    /// Creates `path` (and parents) if needed, with a clear error otherwise.
    public static func create(_ path: String) throws {
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
        catch { throw ConfigurationError("cannot create run folder \(path): \(error.localizedDescription)") }
    }

    /// Writes `json` as `config.json` in `directory` (atomically).
    public static func writeConfiguration(_ json: Data, to directory: String) throws {
        let path = (directory as NSString).appendingPathComponent("config.json")
        try json.write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// The contents of `config.json` in a run folder (a regular file: a FIFO is refused, not waited on).
    public static func readConfiguration(from directory: String) throws -> Data {
        let path = (directory as NSString).appendingPathComponent("config.json")
        guard FileManager.default.fileExists(atPath: path) else {
            throw ConfigurationError("\(path) does not exist: not a run folder")
        }
        do { return Data(try PlainFile.read(path)) }
        catch let error as CheckpointError { throw ConfigurationError("cannot read \(path): \(error.message)") }
    }
}
