import Autodiff
import Datasets
import Foundation
import Kernels
import NN

/// Transforms each training batch before the update (adversarial training replaces it by its
/// attacked version). A per-step strategy, not a second loop.
public protocol BatchTransform: AnyObject {
    /// Returns the inputs to train on for this batch. `model` is what the loop trains (the
    /// network or its linearization); `rng` is the loop's own generator for transforms, saved in
    /// checkpoints. Errors (e.g. a ``ShapeError`` from the model) abort the run.
    func transform(_ inputs: Tensor, labels: [Int32], model: Module, rng: inout Xoshiro256) throws -> Tensor
}

/// Failures of a run, in plain words.
public enum TrainingError: Error, CustomStringConvertible {
    case nonFiniteLoss(epoch: Int, step: Int, loss: Float)
    case nonFiniteGradient(epoch: Int, step: Int, parameter: String)

    public var description: String {
        switch self {
        case .nonFiniteLoss(let e, let s, let l):
            return "the training loss became \(l) at epoch \(e + 1), step \(s + 1); parameters were left at their last finite values (lower --lr, or check the data)"
        case .nonFiniteGradient(let e, let s, let name):
            return "the gradient of \(name) became non-finite at epoch \(e + 1), step \(s + 1); the update was not applied and parameters were left at their last finite values (lower --lr, or check the data)"
        }
    }
}

/// The training loop: SGD over seeded batches, with events delivered to callbacks.
///
/// One object holds the whole state of a run — model, optimiser, data order, step counters, the
/// generator used by batch transforms — so checkpoints can save it and `fit` can resume exactly.
public final class TrainingLoop {
    public let configuration: TrainingConfiguration
    /// The network; its parameters are the θ being trained.
    public let network: Module
    /// What SGD trains and attacks target: the network itself, or its linearization.
    public var trainee: Module
    public let optimizer: SGD
    public let data: TrainingData
    public let log: MetricsLog
    public var callbacks: [TrainingCallback] = []
    /// Applied to every batch before the step (adversarial training); nil trains on clean data.
    public var batchTransform: BatchTransform?
    /// Extra state saved in checkpoints (e.g. the linearization point).
    public var checkpointExtensions: [CheckpointExtension] = []

    /// Completed epochs.
    public internal(set) var epoch = 0
    /// Completed optimiser steps.
    public internal(set) var step = 0
    /// The seeded order of training examples, with its position in the current epoch.
    public internal(set) var batchOrder: BatchOrder
    /// Randomness for batch transforms (e.g. PGD's random start).
    public var transformGenerator: Xoshiro256
    /// The current batch (set from `batchStart` to `batchEnd`).
    public internal(set) var batch: (inputs: Tensor, labels: [Int32])?
    /// The inputs actually trained on for the current batch (after the transform).
    public internal(set) var trainedInputs: Tensor?
    /// Gradients of the current step, by parameter name (set at `afterBackward`).
    public internal(set) var gradients: [String: Tensor] = [:]
    /// Loss of the last batch.
    public internal(set) var lastLoss: Float = .nan
    /// Sum of batch losses and batch count in the current epoch (for `train_loss`).
    public internal(set) var epochLossSum = 0.0
    public internal(set) var epochBatches = 0

    /// A new run: the model initialised from the configuration's seed. Throws when the optimiser
    /// refuses the configuration's settings.
    public init(configuration: TrainingConfiguration, data: TrainingData, log: MetricsLog) throws {
        self.configuration = configuration
        var modelRNG = Xoshiro256(seed: configuration.seed)
        network = try configuration.model.make(rng: &modelRNG, inputShape: [data.train.channels, data.train.height, data.train.width],
                                           classes: data.train.classNames.count, twoLayerWidth: configuration.twoLayerWidth)
        trainee = network
        optimizer = try SGD(learningRate: configuration.learningRate, momentum: configuration.momentum,
                            weightDecay: configuration.weightDecay)
        self.data = data
        self.log = log
        batchOrder = BatchOrder(count: data.train.count, batchSize: configuration.batchSize,
                                generator: Xoshiro256(seed: configuration.seed &+ 0x5eed_0001), shuffle: configuration.shuffle)
        transformGenerator = Xoshiro256(seed: configuration.seed &+ 0x5eed_0002)
        batchTransform = configuration.adversarial.map { AdversarialTraining(attack: $0) }
    }

    /// Logs a metric at the current epoch and step.
    public func record(_ name: String, _ value: Double) throws {
        try log.log(name, value, epoch: epoch, step: step)
    }

    /// Restores counters and data position (used by checkpoint restore).
    func restoreProgress(epoch: Int, step: Int, order: BatchOrder.State, lossSum: Double, batches: Int,
                         transformState: [UInt64]) {
        self.epoch = epoch
        self.step = step
        batchOrder = BatchOrder(count: data.train.count, batchSize: configuration.batchSize,
                                shuffle: configuration.shuffle, restoring: order)
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

    /// Trains until `configuration.epochs` epochs are complete (continuing from the current state).
    public func fit() throws {
        for c in callbacks { try c.fitStart(self) }
        do {
            while epoch < configuration.epochs {
                if batchOrder.position == 0 { for c in callbacks { try c.epochStart(self) } }
                while let indices = batchOrder.nextBatch() {
                    try trainStep(indices)
                }
                epoch += 1
                try record("train_loss", epochBatches > 0 ? epochLossSum / Double(epochBatches) : .nan)
                for c in callbacks { try c.epochEnd(self) }
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

    private func trainStep(_ indices: ArraySlice<Int>) throws {
        let (x, labels) = BatchAssembly.batch(data.train, indices: indices)
        batch = (x, labels)
        for c in callbacks { try c.batchStart(self) }
        let inputs = try batchTransform?.transform(x, labels: labels, model: trainee, rng: &transformGenerator) ?? x
        trainedInputs = inputs
        let model = trainee
        let (loss, grads) = try model.lossAndGradients { try softmaxCrossEntropy(logits: try model(inputs), labels: labels) }
        guard loss.isFinite else { throw TrainingError.nonFiniteLoss(epoch: epoch, step: step, loss: loss) }
        for (name, g) in grads where !g.withUnsafePointer({ Elementwise.allFinite($0, count: g.count) }) {
            throw TrainingError.nonFiniteGradient(epoch: epoch, step: step, parameter: name)
        }
        gradients = grads
        for c in callbacks { try c.afterBackward(self) }
        try optimizer.update(model, gradients: grads)
        gradients = [:]
        step += 1
        lastLoss = loss
        epochLossSum += Double(loss)
        epochBatches += 1
        for c in callbacks { try c.batchEnd(self) }
        batch = nil
        trainedInputs = nil
    }
}
