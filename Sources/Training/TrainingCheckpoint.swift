import Autodiff
import Checkpoints
import Datasets
import Foundation
import Kernels
import NN

/// What a training checkpoint holds, and how it is written from and restored into a `TrainingLoop`.
///
/// Tensors: every parameter under its own dotted name (`conv1.weight`, …, so the file loads into the
/// equivalent PyTorch model after `zstd -d`), `optimizer.velocity.NAME` for momentum buffers,
/// `state.batch_order_generator` and `state.transform_generator` (U64 × 4), `state.epoch_loss_sum`,
/// and `callback.KEY.NAME` for callback state. Metadata: `config` (the run's JSON configuration),
/// `model`, `epoch`, `step`, the data order's epoch and position, the metric files' byte lengths,
/// `epoch_batches`, and `callback.KEY.NAME` strings.
public enum TrainingCheckpoint {
    /// Captures the loop's whole state.
    public static func capture(_ loop: TrainingLoop) throws -> Checkpoint {
        var c = Checkpoint(metadata: [:])
        for (name, p) in loop.network.namedParameters {
            try c.append(StoredTensor(name: name, values: p.value.scalars, shape: p.value.shape))
        }
        for name in loop.optimizer.velocity.keys.sorted() {
            let v = loop.optimizer.velocity[name]!
            try c.append(StoredTensor(name: "optimizer.velocity.\(name)", values: v.scalars, shape: v.shape))
        }
        let order = loop.batchOrder.state
        try c.append(StoredTensor(name: "state.batch_order_generator", values: order.epochStartGeneratorState))
        try c.append(StoredTensor(name: "state.transform_generator", values: loop.transformGenerator.state))
        try c.append(StoredTensor(name: "state.epoch_loss_sum", values: [loop.epochLossSum]))
        let position = try loop.log.position()
        c.metadata = [
            "config": String(decoding: try loop.configuration.jsonData(), as: UTF8.self),
            "model": loop.configuration.model.rawValue,
            "epoch": "\(loop.epoch)", "step": "\(loop.step)",
            "batch_order_epoch": "\(order.epoch)", "batch_order_position": "\(order.position)",
            "epoch_batches": "\(loop.epochBatches)",
            "metrics_jsonl_bytes": "\(position.jsonl)", "metrics_csv_bytes": "\(position.csv)",
        ]
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
    /// tensors are named like the model's parameters: a training checkpoint or a plain weight file).
    /// A missing or wrongly shaped tensor is an error naming the file and the tensor.
    public static func loadParameters(into model: Module, from checkpoint: Checkpoint, path: String) throws {
        var values: [String: Tensor] = [:]
        for (name, p) in model.namedParameters {
            guard let t = checkpoint[name] else {
                throw CheckpointStateError(path: path, "lacks tensor '\(name)' (it holds \(checkpoint.names.prefix(8).joined(separator: ", "))\(checkpoint.names.count > 8 ? ", …" : ""))")
            }
            guard t.shape == p.value.shape else {
                throw CheckpointStateError(path: path, "tensor '\(name)' has shape \(t.shape), the model needs \(p.value.shape)")
            }
            values[name] = Tensor(shape: t.shape, scalars: try t.floats())
        }
        try model.loadParameterValues(values)
    }

    /// The run configuration stored in a checkpoint.
    public static func configuration(of checkpoint: Checkpoint, path: String) throws -> TrainingConfiguration {
        guard let json = checkpoint.metadata["config"] else {
            throw CheckpointStateError(path: path, "has no run configuration (metadata 'config'): not a training checkpoint")
        }
        do { return try TrainingConfiguration.decode(Data(json.utf8)) }
        catch { throw CheckpointStateError(path: path, "has an unreadable run configuration: \(error)") }
    }

    /// Restores a loop (built from the checkpoint's configuration) to the checkpointed state.
    /// Every tensor is checked against the model: a missing or wrongly shaped one is an error naming it.
    public static func restore(_ loop: TrainingLoop, from c: Checkpoint, path: String) throws {
        func int(_ key: String) throws -> Int {
            guard let s = c.metadata[key], let v = Int(s) else { throw CheckpointStateError(path: path, "lacks metadata '\(key)'") }
            return v
        }
        func tensor(_ name: String) throws -> StoredTensor {
            guard let t = c[name] else { throw CheckpointStateError(path: path, "lacks tensor '\(name)'") }
            return t
        }
        try loadParameters(into: loop.network, from: c, path: path)
        loop.optimizer.velocity = [:]
        for name in c.names where name.hasPrefix("optimizer.velocity.") {
            let t = try tensor(name)
            loop.optimizer.velocity[String(name.dropFirst("optimizer.velocity.".count))] = Tensor(shape: t.shape, scalars: try t.floats())
        }
        let orderWords = try tensor("state.batch_order_generator").uint64s()
        let transformWords = try tensor("state.transform_generator").uint64s()
        guard orderWords.count == 4, transformWords.count == 4 else {
            throw CheckpointStateError(path: path, "generator states must have four words")
        }
        let position = try int("batch_order_position")
        guard position >= 0, position <= loop.data.train.count else {
            throw CheckpointStateError(path: path, "data position \(position) does not fit the \(loop.data.train.count) training images (was the data set changed?)")
        }
        let lossSum = try tensor("state.epoch_loss_sum").doubles().first ?? 0
        loop.restoreProgress(epoch: try int("epoch"), step: try int("step"),
                             order: BatchOrder.State(epochStartGeneratorState: orderWords, epoch: try int("batch_order_epoch"), position: position),
                             lossSum: lossSum, batches: try int("epoch_batches"), transformState: transformWords)
        try loop.log.restore(jsonl: UInt64(try int("metrics_jsonl_bytes")), csv: UInt64(try int("metrics_csv_bytes")))
        for extra in loop.checkpointExtensions { try extra.restore(from: c, path: path) }
        for callback in loop.callbacks {
            guard let key = callback.stateKey, c.metadata["callback.\(key)"] != nil else { continue }
            var state = CallbackState()
            let prefix = "callback.\(key)."
            for name in c.names where name.hasPrefix(prefix) {
                let t = try tensor(name), short = String(name.dropFirst(prefix.count))
                switch t.dtype {
                case .float32: state.floats[short] = (t.shape, try t.floats())
                case .float64: state.doubles[short] = try t.doubles()
                default: throw CheckpointStateError(path: path, "callback tensor '\(name)' has unsupported type \(t.dtype)")
                }
            }
            for (k, v) in c.metadata where k.hasPrefix(prefix) { state.strings[String(k.dropFirst(prefix.count))] = v }
            try callback.restoreState(state)
        }
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
    public let description: String
    public init(path: String, _ problem: String) { description = "\(path): \(problem)" }
}

/// Writes a checkpoint into `RUN/checkpoints/` after every epoch and/or every N steps, keeping the
/// last K. Add it last, so the state it saves includes everything the epoch's callbacks logged.
public final class CheckpointCallback: TrainingCallback {
    public let directory: CheckpointDirectory
    public let everyEpoch: Bool
    public let everySteps: Int?

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

    func save(_ loop: TrainingLoop) throws {
        try loop.log.synchronize()
        try directory.save(try TrainingCheckpoint.capture(loop), step: loop.step)
    }
}
