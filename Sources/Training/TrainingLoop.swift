import Autodiff
import Datasets
import Foundation
import Kernels
import NN

/// Transforms each training batch before the update (adversarial training replaces it by its
/// attacked version). A per-step strategy, not a second loop.
public protocol BatchTransform: AnyObject {
    /// Returns the inputs to train on for this batch. `model` is what the loop trains (the network or
    /// its linearization), `loss` the loss it trains with; `rng` is the loop's own generator for
    /// transforms, saved in checkpoints.
    func transform(_ inputs: Tensor, labels: [Int32], model: Module, loss: Loss, rng: inout Xoshiro256) throws -> Tensor
}

/// Failures of a run, in plain words.
public enum TrainingError: Error, CustomStringConvertible {
    case nonFiniteLoss(epoch: Int, step: Int, loss: Float)
    case nonFiniteGradient(epoch: Int, step: Int, parameter: String)
    /// The model, loss and data do not fit together (checked before training starts).
    case incompatible(String)

    public var description: String {
        switch self {
        case .nonFiniteLoss(let e, let s, let l):
            return "the training loss became \(l) at epoch \(e + 1), step \(s + 1); parameters were left at their last finite values (lower the learning rate, or check the data)"
        case .nonFiniteGradient(let e, let s, let name):
            return "the gradient of \(name) became non-finite at epoch \(e + 1), step \(s + 1); the update was not applied and parameters were left at their last finite values (lower the learning rate, or check the data)"
        case .incompatible(let detail):
            return detail
        }
    }
}

/// The training loop: `fit` runs the optimiser over seeded batches of `data`, with events delivered to
/// callbacks — `TrainingLoop(model:optimizer:loss:data:settings:log:)`, Keras/Lightning style.
///
/// One object holds the whole state of a run — model, optimiser, data order, step counters, the
/// generator used by batch transforms — so checkpoints can save it and `fit` can resume exactly.
/// There is one model: ``network`` is the module passed in, and ``trainee`` — what the optimiser
/// trains, attacks target, evaluation measures and kernel tracking differentiates — is that network,
/// or its linearization after ``linearize(anchor:)``. Neither can be replaced from outside.
public final class TrainingLoop {
    /// The network passed in; its parameters are the θ being trained.
    public let network: Module
    /// Its linearization around an anchor θ₀, once ``linearize(anchor:)`` has switched to it.
    public private(set) var linearization: LinearizedModel?
    /// What the optimiser trains and attacks target: the network, or its linearization.
    public var trainee: Module { linearization ?? network }
    /// The optimiser; its per-parameter state is saved in checkpoints.
    public let optimizer: any Optimizer
    /// The loss trained with (and, unless told otherwise, attacked and evaluated with).
    public let loss: Loss
    /// The learning rate of each step (nil: the optimiser's own rate throughout).
    public let schedule: (any LearningRateSchedule)?
    /// How the loop trains: epochs, batch size, seed, evaluation, attacks, tracking, checkpoints.
    public let settings: TrainingSettings
    /// The training and test sets.
    public let data: TrainingData
    /// The run's metric files.
    public let log: MetricsLog
    /// Observers of the run, in order. A callback that is also a ``MetricsLogObserver`` is added to
    /// ``log``'s observers when it joins the list, so it sees every metric, even those other callbacks
    /// log before its own `fitStart`.
    public var callbacks: [TrainingCallback] = [] {
        didSet { for case let observer as MetricsLogObserver in callbacks { log.addObserver(observer) } }
    }
    /// Applied to every batch before the step (adversarial training); nil trains on clean data.
    public var batchTransform: BatchTransform?
    /// Extra state saved in checkpoints (e.g. a callback's companion state).
    public var checkpointExtensions: [CheckpointExtension] = []
    /// The run folder whose lock the loop takes while it trains (set by `TrainingSession`), so no
    /// other process writes the same run meanwhile.
    public internal(set) var runDirectory: String?
    /// The lock on ``runDirectory``: held from the session's opening of the folder until `fit` returns
    /// or throws, and taken again by a later `fit`.
    var runLock: RunLock?
    /// The run's identity (set by `TrainingSession`), stamped into every checkpoint.
    public internal(set) var runIdentity: RunIdentity?
    /// A caller's description of the run (e.g. the command line's settings as JSON), stored in every
    /// checkpoint as metadata `config` so tools can rebuild the run's components.
    public var runDescription: String?

    /// Completed epochs.
    public internal(set) var epoch = 0
    /// Completed optimiser steps.
    public internal(set) var step = 0
    /// The seeded order of training examples, with its position in the current epoch.
    public internal(set) var batchOrder: BatchOrder
    /// Randomness for batch transforms (PGD's random start, augmentation).
    public var transformGenerator: Xoshiro256
    /// The current batch (set from `batchStart` to `batchEnd`).
    public internal(set) var batch: (inputs: Tensor, labels: [Int32])?
    /// The inputs actually trained on for the current batch (after augmentation and the transform).
    public internal(set) var trainedInputs: Tensor?
    /// Gradients of the current step, by parameter name (set at `afterBackward`).
    public internal(set) var gradients: [String: Tensor] = [:]
    /// Loss of the last batch.
    public internal(set) var lastLoss: Float = .nan
    /// Sum of batch losses and batch count in the current epoch (for `train_loss`).
    public internal(set) var epochLossSum = 0.0
    public internal(set) var epochBatches = 0

    /// A new run of `model` on `data`. Throws, before anything is trained, when the settings are
    /// invalid or the model, loss, augmentation and data do not fit together (see
    /// ``checkCompatibility(model:loss:data:settings:)``).
    public init(model: Module, optimizer: any Optimizer, loss: Loss = .crossEntropy,
                schedule: (any LearningRateSchedule)? = nil, data: TrainingData, settings: TrainingSettings,
                log: MetricsLog) throws {
        try settings.validate()
        try Self.checkCompatibility(model: model, loss: loss, data: data, settings: settings)
        network = model
        self.optimizer = optimizer
        self.loss = loss
        self.schedule = schedule
        self.settings = settings
        self.data = data
        self.log = log
        batchOrder = BatchOrder(count: data.train.count, batchSize: settings.batchSize,
                                generator: Xoshiro256(seed: settings.seed &+ 0x5eed_0001), shuffle: settings.shuffle)
        transformGenerator = Xoshiro256(seed: settings.seed &+ 0x5eed_0002)
        batchTransform = settings.adversarial.map { AdversarialTraining(attack: $0) }
    }

    /// Checks that `model` takes `data`'s images and gives one output row per image that `loss` accepts
    /// with the data's labels (one forward pass on a training and a test image), and that the
    /// augmentation suits the images. Every problem names the shapes involved.
    public static func checkCompatibility(model: Module, loss: Loss, data: TrainingData, settings: TrainingSettings) throws {
        guard data.train.count > 0 else { throw TrainingError.incompatible("the training set is empty") }
        for (split, set) in [("training", data.train), ("test", data.test)] where set.count > 0 {
            let (x, labels) = BatchAssembly.batch(set, indices: 0..<1)
            let output: Tensor
            do { output = try model(x) } catch {
                throw TrainingError.incompatible("the model does not take the \(split) images (\(set.name), [1, \(set.channels), \(set.height), \(set.width)]): \(error)")
            }
            guard output.rank == 2, output.shape[0] == 1 else {
                throw TrainingError.incompatible("the model maps one \(split) image to shape \(output.shape); a loss needs [1, outputs]")
            }
            // The first image's label and the largest label of the split: every label must fit the outputs.
            for label in Set([labels[0], set.labels.max() ?? labels[0]]).sorted() {
                do { _ = try loss(output, labels: [label]) } catch {
                    throw TrainingError.incompatible("the loss '\(loss.name)' does not accept the model's output \(output.shape) with \(set.name)'s labels (\(set.classNames.count) classes, label \(label)): \(error)")
                }
            }
        }
        if let augmentation = settings.augmentation { try augmentation.validate(for: data.train) }
    }

    /// Tells every callback that a long piece of work starts (`activity`), so progress displays can
    /// say what the run is doing between steps.
    public func announce(_ description: String) {
        for c in callbacks { c.activity(self, description) }
    }

    /// Logs a metric at the current epoch and step.
    public func record(_ name: String, _ value: Double) throws {
        try log.log(name, value, epoch: epoch, step: step)
    }

    /// Switches training to the network's linearization around `anchor` (default: the current
    /// parameters): from the next step on, the optimiser trains f_lin, attacks and evaluation target it
    /// and kernel tracking uses its constant kernel. Checkpoints save the anchor.
    public func linearize(anchor: [String: Tensor]? = nil) throws {
        linearization = try anchor.map { try LinearizedModel(network: network, anchor: $0) } ?? LinearizedModel(network: network)
    }

    /// Restores counters and data position (used by checkpoint restore).
    func restoreProgress(epoch: Int, step: Int, order: BatchOrder.State, lossSum: Double, batches: Int,
                         transformState: [UInt64]) {
        self.epoch = epoch
        self.step = step
        batchOrder = BatchOrder(count: data.train.count, batchSize: settings.batchSize,
                                shuffle: settings.shuffle, restoring: order)
        epochLossSum = lossSum
        epochBatches = batches
        if batchOrder.isEpochFinished && batchOrder.epoch < epoch {
            // Saved at an epoch's end, after its callbacks: continue as `fit` would, with a new epoch.
            batchOrder.startNextEpoch()
            epochLossSum = 0
            epochBatches = 0
        }
        transformGenerator = Xoshiro256(state: transformState)
    }

    /// Trains until `settings.epochs` epochs are complete (continuing from the current state).
    public func fit() throws {
        if runLock == nil, let runDirectory { runLock = try RunLock(runDirectory: runDirectory) }
        defer { runLock = nil }
        for c in callbacks { try c.fitStart(self) }
        do {
            while epoch < settings.epochs {
                if batchOrder.position == 0 { for c in callbacks { try c.epochStart(self) } }
                while let indices = batchOrder.nextBatch() {
                    try trainStep(indices)
                    try stopIfRequested()
                }
                epoch += 1
                try record("train_loss", epochBatches > 0 ? epochLossSum / Double(epochBatches) : .nan)
                for c in callbacks { try c.epochEnd(self) }
                try stopIfRequested()
                batchOrder.startNextEpoch()
                epochLossSum = 0
                epochBatches = 0
                log.clearLatest()
            }
        } catch let stop as StopTraining {
            for c in callbacks { try c.fitEnd(self) }
            throw stop
        }
        for c in callbacks { try c.fitEnd(self) }
        try log.synchronize()
    }

    /// On a pending ``Interruption``: saves a checkpoint of the state after the step just finished
    /// (unless one was just written) and throws ``TrainingInterrupted``. `fitEnd` callbacks do not run.
    private func stopIfRequested() throws {
        guard let signal = Interruption.pendingSignal else { return }
        let saved = try callbacks.compactMap { $0 as? CheckpointCallback }.last?.saveUnlessCurrent(self)
        try log.synchronize()
        throw TrainingInterrupted(signal: signal, epoch: epoch, step: step, checkpointPath: saved)
    }

    private func trainStep(_ indices: ArraySlice<Int>) throws {
        var (x, labels) = BatchAssembly.batch(data.train, indices: indices)
        if let augmentation = settings.augmentation, !augmentation.isIdentity {
            let shape = x.shape
            x.withUnsafeMutablePointer {
                augmentation.apply($0, count: shape[0], channels: shape[1], height: shape[2], width: shape[3], rng: &transformGenerator)
            }
        }
        batch = (x, labels)
        for c in callbacks { try c.batchStart(self) }
        let model = trainee
        let inputs = try batchTransform?.transform(x, labels: labels, model: model, loss: loss, rng: &transformGenerator) ?? x
        trainedInputs = inputs
        let (value, grads) = try model.lossAndGradients { try loss(try model(inputs), labels: labels) }
        guard value.isFinite else { throw TrainingError.nonFiniteLoss(epoch: epoch, step: step, loss: value) }
        for (name, g) in grads where !g.withUnsafePointer({ Elementwise.allFinite($0, count: g.count) }) {
            throw TrainingError.nonFiniteGradient(epoch: epoch, step: step, parameter: name)
        }
        gradients = grads
        for c in callbacks { try c.afterBackward(self) }
        if let schedule { optimizer.learningRate = schedule.learningRate(atStep: step) }
        try optimizer.update(model, gradients: grads)
        gradients = [:]
        step += 1
        lastLoss = value
        epochLossSum += Double(value)
        epochBatches += 1
        for c in callbacks { try c.batchEnd(self) }
        batch = nil
        trainedInputs = nil
    }
}
