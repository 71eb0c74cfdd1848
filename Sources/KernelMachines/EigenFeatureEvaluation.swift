import Autodiff
import Kernels
import Robustness

/// How useful and how robust one eigen-feature is on held-out data (the paper's Fig. 2): the clean
/// accuracy of f_j alone, and its accuracy under attacks computed against f_j itself.
public struct FeatureEvaluation: Sendable, Equatable {
    /// The feature j (1 = the largest eigenvalue).
    public let feature: Int
    /// λ_j.
    public let eigenvalue: Double
    /// Usefulness: the accuracy of f_j on the clean held-out inputs.
    public let cleanAccuracy: Double
    /// One report per attack, in the order the attacks were given: the attack climbs f_j's own loss.
    public let reports: [RobustnessReport]

    /// An evaluation from its parts (e.g. the reports of several ``EigenFeatures/evaluate(features:images:labels:attacks:loss:norm:batchSize:rng:)``
    /// runs with different losses, joined).
    public init(feature: Int, eigenvalue: Double, cleanAccuracy: Double, reports: [RobustnessReport]) {
        self.feature = feature
        self.eigenvalue = eigenvalue
        self.cleanAccuracy = cleanAccuracy
        self.reports = reports
    }

    /// Robustness: the accuracy of f_j under the first attack (nil when no attack was run).
    public var robustAccuracy: Double? { reports.first?.robustAccuracy }

    /// Whether robustness falls with the index: Spearman's ρ (``RankCorrelation/spearman(_:)``) between
    /// j and the accuracy under attack `attackIndex` over the evaluations of the features in `features`
    /// (the paper's pattern gives a clearly negative value). Nil when it is not defined (fewer than two
    /// such evaluations with that attack, or one of the two constant).
    public static func robustnessTrend(_ evaluations: [FeatureEvaluation], features: ClosedRange<Int>,
                                       attackIndex: Int = 0) -> Double? {
        RankCorrelation.spearman(evaluations.filter {
            features.contains($0.feature) && $0.reports.indices.contains(attackIndex)
        }.map { (x: Double($0.feature), y: $0.reports[attackIndex].robustAccuracy) })
    }
}

extension EigenFeatures {
    /// Usefulness and robustness of each requested feature on (`images`, `labels`): the clean accuracy
    /// of every feature (all from one application of Θ(x, X)), and for each attack (FGSM, PGD; any ε)
    /// the accuracy of f_j under that attack on f_j's own loss, run by the network attacks' loop
    /// (`RobustEvaluation.evaluate` on a ``KernelAttackObjective``).
    /// - Parameters:
    ///   - features: the features (1-based), e.g. `1...100`.
    ///   - images: held-out inputs with the training inputs' per-sample shape.
    ///   - labels: their labels, classes of the task.
    ///   - attacks: the attacks; none gives usefulness only.
    ///   - loss: the attacked loss; nil: the cross-entropy of the task (the paper's).
    ///   - norm: the geometry of the attacks' ball (ℓ∞ by default).
    ///   - batchSize: examples attacked together.
    ///   - rng: for attacks with a random start.
    /// - Throws: ``EigenFeatureError`` for bad feature lists or eigenvalues that cannot be divided by;
    ///   ``KernelPredictorError`` for labels that do not match; ``KernelMachineError`` for inputs of the
    ///   wrong shape; the kernel's errors.
    public func evaluate<Features: Sequence<Int>>(features: Features, images: Tensor, labels: [Int32],
                                                  attacks: [AttackKind], loss: KernelAttackLoss? = nil,
                                                  norm: PerturbationNorm = LInfinity(), batchSize: Int = 500,
                                                  rng: inout Xoshiro256) throws -> [FeatureEvaluation] {
        let list = try checkedFeatures(features)
        let accuracies = try cleanAccuracies(features: list, images: images, labels: labels)
        let loss = loss ?? .crossEntropy(for: task)
        try loss.check(for: task)
        guard batchSize >= 1 else {
            throw KernelPredictorError.invalidSetting(name: "batch size", value: Double(batchSize), requirement: "at least 1")
        }
        return try zip(list, accuracies).map { j, accuracy in
            let objective = try KernelAttackObjective(predictor: try predictor(feature: j), loss: loss)
            let reports = try attacks.map { attack in
                try RobustEvaluation.evaluate(objective, images: images, labels: labels, attack: attack, norm: norm,
                                              batchSize: batchSize, rng: &rng)
            }
            return FeatureEvaluation(feature: j, eigenvalue: eigenvalues[j - 1], cleanAccuracy: accuracy, reports: reports)
        }
    }

    /// The clean accuracy of each feature alone on (`images`, `labels`), from one application of Θ(x, X).
    /// - Throws: as ``outputs(_:features:)``, and for labels that are not N classes of the task.
    public func cleanAccuracies<Features: Sequence<Int>>(features: Features, images: Tensor,
                                                         labels: [Int32]) throws -> [Double] {
        let list = try checkedFeatures(features)
        let n = images.shape.first ?? 0
        guard labels.count == n else { throw KernelPredictorError.labelCount(labels: labels.count, samples: n) }
        try task.checkLabels(labels)
        guard n > 0 else { return Array(repeating: 0, count: list.count) }
        return try outputs(images, features: list).map { scores in
            let predicted = task.predictions(from: scores)
            return Double(zip(predicted, labels).filter { $0 == $1 }.count) / Double(n)
        }
    }
}
