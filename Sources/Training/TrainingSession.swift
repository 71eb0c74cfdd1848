import Checkpoints
import Foundation

/// Starting and resuming runs with the standard callbacks, as `tangent train` does.
public enum TrainingSession {
    /// Linearization (when configured), evaluation, robust evaluation, kernel tracking (when configured),
    /// then `extra` (e.g. kernel tracking), progress, and checkpointing
    /// last (so checkpoints include everything the epoch logged).
    public static func standardCallbacks(_ config: TrainingConfiguration, runDirectory: String,
                                         extra: [TrainingCallback] = [], progress: Bool = true) -> [TrainingCallback] {
        var callbacks: [TrainingCallback] = config.linearizeAtEpoch.map { [LinearizationCallback(atEpoch: $0)] } ?? []
        callbacks += [EvaluationCallback(), RobustEvaluationCallback()]
        if let tracking = config.kernelTracking, tracking.isEnabled {
            callbacks.append(KernelDynamicsCallback(configuration: tracking, runDirectory: runDirectory))
        }
        callbacks += extra
        if progress { callbacks.append(ProgressCallback()) }
        callbacks.append(CheckpointCallback(runDirectory: runDirectory, everyEpoch: config.checkpointEveryEpoch,
                                            everySteps: config.checkpointEverySteps, keepLast: config.keepLast))
        return callbacks
    }

    /// A new run in `runDirectory`: writes config.json and opens the metric log.
    public static func start(_ config: TrainingConfiguration, runDirectory: String,
                             callbacks: (TrainingConfiguration, String) -> [TrainingCallback]) throws -> TrainingLoop {
        try config.validate()
        let data = try TrainingData.load(config)
        try RunDirectory.create(runDirectory)
        try RunDirectory.writeConfiguration(config, to: runDirectory)
        let loop = try TrainingLoop(configuration: config, data: data, log: try MetricsLog(directory: runDirectory))
        loop.callbacks = callbacks(config, runDirectory)
        return loop
    }

    /// Where a `--resume` argument points: the run folder and the checkpoint to load. A run folder
    /// resumes from its newest readable checkpoint (older ones are tried when the newest is corrupt).
    public static func locate(_ path: String) throws -> (runDirectory: String, checkpointPath: String, checkpoint: Checkpoint) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ConfigurationError("--resume: \(path) does not exist")
        }
        if isDirectory.boolValue {
            let dir = CheckpointDirectory(path: (path as NSString).appendingPathComponent("checkpoints"))
            guard let loaded = try dir.loadLatestValid() else {
                throw ConfigurationError("--resume: \(path) has no checkpoints (expected \(dir.path)/step-*.safetensors.zst)")
            }
            return (path, loaded.entry.path, loaded.checkpoint)
        }
        let checkpoint = try CheckpointFile.read(path: path)
        let folder = (path as NSString).deletingLastPathComponent
        let run = (folder as NSString).lastPathComponent == "checkpoints" ? (folder as NSString).deletingLastPathComponent : folder
        return (run.isEmpty ? "." : run, path, checkpoint)
    }

    /// Resumes a run: its stored configuration (adjusted by `adjust`, e.g. more epochs or a moved data
    /// folder), its callbacks, and the exact state of the checkpoint.
    ///
    /// With `branchDirectory`, the continuation goes to a new run folder (its metric files start as
    /// copies of the original's), leaving the original run untouched — e.g. to linearize an existing
    /// run at one of its checkpoints.
    public static func resume(from path: String, into branchDirectory: String? = nil,
                              adjust: (inout TrainingConfiguration) throws -> Void = { _ in },
                              callbacks: (TrainingConfiguration, String) -> [TrainingCallback]) throws -> (loop: TrainingLoop, checkpointPath: String) {
        var (run, checkpointPath, checkpoint) = try locate(path)
        if let branch = branchDirectory, branch != run {
            try RunDirectory.create(branch)
            for file in ["metrics.jsonl", "metrics.csv"] {
                let source = (run as NSString).appendingPathComponent(file), target = (branch as NSString).appendingPathComponent(file)
                try? FileManager.default.removeItem(atPath: target)
                try FileManager.default.copyItem(atPath: source, toPath: target)
            }
            run = branch
        }
        var config = try TrainingCheckpoint.configuration(of: checkpoint, path: checkpointPath)
        try adjust(&config)
        try config.validate()
        let data = try TrainingData.load(config)
        try RunDirectory.writeConfiguration(config, to: run)
        let loop = try TrainingLoop(configuration: config, data: data, log: try MetricsLog(directory: run))
        loop.callbacks = callbacks(config, run)
        try TrainingCheckpoint.restore(loop, from: checkpoint, path: checkpointPath)
        return (loop, checkpointPath)
    }
}
