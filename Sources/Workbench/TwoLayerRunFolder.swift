import Checkpoints
import Foundation
import Training

/// The folder of a two-layer run: `experiment.json` (the ``TwoLayerExperiment``, written first),
/// `checkpoint.safetensors.zst` (the trainer's whole state, replaced after every epoch and when the run
/// is stopped midway), `metrics.jsonl`/`metrics.csv` and the run lock `.lock`. ``progress(targetEpochs:)``
/// reads how far the run has got in the terms a sweep uses for every kind of run (`RunProgress`).
public struct TwoLayerRunFolder: Sendable {
    /// The folder.
    public let path: String

    /// The run folder at `path` (nothing is read or created).
    public init(path: String) {
        self.path = path
    }

    /// The stored experiment, `experiment.json`.
    public var experimentPath: String { (path as NSString).appendingPathComponent("experiment.json") }
    /// The trainer's state, `checkpoint.safetensors.zst`.
    public var checkpointPath: String { (path as NSString).appendingPathComponent("checkpoint.safetensors.zst") }

    /// The experiment stored in the folder. Throws, naming the file, when it is missing or is not a
    /// two-layer experiment.
    public func storedExperiment() throws -> TwoLayerExperiment {
        guard FileManager.default.fileExists(atPath: experimentPath) else {
            throw WorkbenchError.runFolder("\(experimentPath) does not exist: not a two-layer run folder")
        }
        let bytes: [UInt8]
        do { bytes = try PlainFile.read(experimentPath) } catch {
            throw WorkbenchError.runFolder("cannot read \(experimentPath): \(error)")
        }
        return try Self.decodeExperiment(Data(bytes), path: experimentPath)
    }

    /// Stores `experiment` as `experiment.json` (pretty-printed, sorted keys), replacing it atomically.
    public func store(_ experiment: TwoLayerExperiment) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(experiment).write(to: URL(fileURLWithPath: experimentPath), options: .atomic)
    }

    /// The saved trainer state, or nil when the run has not written one yet.
    public func checkpoint() throws -> Checkpoint? {
        guard FileManager.default.fileExists(atPath: checkpointPath) else { return nil }
        return try CheckpointFile.read(path: checkpointPath)
    }

    /// Saves `trainer`'s state as the folder's checkpoint (written atomically) and returns its path.
    @discardableResult
    public func save(_ trainer: RegressionTrainer) throws -> String {
        try CheckpointFile.write(try trainer.checkpoint(), to: checkpointPath)
        return checkpointPath
    }

    /// How far the run has got: not started (no folder, or only its lock), started (an experiment but
    /// no checkpoint), unfinished or finished (its checkpoint's epochs against `targetEpochs`, by default
    /// the stored experiment's), and the live process holding its lock. A folder with files but no
    /// `experiment.json`, an unreadable experiment or checkpoint, are refused naming the file.
    public func progress(targetEpochs: Int? = nil) throws -> RunProgress {
        try RunProgress.read(runDirectory: path, targetEpochs: targetEpochs, settingsFile: "experiment.json",
                             configuredEpochs: { try Self.decodeExperiment($0, path: experimentPath).training.epochs },
                             newestCheckpoint: {
            let saved: Checkpoint?
            do { saved = try checkpoint() } catch { throw WorkbenchError.runFolder("cannot read \(checkpointPath): \(error)") }
            guard let saved else { return nil }
            guard let progress = RegressionTrainer.progress(of: saved) else {
                throw WorkbenchError.runFolder("\(checkpointPath) records no completed epochs and steps: not a two-layer checkpoint")
            }
            return progress
        })
    }

    private static func decodeExperiment(_ data: Data, path: String) throws -> TwoLayerExperiment {
        do { return try JSONDecoder().decode(TwoLayerExperiment.self, from: data) } catch {
            throw WorkbenchError.runFolder("\(path) is not a two-layer experiment: \(error)")
        }
    }
}
