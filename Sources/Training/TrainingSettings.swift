import Datasets
import Foundation
import Robustness

/// How a run trains — everything about the loop that is not one of the values passed to it (model,
/// optimiser, loss, schedule, data). Saved inside every checkpoint, so a resumed run can check that it
/// continues the same trajectory.
public struct TrainingSettings: Codable, Sendable, Equatable {
    /// Epochs to train in all (a resumed run may raise it).
    public var epochs: Int = 10
    /// Training examples per optimiser step.
    public var batchSize: Int = 300
    /// Seeds the data order, batch transforms (attacks, augmentation) and evaluation attacks.
    public var seed: UInt64 = 0
    /// Shuffle the training set every epoch (seeded). The paper's reference code does not.
    public var shuffle: Bool = true
    /// Clean accuracy on the training set is measured on its first N images each evaluated epoch.
    public var evalTrainSubset: Int = 10_000
    /// Evaluate every this many epochs (and always after the last).
    public var evalEvery: Int = 1
    /// Adversarial training: each batch is replaced by its attacked version before the step.
    public var adversarial: AttackKind?
    /// The attack robust evaluation uses each evaluated epoch (the paper's PGD-20 for MNIST by default).
    public var robustEvaluationAttack: PGDConfiguration = .paper(cifar: false)
    /// Robust accuracy is measured on the first N training and N test images; 0 switches it off.
    public var robustEvalSubset: Int = 1000
    /// Kernel tracking (the empirical NTK of a fixed probe batch during training); nil: off.
    public var kernelTracking: KernelTrackingConfiguration?
    /// Checkpoint after every epoch, and/or every N optimiser steps; keep the last K files.
    public var checkpointEveryEpoch: Bool = true
    /// Checkpoint also every this many optimiser steps (nil: not by steps).
    public var checkpointEverySteps: Int?
    /// How many of the newest checkpoints to keep.
    public var keepLast: Int = 3
    /// Continue training the network's linearization around its parameters at the start of this epoch.
    public var linearizeAtEpoch: Int?
    /// Random crops and flips of each training batch (off by default; the paper uses none).
    public var augmentation: Augmentation?

    /// The defaults: the paper's MNIST settings (batch 300, PGD-20 with ε 0.3 for robust evaluation).
    public init() {}

    /// The paper's settings for MNIST (batch 300, ε 0.3, step 0.01) or CIFAR-10 (batch 250, ε 8/255,
    /// step 2/255).
    public static func paper(cifar: Bool) -> TrainingSettings {
        var s = TrainingSettings()
        s.batchSize = cifar ? 250 : 300
        s.robustEvaluationAttack = .paper(cifar: cifar)
        return s
    }

    /// Checks values a run cannot start with; the error names the setting.
    public func validate() throws {
        func require(_ ok: Bool, _ message: @autoclosure () -> String) throws {
            if !ok { throw ConfigurationError(message()) }
        }
        try require(epochs >= 0, "the number of epochs must be at least 0, got \(epochs)")
        try require(batchSize >= 1, "the batch size must be positive, got \(batchSize)")
        try require(evalTrainSubset >= 1, "the training-accuracy subset must be positive, got \(evalTrainSubset)")
        try require(evalEvery >= 1, "the evaluation period must be positive, got \(evalEvery)")
        try require(robustEvalSubset >= 0, "the robust-evaluation subset must be at least 0, got \(robustEvalSubset)")
        if let n = checkpointEverySteps { try require(n >= 1, "the checkpoint period must be positive, got \(n)") }
        try require(keepLast >= 1, "at least one checkpoint must be kept, got \(keepLast)")
        if let k = linearizeAtEpoch { try require(k >= 0, "the linearization epoch must be at least 0, got \(k)") }
        try robustEvaluationAttack.validate()
        switch adversarial {
        case .pgd(let c)?: try c.validate()
        case .fgsm(let e)?: try require(e.isFinite && e >= 0, "the FGSM ε must be finite and not negative, got \(e)")
        case nil: break
        }
        try kernelTracking?.validate()
    }

    /// Pretty-printed JSON with sorted keys.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    /// The settings that shape the trajectory: a resumed run must keep them (epochs, evaluation and
    /// checkpoint cadence, and the linearization epoch may change).
    func trajectoryDifferences(from other: TrainingSettings) -> [String] {
        var d: [String] = []
        if batchSize != other.batchSize { d.append("batch size \(other.batchSize) → \(batchSize)") }
        if seed != other.seed { d.append("seed \(other.seed) → \(seed)") }
        if shuffle != other.shuffle { d.append("shuffle \(other.shuffle) → \(shuffle)") }
        if adversarial != other.adversarial { d.append("adversarial training changed") }
        if augmentation != other.augmentation { d.append("augmentation changed") }
        return d
    }
}

extension PGDConfiguration {
    /// Checks that ε and the step size are finite and not negative, and the step count not negative.
    public func validate() throws {
        guard epsilon.isFinite, epsilon >= 0, stepSize.isFinite, stepSize >= 0, steps >= 0 else {
            throw ConfigurationError("attack settings must be finite and not negative (ε \(epsilon), step \(stepSize), steps \(steps))")
        }
    }
}

/// A configuration problem, described in plain words.
public struct ConfigurationError: Error, CustomStringConvertible {
    /// The problem, in words.
    public let description: String
    /// An error saying `description`.
    public init(_ description: String) { self.description = description }
}
