import Checkpoints
import Foundation

/// How far a run folder has got, read from the folder alone (nothing is locked or written): whether it
/// exists, the epochs its `config.json` asks for, the epoch and step of its newest readable checkpoint,
/// and the process holding its run lock. A scheduler (a sweep) decides from it whether to start,
/// resume or leave a run.
public struct RunProgress: Sendable, Equatable {
    /// The run's state.
    public enum State: String, Sendable, Equatable {
        /// No folder, or an empty one: the run has not started.
        case notStarted = "not started"
        /// The folder has a configuration but no checkpoint yet.
        case started
        /// Checkpointed before its last epoch: resuming continues it.
        case unfinished
        /// Its newest checkpoint is at or past the last epoch.
        case finished
    }

    /// The run's state.
    public var state: State
    /// Epochs the run was configured for (`config.json`), nil before it started.
    public var epochs: Int?
    /// Completed epochs and optimiser steps at the newest readable checkpoint (0 without one).
    public var epoch: Int, step: Int
    /// The process id written in the run lock by the process holding it, when that process is alive
    /// on this machine (the lock file keeps the id only while it is held).
    public var lockHolder: Int32?

    /// A description of the state, with progress: `unfinished (epoch 3/10, step 600)`, `running (pid 42, …)`.
    public var summary: String {
        var text = state.rawValue
        if state != .notStarted { text += " (epoch \(epoch)/\(epochs.map(String.init) ?? "?"), step \(step))" }
        if let lockHolder { text = "running (pid \(lockHolder)); " + text }
        return text
    }

    /// Reads the progress of the `tangent train` run in `runDirectory` (`config.json` and the checkpoints
    /// in `checkpoints/`), counting it finished once it has a checkpoint at `targetEpochs` (default: the
    /// epochs in its `config.json`). A folder that holds files but no `config.json`, or unreadable
    /// checkpoints only, is refused naming the file.
    public static func read(runDirectory: String, targetEpochs: Int? = nil) throws -> RunProgress {
        try read(runDirectory: runDirectory, targetEpochs: targetEpochs, settingsFile: "config.json", configuredEpochs: { configuration in
            guard let object = try? JSONSerialization.jsonObject(with: configuration) as? [String: Any],
                  let stored = object["epochs"] as? Int else {
                throw ConfigurationError("\(runDirectory)/config.json has no whole number 'epochs': not a run configuration")
            }
            return stored
        }, newestCheckpoint: {
            let directory = CheckpointDirectory(path: (runDirectory as NSString).appendingPathComponent("checkpoints"))
            let loaded: CheckpointDirectory.Loaded?
            do { loaded = try directory.loadLatestValid(log: { _ in }) }
            catch let error as CheckpointError { throw ConfigurationError("\(runDirectory): \(error)") }
            guard let loaded else { return nil }
            guard let epoch = loaded.checkpoint.metadata["epoch"].flatMap({ Int($0) }),
                  let step = loaded.checkpoint.metadata["step"].flatMap({ Int($0) }) else {
                throw ConfigurationError("\(loaded.entry.path) has no whole-number 'epoch' and 'step' metadata: not a training checkpoint")
            }
            return (epoch, step)
        })
    }

    /// Reads the progress of a run folder of any layout: `settingsFile`, the file a started run writes
    /// first, from which `configuredEpochs` reads the epochs it was configured for, and
    /// `newestCheckpoint`, which gives the completed epochs and steps of the folder's newest readable
    /// checkpoint (nil without one). The run counts as finished once that checkpoint is at
    /// `targetEpochs` (default: the configured epochs). A folder holding files but no `settingsFile` is
    /// refused naming the file, unless a live process holds its lock (a run that is being set up: started).
    public static func read(runDirectory: String, targetEpochs: Int?, settingsFile: String,
                            configuredEpochs: (Data) throws -> Int,
                            newestCheckpoint: () throws -> (epoch: Int, step: Int)?) throws -> RunProgress {
        let contents = (try? FileManager.default.contentsOfDirectory(atPath: runDirectory)) ?? []
        let holder = lockHolder(runDirectory)
        if contents.filter({ $0 != ".lock" }).isEmpty {
            return RunProgress(state: .notStarted, epochs: nil, epoch: 0, step: 0, lockHolder: holder)
        }
        let settingsPath = (runDirectory as NSString).appendingPathComponent(settingsFile)
        guard FileManager.default.fileExists(atPath: settingsPath) else {
            if holder != nil { return RunProgress(state: .started, epochs: targetEpochs, epoch: 0, step: 0, lockHolder: holder) }
            throw ConfigurationError("\(settingsPath) does not exist: not a run folder")
        }
        let settings: Data
        do { settings = Data(try PlainFile.read(settingsPath)) }
        catch let error as CheckpointError { throw ConfigurationError("cannot read \(settingsPath): \(error.message)") }
        let configured = try configuredEpochs(settings)
        let epochs = targetEpochs ?? configured
        guard let (epoch, step) = try newestCheckpoint() else {
            return RunProgress(state: .started, epochs: epochs, epoch: 0, step: 0, lockHolder: holder)
        }
        return RunProgress(state: epoch >= epochs ? .finished : .unfinished, epochs: epochs, epoch: epoch, step: step,
                           lockHolder: holder)
    }

    /// The live process named in `RUN/.lock`, if any.
    private static func lockHolder(_ runDirectory: String) -> Int32? {
        let path = (runDirectory as NSString).appendingPathComponent(".lock")
        guard let bytes = try? PlainFile.read(path),
              let pid = Int32(String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)),
              pid > 0 else { return nil }
        return PlainFile.processExists(pid) ? pid : nil
    }
}
