import Autodiff
import Kernels
import Robustness

/// Robust-feature selection (the paper's Appendix D.3): rank eigen-features by their robustness on a
/// validation split, keep the r most robust (with their original eigenvalues), and see whether the
/// predictor of those r features is robust — clean accuracy, accuracy under an attack on itself, and
/// accuracy under the attack computed against the full kernel predictor — as r grows. The paper finds
/// that on MNIST this does not give a robust classifier.
public struct RobustFeatureSelection: Sendable {
    /// The test-set figures of one predictor.
    public struct Step: Sendable, Equatable, Codable {
        /// The number of features kept (for the full predictor: all of them).
        public let count: Int
        /// The features kept, most robust first.
        public let features: [Int]
        /// Accuracy on the clean test inputs.
        public let cleanAccuracy: Double
        /// Accuracy under the attack computed against this predictor.
        public let ownAttackAccuracy: Double
        /// Accuracy on the test inputs attacked against the full kernel predictor.
        public let fullAttackAccuracy: Double
    }

    /// The attack of the ranking and of the test figures.
    public let attack: AttackKind
    /// The candidates on the validation split, most robust first (ties: more useful first, then the
    /// lower index).
    public let ranking: [FeatureEvaluation]
    /// The full kernel predictor (every feature) on the test split.
    public let full: Step
    /// One step per requested r, in the order requested.
    public let steps: [Step]

    /// The step whose accuracy under its own attack is highest (the smallest r among equals): how many
    /// of the most robust features give the most robust predictor. Nil without steps.
    public var ownAttackPeak: Step? {
        steps.max { a, b in
            a.ownAttackAccuracy != b.ownAttackAccuracy ? a.ownAttackAccuracy < b.ownAttackAccuracy : a.count > b.count
        }
    }

    /// Runs the selection.
    /// - Parameters:
    ///   - features: the eigen-features of the kernel machine.
    ///   - candidates: the features ranked (default: all of them).
    ///   - validation: the split the ranking is measured on.
    ///   - test: the split the selected predictors are measured on.
    ///   - counts: the numbers r of most robust features to keep, each in 1…candidates.count.
    ///   - attack: FGSM or PGD, with its ε.
    ///   - loss: the attacked loss; nil: the task's cross-entropy.
    ///   - norm: the attack's ball (ℓ∞ by default).
    ///   - batchSize: examples attacked together.
    ///   - rng: for attacks with a random start.
    /// - Throws: ``EigenFeatureError`` for bad candidates or counts, or a candidate whose eigenvalue
    ///   cannot be divided by; ``KernelPredictorError/incompleteDecomposition(computed:samples:)`` for
    ///   features from a top-K decomposition (the full predictor is needed); as
    ///   ``EigenFeatures/evaluate(features:images:labels:attacks:loss:norm:batchSize:rng:)``.
    public static func run(features: EigenFeatures, candidates: [Int]? = nil,
                           validation: (images: Tensor, labels: [Int32]), test: (images: Tensor, labels: [Int32]),
                           counts: [Int], attack: AttackKind, loss: KernelAttackLoss? = nil,
                           norm: PerturbationNorm = LInfinity(), batchSize: Int = 500,
                           rng: inout Xoshiro256) throws -> RobustFeatureSelection {
        // First: a top-K decomposition has no full predictor to compare with.
        let fullPredictor = try features.fullPredictor()
        let candidates = try features.checkedFeatures(candidates ?? features.all)
        guard !counts.isEmpty else {
            throw EigenFeatureError.countOutOfRange(name: "number of robust features kept", value: 0,
                                                    allowed: 1...candidates.count)
        }
        for r in counts where !(1...candidates.count).contains(r) {
            throw EigenFeatureError.countOutOfRange(name: "number of robust features kept", value: r,
                                                    allowed: 1...candidates.count)
        }
        let loss = loss ?? .crossEntropy(for: features.task)
        let ranking = try features.evaluate(features: candidates, images: validation.images, labels: validation.labels,
                                            attacks: [attack], loss: loss, norm: norm, batchSize: batchSize, rng: &rng)
            .sorted { a, b in
                let ra = a.robustAccuracy ?? 0, rb = b.robustAccuracy ?? 0
                if ra != rb { return ra > rb }
                if a.cleanAccuracy != b.cleanAccuracy { return a.cleanAccuracy > b.cleanAccuracy }
                return a.feature < b.feature
            }

        let fullObjective = try KernelAttackObjective(predictor: fullPredictor, loss: loss)
        let attackedAgainstFull = try attack.perturb(fullObjective, inputs: test.images, labels: test.labels,
                                                     norm: norm, rng: &rng)
        func step(_ predictor: KernelPredictor, kept: [Int]) throws -> Step {
            let report = try RobustEvaluation.evaluate(try KernelAttackObjective(predictor: predictor, loss: loss),
                                                       images: test.images, labels: test.labels, attack: attack,
                                                       norm: norm, batchSize: batchSize, rng: &rng)
            return Step(count: kept.count, features: kept, cleanAccuracy: report.cleanAccuracy,
                        ownAttackAccuracy: report.robustAccuracy,
                        fullAttackAccuracy: try predictor.accuracy(attackedAgainstFull, labels: test.labels))
        }
        let full = try step(fullPredictor, kept: features.all)
        let steps = try counts.map { r in
            let kept = ranking.prefix(r).map(\.feature)
            return try step(try features.predictor(features: kept), kept: kept)
        }
        return RobustFeatureSelection(attack: attack, ranking: ranking, full: full, steps: steps)
    }
}
