import Checkpoints
import Foundation
import NN

/// The values a run is made of: what `TrainingLoop.init` takes, plus a description to store with it.
public struct RunComponents {
    /// The network to train.
    public var model: Module
    /// Its optimiser.
    public var optimizer: any Optimizer
    /// The loss trained (and attacked) with.
    public var loss: Loss
    /// The learning rate per step (nil: the optimiser's own).
    public var schedule: (any LearningRateSchedule)?
    /// Training and test sets.
    public var data: TrainingData
    /// How the loop trains.
    public var settings: TrainingSettings
    /// The caller's description of the run as JSON (e.g. the command line's settings), written as
    /// `config.json` and into every checkpoint (metadata `config`); nil: the settings are written.
    public var description: Data?

    /// A run of `model` on `data`.
    public init(model: Module, optimizer: any Optimizer, loss: Loss = .crossEntropy, schedule: (any LearningRateSchedule)? = nil,
                data: TrainingData, settings: TrainingSettings, description: Data? = nil) {
        self.model = model
        self.optimizer = optimizer
        self.loss = loss
        self.schedule = schedule
        self.data = data
        self.settings = settings
        self.description = description
    }
}

/// Starting and resuming runs in a run folder with the standard callbacks, as `tangent train` does.
public enum TrainingSession {
    /// Linearization (when configured), evaluation, robust evaluation, kernel tracking (when configured),
    /// then `extra`, progress, and checkpointing last (so checkpoints include everything the epoch logged).
    public static func standardCallbacks(_ settings: TrainingSettings, runDirectory: String,
                                         extra: [TrainingCallback] = [], progress: Bool = true) -> [TrainingCallback] {
        var callbacks: [TrainingCallback] = settings.linearizeAtEpoch.map { [LinearizationCallback(atEpoch: $0)] } ?? []
        callbacks += [EvaluationCallback(), RobustEvaluationCallback()]
        if let tracking = settings.kernelTracking, tracking.isEnabled {
            callbacks.append(KernelDynamicsCallback(configuration: tracking, runDirectory: runDirectory))
        }
        callbacks += extra
        if progress { callbacks.append(ProgressCallback()) }
        callbacks.append(CheckpointCallback(runDirectory: runDirectory, everyEpoch: settings.checkpointEveryEpoch,
                                            everySteps: settings.checkpointEverySteps, keepLast: settings.keepLast))
        return callbacks
    }

    /// A new run in `runDirectory`. The components are checked first (settings, and that model, loss,
    /// augmentation and data fit together); only then is the folder created, locked against other
    /// writers, `config.json` written and the metric log opened. A folder that already holds files is
    /// refused — resume it instead — unless `overwrite` is true, which moves the old folder aside to
    /// `runDirectory.replaced-DATE` first.
    public static func start(_ run: RunComponents, runDirectory: String, overwrite: Bool = false,
                             callbacks: (TrainingSettings, String) -> [TrainingCallback]) throws -> TrainingLoop {
        try run.settings.validate()
        try TrainingLoop.checkCompatibility(model: run.model, loss: run.loss, data: run.data, settings: run.settings)
        let contents = (try? FileManager.default.contentsOfDirectory(atPath: runDirectory)) ?? []
        if !contents.isEmpty {
            guard overwrite else {
                throw ConfigurationError("run folder \(runDirectory) is not empty (it holds \(contents.sorted().prefix(4).joined(separator: ", "))\(contents.count > 4 ? ", …" : "")); resume it, choose another folder, or overwrite it (the old contents are moved aside)")
            }
            _ = try RunLock(runDirectory: runDirectory)  // never move a folder another process is writing
            let aside = try RunDirectory.moveAside(runDirectory)
            print("moved the previous contents of \(runDirectory) to \(aside)")
        }
        try RunDirectory.create(runDirectory)
        return try open(run, in: runDirectory, identity: RunIdentity(model: run.model, data: run.data), callbacks: callbacks)
    }

    /// Where a run folder or checkpoint file to resume from points: the run folder (nil for a checkpoint
    /// file that does not sit in a run folder's `checkpoints/`) and the checkpoint to load. A run folder
    /// resumes from its newest readable checkpoint (older ones are tried when the newest is corrupt).
    public static func locate(_ path: String) throws -> (runDirectory: String?, checkpointPath: String, checkpoint: Checkpoint) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ConfigurationError("cannot resume: \(path) does not exist")
        }
        if isDirectory.boolValue {
            let dir = CheckpointDirectory(path: (path as NSString).appendingPathComponent("checkpoints"))
            guard let loaded = try dir.loadLatestValid() else {
                throw ConfigurationError("cannot resume: \(path) has no checkpoints (expected \(dir.path)/step-*.safetensors.zst)")
            }
            return (path, loaded.entry.path, loaded.checkpoint)
        }
        return (runFolder(containing: path), path, try CheckpointFile.read(path: path))
    }

    /// The run folder whose `checkpoints/` holds the file at `path`, or nil when the file sits elsewhere.
    public static func runFolder(containing path: String) -> String? {
        let folder = (path as NSString).deletingLastPathComponent
        guard (folder as NSString).lastPathComponent == "checkpoints" else { return nil }
        let run = (folder as NSString).deletingLastPathComponent
        let runDirectory = run.isEmpty ? "." : run
        let isRunFolder = [RunIdentity.fileName, "config.json"].contains {
            FileManager.default.fileExists(atPath: (runDirectory as NSString).appendingPathComponent($0))
        }
        return isRunFolder ? runDirectory : nil
    }

    /// Resumes a run from a run folder or checkpoint file. `components` builds the run's values from
    /// the checkpoint (whose metadata `config` holds the description it was started with): the same
    /// kind of model, optimiser and loss, with the settings it ran with — the epochs or data folder may
    /// change. The checkpoint's exact state is then restored; a model, optimiser or settings that do
    /// not match it are refused with the mismatching names.
    ///
    /// In place, the checkpoint must belong to the folder's run (its ``RunIdentity``) and fit the model
    /// and data given now. With `branchDirectory` — a new or empty folder — the continuation goes there
    /// as a new run whose metric files start as copies of the original's, leaving the original run
    /// untouched (e.g. to linearize an existing run at one of its checkpoints). The branch's `kernels/`
    /// folder starts with the kernels tracked up to the checkpoint, hard-linked (or copied) from the
    /// original's, so the branch analyses on its own (see `BranchKernelHistory`). A checkpoint file
    /// outside a run folder can only be continued as a branch, whose metric files start empty and whose
    /// kernels are the two an older checkpoint embeds (K₀ and the newest); one that references its run's
    /// kernel files instead is refused. Nothing is ever written beside the file.
    public static func resume(from path: String, into branchDirectory: String? = nil,
                              components: (_ checkpoint: Checkpoint) throws -> RunComponents,
                              callbacks: (TrainingSettings, String) -> [TrainingCallback]) throws -> (loop: TrainingLoop, checkpointPath: String) {
        let (source, checkpointPath, located) = try locate(path)
        var checkpoint = located
        let branch = branchDirectory.flatMap { $0 == source ? nil : $0 }
        guard source != nil || branch != nil else {
            throw ConfigurationError("\(checkpointPath) is not inside a run folder (RUN/checkpoints/); give a new folder to continue it in")
        }
        let run = try components(checkpoint)
        try run.settings.validate()
        try TrainingLoop.checkCompatibility(model: run.model, loss: run.loss, data: run.data, settings: run.settings)
        // Everything is checked before a folder is created or a file written.
        try TrainingCheckpoint.checkFits(run, checkpoint, path: checkpointPath)
        try TrainingCheckpoint.checkReferencedKernels(checkpoint, path: checkpointPath, runFolder: source)
        let identity: RunIdentity
        if let branch {
            try RunIdentity.checkFingerprints(of: checkpoint, path: checkpointPath, model: run.model, data: run.data)
            let contents = (try? FileManager.default.contentsOfDirectory(atPath: branch)) ?? []
            guard contents.isEmpty else {
                throw ConfigurationError("cannot branch into \(branch): the folder is not empty (it holds \(contents.sorted().prefix(4).joined(separator: ", "))\(contents.count > 4 ? ", …" : "")); choose a new folder")
            }
            identity = RunIdentity(model: run.model, data: run.data,
                                   parent: .init(runID: checkpoint.metadata[RunIdentity.runIDKey], checkpoint: checkpointPath))
            try RunDirectory.create(branch)
            if let source {
                for file in ["metrics.jsonl", "metrics.csv"] {
                    let from = (source as NSString).appendingPathComponent(file), to = (branch as NSString).appendingPathComponent(file)
                    try FileManager.default.copyItem(atPath: from, toPath: to)
                }
            }
            if let kernels = try BranchKernelHistory.inherit(&checkpoint, path: checkpointPath, sourceRun: source, branchDirectory: branch) {
                reportGaps(in: kernels, source: source)
            }
        } else {
            let folder = source!
            if let owner = try RunIdentity.read(from: folder) {
                try owner.checkAdoption(of: checkpoint, path: checkpointPath, model: run.model, data: run.data, folder: folder)
                identity = owner
            } else if let foreign = checkpoint.metadata[RunIdentity.runIDKey] {
                throw CheckpointStateError(path: checkpointPath, "belongs to run \(foreign), but the run folder \(folder) has no \(RunIdentity.fileName) (a folder of an older Tangent, or not this run's); branch from the file into a new folder instead")
            } else {
                identity = RunIdentity(model: run.model, data: run.data, adoptedLegacyRun: true)
            }
        }
        let runDirectory = branch ?? source!
        let loop = try open(run, in: runDirectory, identity: identity, callbacks: callbacks)
        try TrainingCheckpoint.restore(loop, from: checkpoint, path: checkpointPath, continuingMetrics: source != nil)
        return (loop, checkpointPath)
    }

    /// Says which kernels of a branch's history did not come from the original run's `kernels/` folder.
    private static func reportGaps(in kernels: BranchKernelHistory.Outcome, source: String?) {
        func steps(_ snapshots: [KernelSnapshot]) -> String { snapshots.map { "step \($0.step) (epoch \($0.epoch))" }.joined(separator: ", ") }
        let place = source.map { "\(($0 as NSString).appendingPathComponent(KernelSnapshotStore.folderName))/" } ?? "a run folder"
        if !kernels.rewritten.isEmpty {
            print("note: the branch's kernels at \(steps(kernels.rewritten)) are not in \(place); written from the checkpoint's kernel tracking state")
        }
        if !kernels.missing.isEmpty {
            print("note: the branch's kernel history lacks the kernels at \(steps(kernels.missing)): they are neither in \(place) nor in the checkpoint, so its analysis leaves them out")
        }
    }

    /// Writes `run.json` and `config.json`, opens the metric log and builds the loop with its callbacks.
    static func open(_ run: RunComponents, in runDirectory: String, identity: RunIdentity,
                     callbacks: (TrainingSettings, String) -> [TrainingCallback]) throws -> TrainingLoop {
        let lock = try RunLock(runDirectory: runDirectory)
        try identity.write(to: runDirectory)
        let description = try run.description ?? run.settings.jsonData()
        try RunDirectory.writeConfiguration(description, to: runDirectory)
        let loop = try TrainingLoop(model: run.model, optimizer: run.optimizer, loss: run.loss, schedule: run.schedule,
                                    data: run.data, settings: run.settings, log: try MetricsLog(directory: runDirectory))
        loop.runDescription = run.description.map { String(decoding: $0, as: UTF8.self) }
        loop.runDirectory = runDirectory
        loop.runLock = lock
        loop.runIdentity = identity
        loop.callbacks = callbacks(run.settings, runDirectory)
        return loop
    }
}
