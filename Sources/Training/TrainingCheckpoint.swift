import Autodiff
import Checkpoints
import Datasets
import Foundation
import Kernels
import NN

/// What a training checkpoint holds, and how it is written from and restored into a `TrainingLoop`.
///
/// Tensors: every parameter under its own dotted name (`conv1.weight`, …, so the file loads into the
/// equivalent PyTorch model after `zstd -d`), `optimizer.KEY` for the optimiser's state (SGD's
/// `optimizer.velocity.NAME`, Adam's `optimizer.m.NAME`, `optimizer.v.NAME`, `optimizer.step.NAME`),
/// `state.batch_order_generator` and `state.transform_generator` (U64 × 4), `state.epoch_loss_sum`,
/// and `callback.KEY.NAME` for callback state. Metadata: `settings` (the loop's ``TrainingSettings`` as
/// JSON), `config` (the caller's run description, when given), `optimizer` and `loss` (their kinds),
/// `epoch`, `step`, the data order's epoch and position, the metric files' byte lengths,
/// `epoch_batches`, and `callback.KEY.NAME` strings.
public enum TrainingCheckpoint {
    /// Captures the loop's whole state.
    public static func capture(_ loop: TrainingLoop) throws -> Checkpoint {
        var c = Checkpoint(metadata: [:])
        for (name, p) in loop.network.namedParameters {
            try c.append(StoredTensor(name: name, values: p.value.scalars, shape: p.value.shape))
        }
        let optimizerState = loop.optimizer.state
        for key in optimizerState.keys.sorted() {
            let v = optimizerState[key]!
            try c.append(StoredTensor(name: "optimizer.\(key)", values: v.scalars, shape: v.shape))
        }
        let order = loop.batchOrder.state
        try c.append(StoredTensor(name: "state.batch_order_generator", values: order.epochStartGeneratorState))
        try c.append(StoredTensor(name: "state.transform_generator", values: loop.transformGenerator.state))
        try c.append(StoredTensor(name: "state.epoch_loss_sum", values: [loop.epochLossSum]))
        let position = try loop.log.position()
        c.metadata = [
            "settings": String(decoding: try loop.settings.jsonData(), as: UTF8.self),
            "optimizer": String(describing: type(of: loop.optimizer)), "loss": loop.loss.name,
            "epoch": "\(loop.epoch)", "step": "\(loop.step)",
            "batch_order_epoch": "\(order.epoch)", "batch_order_position": "\(order.position)",
            "epoch_batches": "\(loop.epochBatches)",
            "metrics_jsonl_bytes": "\(position.jsonl)", "metrics_csv_bytes": "\(position.csv)",
        ]
        if let description = loop.runDescription { c.metadata["config"] = description }
        loop.runIdentity?.stamp(&c)
        for extra in loop.checkpointExtensions { try extra.save(into: &c) }
        for callback in loop.callbacks {
            guard let key = callback.stateKey else { continue }
            let state = try callback.saveState()
            for (name, t) in state.floats.sorted(by: { $0.key < $1.key }) {
                try c.append(StoredTensor(name: "callback.\(key).\(name)", values: t.values, shape: t.shape))
            }
            for (name, v) in state.doubles.sorted(by: { $0.key < $1.key }) {
                try c.append(StoredTensor(name: "callback.\(key).\(name)", values: v))
            }
            for (name, s) in state.strings { c.metadata["callback.\(key).\(name)"] = s }
            c.metadata["callback.\(key)"] = "present"
        }
        return c
    }

    /// Sets every parameter of `model` from the tensor of the same name in `checkpoint` (any file whose
    /// tensors are named like the model's parameters: a training checkpoint or a plain weight file; its
    /// other tensors — optimiser and callback state, `state.*` — are ignored). Every missing,
    /// wrongly shaped or left-over parameter-like tensor is listed in one error naming the file; nothing
    /// is changed then.
    public static func loadParameters(into model: Module, from checkpoint: Checkpoint, path: String) throws {
        try model.loadParameterValues(try parameterValues(for: model, from: checkpoint, path: path))
    }

    /// The checkpoint's value of every parameter of `model`, checked as ``loadParameters(into:from:path:)`` describes.
    static func parameterValues(for model: Module, from checkpoint: Checkpoint, path: String) throws -> [String: Tensor] {
        let shapes = Dictionary(uniqueKeysWithValues: model.namedParameters.map { ($0.name, $0.parameter.value.shape) })
        var values: [String: Tensor] = [:]
        var problems: [ModuleError.Mismatch] = []
        for name in shapes.keys.sorted() {
            guard let t = checkpoint[name] else { problems.append(.missing(name: name, shape: shapes[name]!)); continue }
            guard t.shape == shapes[name]! else { problems.append(.shape(name: name, expected: shapes[name]!, found: t.shape)); continue }
            let floats = try t.floats()
            guard floats.allSatisfy(\.isFinite) else {
                throw CheckpointStateError(path: path, "tensor '\(name)' holds non-finite values (NaN or ±∞): the run it came from diverged")
            }
            values[name] = Tensor(shape: t.shape, scalars: floats)
        }
        let reserved = ["optimizer.", "state.", "callback.", "inputs", "labels", "kernel"]
        for name in checkpoint.names.sorted() where shapes[name] == nil && !reserved.contains(where: { name.hasPrefix($0) }) {
            problems.append(.unexpected(name: name, shape: checkpoint[name]!.shape))
        }
        guard problems.isEmpty else {
            throw CheckpointStateError(path: path, "does not fit the model: \(ModuleError.parametersDoNotMatch(problems))")
        }
        return values
    }

    /// The optimiser state tensors (`optimizer.KEY`) by key.
    static func optimizerState(_ c: Checkpoint, path: String) throws -> [String: Tensor] {
        var state: [String: Tensor] = [:]
        for name in c.names where name.hasPrefix("optimizer.") {
            guard let t = c[name] else { continue }
            state[String(name.dropFirst("optimizer.".count))] = Tensor(shape: t.shape, scalars: try t.floats())
        }
        return state
    }

    /// The loop settings stored in a training checkpoint, or nil for one written before they were stored.
    public static func settings(of checkpoint: Checkpoint, path: String) throws -> TrainingSettings? {
        guard let json = checkpoint.metadata["settings"] else { return nil }
        do { return try JSONDecoder().decode(TrainingSettings.self, from: Data(json.utf8)) }
        catch { throw CheckpointStateError(path: path, "has unreadable training settings: \(error)") }
    }

    /// Checks, without changing anything, that a checkpoint fits a run: the settings that shape the
    /// trajectory (batch size, seed, shuffling, adversarial training, augmentation), the optimiser's kind
    /// and state, the loss, and every parameter's name and shape (all mismatches listed in one error).
    public static func checkFits(_ run: RunComponents, _ c: Checkpoint, path: String) throws {
        _ = try validatedState(run, c, path: path)
    }

    /// Everything a restore applies, decoded once and checked as ``checkFits(_:_:path:)`` describes.
    static func validatedState(_ run: RunComponents, _ c: Checkpoint, path: String) throws
        -> (parameters: [String: Tensor], optimizer: [String: Tensor],
            progress: (epoch: Int, step: Int, batches: Int, order: BatchOrder.State, lossSum: Double, transformWords: [UInt64],
                       jsonlBytes: Int, csvBytes: Int)) {
        if let stored = try settings(of: c, path: path) {
            let differences = run.settings.trajectoryDifferences(from: stored)
            if !differences.isEmpty {
                throw CheckpointStateError(path: path, "was written by a run with other settings (\(differences.joined(separator: "; "))); an exact continuation needs the same ones")
            }
        }
        if let kind = c.metadata["optimizer"], kind != String(describing: type(of: run.optimizer)) {
            throw CheckpointStateError(path: path, "holds \(kind) state, but this run's optimiser is \(type(of: run.optimizer))")
        }
        if let lossName = c.metadata["loss"], lossName != run.loss.name {
            throw CheckpointStateError(path: path, "was trained with the loss '\(lossName)', this run uses '\(run.loss.name)'")
        }
        let core = try progress(of: c, path: path, trainingImages: run.data.train.count)
        try checkKernelTracking(run, c, path: path, step: core.step, epoch: core.epoch)
        let values = try parameterValues(for: run.model, from: c, path: path)
        // The optimiser takes the state only if it fits the model; its own state is put back afterwards.
        let state = try optimizerState(c, path: path)
        let current = run.optimizer.state
        do { try run.optimizer.restore(state: state, for: run.model) }
        catch { throw CheckpointStateError(path: path, "\(error)") }
        try run.optimizer.restore(state: current, for: run.model)
        return (values, state, core)
    }

    /// The loop's counters, data position, generators and metric-file lengths stored in a checkpoint,
    /// each checked (range, consistency with each other and with the training set) before use.
    static func progress(of c: Checkpoint, path: String, trainingImages: Int) throws
        -> (epoch: Int, step: Int, batches: Int, order: BatchOrder.State, lossSum: Double, transformWords: [UInt64],
            jsonlBytes: Int, csvBytes: Int) {
        func count(_ key: String, atMost limit: Int = Int.max) throws -> Int {
            guard let text = c.metadata[key], let v = Int(text) else { throw CheckpointStateError(path: path, "lacks metadata '\(key)'") }
            guard v >= 0, v <= limit else {
                throw CheckpointStateError(path: path, "metadata '\(key)' = \(v) is out of range (0…\(limit == Int.max ? "" : "\(limit)"))")
            }
            return v
        }
        func tensor(_ name: String) throws -> StoredTensor {
            guard let t = c[name] else { throw CheckpointStateError(path: path, "lacks tensor '\(name)'") }
            return t
        }
        let epoch = try count("epoch"), step = try count("step")
        let orderEpoch = try count("batch_order_epoch", atMost: epoch)
        let batches = try count("epoch_batches", atMost: step)
        let position = try count("batch_order_position", atMost: trainingImages)
        let jsonlBytes = try count("metrics_jsonl_bytes"), csvBytes = try count("metrics_csv_bytes")
        let orderWords = try tensor("state.batch_order_generator").uint64s()
        let transformWords = try tensor("state.transform_generator").uint64s()
        guard orderWords.count == 4, transformWords.count == 4 else {
            throw CheckpointStateError(path: path, "generator states must have four words")
        }
        let lossSum = try tensor("state.epoch_loss_sum").doubles().first ?? 0
        guard lossSum.isFinite else { throw CheckpointStateError(path: path, "state.epoch_loss_sum is \(lossSum)") }
        return (epoch, step, batches, BatchOrder.State(epochStartGeneratorState: orderWords, epoch: orderEpoch, position: position),
                lossSum, transformWords, jsonlBytes, csvBytes)
    }

    /// Restores a loop — built with the same kind of model, optimiser and loss — to the checkpointed
    /// state, after ``checkFits(_:_:path:)``-style checks: a mismatch is an error naming it, before
    /// anything is changed. With `continuingMetrics` (the loop's metric files continue the checkpoint's
    /// run), the files are cut back to the lengths the checkpoint records; without, they are left as
    /// they are (a branch from a loose checkpoint file starts new ones).
    public static func restore(_ loop: TrainingLoop, from c: Checkpoint, path: String, continuingMetrics: Bool = true) throws {
        let (values, state, core) = try validatedState(
            RunComponents(model: loop.network, optimizer: loop.optimizer, loss: loop.loss, data: loop.data, settings: loop.settings),
            c, path: path)
        try loop.network.loadParameterValues(values)
        do { try loop.optimizer.restore(state: state, for: loop.network) }
        catch { throw CheckpointStateError(path: path, "\(error)") }
        loop.restoreProgress(epoch: core.epoch, step: core.step, order: core.order, lossSum: core.lossSum,
                             batches: core.batches, transformState: core.transformWords)
        // Callbacks first: their state may reference files (the kernel tracker's kernels) that are checked
        // before the metric files are cut back.
        for callback in loop.callbacks {
            guard let key = callback.stateKey, let state = try callbackState(c, key: key, path: path) else { continue }
            try callback.restoreState(state)
        }
        if continuingMetrics { try loop.log.restore(jsonl: UInt64(core.jsonlBytes), csv: UInt64(core.csvBytes)) }
        for extra in loop.checkpointExtensions { try extra.restore(from: c, path: path) }
    }
}

/// Extra loop state that lives in checkpoints (the linearization point, say): saved after the core
/// state and restored after it.
public protocol CheckpointExtension: AnyObject {
    func save(into checkpoint: inout Checkpoint) throws
    func restore(from checkpoint: Checkpoint, path: String) throws
}

/// A checkpoint that reads fine but does not fit the run (missing or mismatched state).
public struct CheckpointStateError: Error, CustomStringConvertible {
    /// The file and the problem, in words.
    public let description: String
    /// The error for `problem` in the file at `path`.
    public init(path: String, _ problem: String) { description = "\(path): \(problem)" }
}

/// Writes a checkpoint into `RUN/checkpoints/` after every epoch and/or every N steps, keeping the
/// last K. Add it last, so the state it saves includes everything the epoch's callbacks logged.
public final class CheckpointCallback: TrainingCallback {
    /// Where checkpoints are written and pruned.
    public let directory: CheckpointDirectory
    /// Whether to checkpoint after every epoch.
    public let everyEpoch: Bool
    /// Checkpoint also every this many optimiser steps (nil: not by steps).
    public let everySteps: Int?

    /// Checkpoints under `runDirectory/checkpoints`, keeping the newest `keepLast`.
    public init(runDirectory: String, everyEpoch: Bool = true, everySteps: Int? = nil, keepLast: Int = 3) {
        directory = CheckpointDirectory(path: (runDirectory as NSString).appendingPathComponent("checkpoints"), keepLast: keepLast)
        self.everyEpoch = everyEpoch
        self.everySteps = everySteps
    }

    public func batchEnd(_ loop: TrainingLoop) throws {
        if let n = everySteps, n > 0, loop.step % n == 0 { try save(loop) }
    }

    public func epochEnd(_ loop: TrainingLoop) throws {
        if everyEpoch { try save(loop) }
    }

    /// The newest checkpoint this callback wrote: its step and path.
    private var lastSaved: (step: Int, path: String)?

    @discardableResult
    func save(_ loop: TrainingLoop) throws -> String {
        loop.announce("writing a checkpoint")
        try loop.log.synchronize()
        let entry = try directory.save(try TrainingCheckpoint.capture(loop), step: loop.step)
        lastSaved = (entry.step, entry.path)
        return entry.path
    }

    /// Saves the loop's state unless this callback already saved it at the current step; returns the
    /// checkpoint's path.
    func saveUnlessCurrent(_ loop: TrainingLoop) throws -> String {
        if let lastSaved, lastSaved.step == loop.step { return lastSaved.path }
        return try save(loop)
    }
}
