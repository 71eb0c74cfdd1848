import Foundation
import Robustness

/// The data sets `tangent` reads.
public enum DatasetKind: String, CaseIterable, Codable, Sendable {
    case mnist
    case fashionMNIST = "fashion-mnist"
    case cifar10

    /// Parses a command-line name, with a clear error listing the choices.
    public init(argument: String) throws {
        guard let d = DatasetKind(rawValue: argument) else {
            throw ConfigurationError("unknown dataset '\(argument)'; choose one of \(DatasetKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = d
    }
}

/// Everything that defines a training run. Saved as `config.json` in the run folder and inside
/// every checkpoint, so a resumed run continues with exactly the same settings.
public struct TrainingConfiguration: Codable, Sendable, Equatable {
    public var model: ModelKind = .mnistCNN
    public var dataset: DatasetKind = .mnist
    /// Folder of the standard files; nil uses the embedded MNIST sample (MNIST only).
    public var dataDirectory: String?
    public var epochs: Int = 10
    public var batchSize: Int = 300
    public var learningRate: Float = 0.01
    public var momentum: Float = 0
    public var weightDecay: Float = 0
    public var seed: UInt64 = 0
    /// Shuffle the training set every epoch (seeded). The paper's reference code does not.
    public var shuffle: Bool = true
    /// Use only the first N training / test images.
    public var trainSubset: Int?
    public var testSubset: Int?
    /// Clean accuracy on the training set is measured on its first N images each epoch.
    public var evalTrainSubset: Int = 10_000
    /// Evaluate every this many epochs (and always after the last).
    public var evalEvery: Int = 1
    /// Width m of the two-layer network.
    public var twoLayerWidth: Int = 4096
    /// Adversarial training: each batch is replaced by its attacked version before the step.
    public var adversarial: AttackKind?
    /// The attack used for robust evaluation each epoch (default: the paper's PGD-20 for the data set).
    public var robustEvaluationAttack: PGDConfiguration?
    /// Robust accuracy is measured on the first N training and N test images; 0 switches it off.
    public var robustEvalSubset: Int = 1000
    /// Kernel tracking (the empirical NTK of a fixed probe batch during training); nil: off.
    public var kernelTracking: KernelTrackingConfiguration?
    /// Checkpoint after every epoch, and/or every N optimiser steps; keep the last K files.
    public var checkpointEveryEpoch: Bool = true
    public var checkpointEverySteps: Int?
    public var keepLast: Int = 3
    /// Continue training the network's linearization around its parameters at the start of this epoch.
    public var linearizeAtEpoch: Int?

    public init() {}

    /// The paper's defaults for a model: batch 300 (MNIST) or 250 (CIFAR-10), lr 0.01.
    public static func paperDefaults(model: ModelKind) -> TrainingConfiguration {
        var c = TrainingConfiguration()
        c.model = model
        c.dataset = model.isCIFAR ? .cifar10 : .mnist
        c.batchSize = model.defaultBatchSize
        return c
    }

    /// The attack robust evaluation uses.
    public var evaluationAttack: PGDConfiguration {
        robustEvaluationAttack ?? PGDConfiguration.paper(cifar: dataset == .cifar10)
    }

    /// Checks values a run cannot start with.
    public func validate() throws {
        if epochs < 0 { throw ConfigurationError("--epochs must be at least 0, got \(epochs)") }
        if batchSize < 1 { throw ConfigurationError("--batch-size must be positive, got \(batchSize)") }
        if !(learningRate > 0) || !learningRate.isFinite { throw ConfigurationError("--lr must be a positive number, got \(learningRate)") }
        if let n = trainSubset, n < 1 { throw ConfigurationError("--train-subset must be positive, got \(n)") }
        if let n = testSubset, n < 1 { throw ConfigurationError("--test-subset must be positive, got \(n)") }
        if let n = checkpointEverySteps, n < 1 { throw ConfigurationError("--checkpoint-every must be positive, got \(n)") }
        if let k = linearizeAtEpoch, k < 0 { throw ConfigurationError("--linearize-at-epoch must be at least 0, got \(k)") }
        if keepLast < 1 { throw ConfigurationError("--keep-last must be at least 1, got \(keepLast)") }
        if robustEvalSubset < 0 { throw ConfigurationError("--robust-eval-subset must be at least 0") }
        for c in [adversarial.flatMap { if case .pgd(let p) = $0 { return p } else { return nil } }, robustEvaluationAttack].compactMap({ $0 }) {
            if !(c.epsilon >= 0) || !(c.stepSize >= 0) || c.steps < 0 {
                throw ConfigurationError("attack settings must be non-negative (eps \(c.epsilon), step \(c.stepSize), steps \(c.steps))")
            }
        }
        if evalEvery < 1 { throw ConfigurationError("--eval-every must be positive, got \(evalEvery)") }
        let wantsCIFAR = model.isCIFAR, isCIFAR = dataset == .cifar10
        if ![.twoLayer, .mlp].contains(model) && wantsCIFAR != isCIFAR {
            throw ConfigurationError("model \(model.rawValue) does not take \(dataset.rawValue) images")
        }
    }

    /// Decodes a stored configuration; settings it lacks (written before they existed) take their
    /// defaults, so old run folders and checkpoints keep loading.
    public static func decode(_ data: Data) throws -> TrainingConfiguration {
        let defaults = try JSONSerialization.jsonObject(with: JSONEncoder().encode(TrainingConfiguration())) as? [String: Any] ?? [:]
        guard let stored = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ConfigurationError("the configuration is not a JSON object")
        }
        let merged = defaults.merging(stored) { _, new in new }
        return try JSONDecoder().decode(TrainingConfiguration.self, from: JSONSerialization.data(withJSONObject: merged))
    }

    /// Pretty-printed JSON with sorted keys.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }
}
