import Datasets
import Robustness

/// How a regression run trains and what it measures: epochs, batches (full-batch gradient descent or
/// SGD), fresh samples per epoch for an online stream, adversarial training, and the evaluation attack.
public struct RegressionTrainingSettings: Codable, Sendable, Equatable {
    /// An attack in a norm's geometry.
    public struct Attack: Codable, Sendable, Equatable {
        /// PGD's ε, step size and steps (random start and clipping as configured; inputs are never clipped
        /// to a range).
        public var pgd: PGDConfiguration
        /// ℓ2 or ℓ∞.
        public var norm: RegressionRobustness.Norm

        /// PGD with `pgd` in the ball of `norm`.
        public init(pgd: PGDConfiguration, norm: RegressionRobustness.Norm) {
            self.pgd = pgd
            self.norm = norm
        }
    }

    /// Epochs to train.
    public var epochs: Int
    /// Samples per step; nil trains on the whole fixed training set each step (full-batch gradient
    /// descent, one step per epoch). An online stream needs a batch size.
    public var batchSize: Int?
    /// Fresh samples drawn per epoch from an online stream (ignored for a fixed training set).
    public var samplesPerEpoch: Int
    /// Seeds the batch order and the attack's randomness.
    public var seed: UInt64
    /// Adversarial training: each batch is replaced by its PGD version against the model; nil trains
    /// on clean samples.
    public var adversarialTraining: Attack?
    /// The attack of the adversarial risk measured on the test set (and of the adversarial training
    /// loss when no adversarial training is set); nil measures no adversarial risk.
    public var evaluationAttack: Attack?
    /// Measure every this many epochs (and after the last).
    public var measureEvery: Int

    /// Settings from their parts; see ``validate()``.
    public init(epochs: Int, batchSize: Int? = nil, samplesPerEpoch: Int = 0, seed: UInt64 = 0,
                adversarialTraining: Attack? = nil, evaluationAttack: Attack? = nil, measureEvery: Int = 1) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.samplesPerEpoch = samplesPerEpoch
        self.seed = seed
        self.adversarialTraining = adversarialTraining
        self.evaluationAttack = evaluationAttack
        self.measureEvery = measureEvery
    }

    /// Throws, naming the setting, for a negative epoch count, a batch size or measuring period below
    /// 1, or an attack with a negative or non-finite ε or step size.
    public func validate() throws {
        guard epochs >= 0 else { throw WorkbenchError.invalidSetting(name: "epochs", value: "\(epochs)", requirement: "≥ 0") }
        if let b = batchSize, b < 1 { throw WorkbenchError.invalidSetting(name: "batch size", value: "\(b)", requirement: "at least 1") }
        guard samplesPerEpoch >= 0 else {
            throw WorkbenchError.invalidSetting(name: "samples per epoch", value: "\(samplesPerEpoch)", requirement: "≥ 0")
        }
        guard measureEvery >= 1 else { throw WorkbenchError.invalidSetting(name: "measure every", value: "\(measureEvery)", requirement: "at least 1") }
        for attack in [adversarialTraining, evaluationAttack].compactMap({ $0 }) { try RegressionRobustness.checkAttack(attack.pgd) }
    }
}

/// What a regression run trains on: a fixed set of samples, or a stream of fresh ones.
public enum RegressionTrainingData {
    /// The same n samples every epoch.
    case fixed(SyntheticSamples)
    /// Fresh samples every step (online learning); the stream's position is saved in checkpoints.
    case online(SyntheticStream)
}
