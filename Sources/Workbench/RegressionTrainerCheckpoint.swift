import Autodiff
import Checkpoints
import Datasets
import Foundation
import Kernels
import NN
import Training

extension RegressionTrainer {
    /// The checkpoint metadata keys of the completed epochs and optimiser steps.
    static let epochKey = "workbench.epoch", stepKey = "workbench.step"

    /// The completed epochs and optimiser steps recorded in a ``checkpoint()``, or nil when `checkpoint`
    /// is not one of a regression run.
    public static func progress(of checkpoint: Checkpoint) -> (epoch: Int, step: Int)? {
        guard let epoch = checkpoint.metadata[epochKey].flatMap({ Int($0) }), epoch >= 0,
              let step = checkpoint.metadata[stepKey].flatMap({ Int($0) }), step >= 0 else { return nil }
        return (epoch, step)
    }

    /// The run's whole state: every parameter of the network (`parameter.NAME`), the linearization
    /// point of a lazy run (`anchor.NAME`), θ₀ of the distance (`initial.NAME`), the optimiser
    /// (`optimizer.KEY`), and as metadata the counters, the batch order or stream position, the progress
    /// of an epoch stopped midway, the attack generator, the settings, the measures so far and the metric
    /// log's length.
    public func checkpoint() throws -> Checkpoint {
        var c = Checkpoint()
        for (name, p) in network.namedParameters { try c.append(StoredTensor(name: "parameter.\(name)", values: p.value.scalars, shape: p.value.shape)) }
        if let linearized = trainee as? LinearizedModel {
            for (name, t) in linearized.anchor.sorted(by: { $0.key < $1.key }) {
                try c.append(StoredTensor(name: "anchor.\(name)", values: t.scalars, shape: t.shape))
            }
        }
        for (name, t) in initialParameters.sorted(by: { $0.key < $1.key }) {
            try c.append(StoredTensor(name: "initial.\(name)", values: t.scalars, shape: t.shape))
        }
        for (key, t) in optimizer.state.sorted(by: { $0.key < $1.key }) {
            try c.append(StoredTensor(name: "optimizer.\(key)", values: t.scalars, shape: t.shape))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        func json<T: Encodable>(_ value: T) throws -> String { String(decoding: try encoder.encode(value), as: UTF8.self) }
        c.metadata = [
            Self.epochKey: "\(epoch)", Self.stepKey: "\(step)",
            "workbench.attack_generator": try json(attackGenerator.state),
            "workbench.settings": try json(settings),
            "workbench.history": try json(history),
        ]
        if epochProgress != EpochProgress() { c.metadata["workbench.epoch_progress"] = try json(epochProgress) }
        if let batchOrder { c.metadata["workbench.batch_order"] = try json(batchOrder.state) }
        if case .online(let stream) = data { c.metadata["workbench.stream"] = try json(stream.state) }
        if let log {
            let position = try log.position()
            c.metadata["workbench.metrics_jsonl_bytes"] = "\(position.jsonl)"
            c.metadata["workbench.metrics_csv_bytes"] = "\(position.csv)"
        }
        return c
    }

    /// Continues from a ``checkpoint()`` of a run with the same model, optimiser kind, data kind and
    /// settings (the epoch count may differ). Everything is checked before anything changes; a
    /// mismatch names the entry.
    public func restore(from c: Checkpoint) throws {
        let decoder = JSONDecoder()
        func value<T: Decodable>(_ key: String, as type: T.Type) throws -> T {
            guard let text = c.metadata[key] else { throw WorkbenchError.checkpoint("metadata '\(key)' is missing") }
            do { return try decoder.decode(T.self, from: Data(text.utf8)) } catch {
                throw WorkbenchError.checkpoint("metadata '\(key)' cannot be read: \(error)")
            }
        }
        func count(_ key: String) throws -> Int {
            guard let n = Int(c.metadata[key] ?? ""), n >= 0 else {
                throw WorkbenchError.checkpoint("metadata '\(key)' = \(c.metadata[key] ?? "missing") is not a count")
            }
            return n
        }
        func tensors(_ prefix: String) throws -> [String: Tensor] {
            var result: [String: Tensor] = [:]
            for stored in c.tensors where stored.name.hasPrefix(prefix) {
                let values = try stored.floats()
                guard values.allSatisfy(\.isFinite) else { throw WorkbenchError.checkpoint("'\(stored.name)' holds non-finite values") }
                result[String(stored.name.dropFirst(prefix.count))] = Tensor(shape: stored.shape, scalars: values)
            }
            return result
        }
        var saved = try value("workbench.settings", as: RegressionTrainingSettings.self)
        saved.epochs = settings.epochs
        guard saved == settings else { throw WorkbenchError.checkpoint("it was written with other settings than this run's: \(c.metadata["workbench.settings"] ?? "")") }
        let savedEpoch = try count(Self.epochKey), savedStep = try count(Self.stepKey)
        let generatorWords = try value("workbench.attack_generator", as: [UInt64].self)
        guard generatorWords.count == 4, generatorWords.contains(where: { $0 != 0 }) else {
            throw WorkbenchError.checkpoint("'workbench.attack_generator' needs four words, not all zero")
        }
        let savedHistory = try value("workbench.history", as: [RegressionEpochMeasures].self)
        var order: BatchOrder?
        switch (batchOrder, c.metadata["workbench.batch_order"] != nil) {
        case (let current?, true):
            let state = try value("workbench.batch_order", as: BatchOrder.State.self)
            guard state.epochStartGeneratorState.count == 4, state.epoch >= 0, (0...current.count).contains(state.position) else {
                throw WorkbenchError.checkpoint("'workbench.batch_order' does not fit a training set of \(current.count) samples")
            }
            order = BatchOrder(count: current.count, batchSize: current.batchSize, shuffle: true, restoring: state)
        case (nil, false): order = nil
        default: throw WorkbenchError.checkpoint("it was written for \(batchOrder == nil ? "minibatches" : "full batches") of the training set")
        }
        var restoredData = data
        switch (data, c.metadata["workbench.stream"] != nil) {
        case (.online(let stream), true):
            restoredData = .online(try SyntheticStream(task: stream.task, restoring: try value("workbench.stream", as: SyntheticStream.State.self)))
        case (.fixed, false): break
        default: throw WorkbenchError.checkpoint("it was written for \(c.metadata["workbench.stream"] == nil ? "a fixed training set" : "an online stream")")
        }
        // An epoch stopped midway: its steps must be those the batch order or the stream has taken.
        let partial = c.metadata["workbench.epoch_progress"] == nil ? EpochProgress() : try value("workbench.epoch_progress", as: EpochProgress.self)
        let fits: Bool
        switch (restoredData, order) {
        case (.fixed, let order?): fits = partial.batches == order.batchIndexInEpoch && partial.samples == order.position
        case (.fixed, nil): fits = partial.batches == 0 && partial.samples == 0
        case (.online, _): fits = partial.samples == partial.batches * (settings.batchSize ?? 0) && partial.samples < settings.samplesPerEpoch
        }
        guard fits, partial.batches >= 0, partial.lossSum.isFinite else {
            throw WorkbenchError.checkpoint("'workbench.epoch_progress' (\(partial.batches) steps, \(partial.samples) samples into the epoch) does not fit the saved batch order or stream")
        }
        let parameters = try tensors("parameter."), anchor = try tensors("anchor."), initial = try tensors("initial.")
        let restoredTrainee: Module
        if trainee is LinearizedModel {
            guard !anchor.isEmpty else { throw WorkbenchError.checkpoint("this lazy run needs the linearization point (anchor.*), which it lacks") }
            restoredTrainee = try LinearizedModel(network: network, anchor: anchor)
        } else {
            guard anchor.isEmpty else { throw WorkbenchError.checkpoint("it holds a linearization point, but this run trains the network itself") }
            restoredTrainee = network
        }
        let previous = network.parameterValues()
        try network.loadParameterValues(parameters)
        do {
            _ = try ParameterDistance.relative(restoredTrainee, from: initial)
            try optimizer.restore(state: try tensors("optimizer."), for: restoredTrainee)
            if let log {
                try log.restore(jsonl: UInt64(try count("workbench.metrics_jsonl_bytes")), csv: UInt64(try count("workbench.metrics_csv_bytes")))
            }
        } catch {
            try network.loadParameterValues(previous)
            throw error
        }
        trainee = restoredTrainee
        initialParameters = initial
        data = restoredData
        batchOrder = order
        attackGenerator = Xoshiro256(state: generatorWords)
        epoch = savedEpoch
        step = savedStep
        epochProgress = partial
        history = savedHistory
    }
}
