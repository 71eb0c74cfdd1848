import Autodiff
import Datasets
import Kernels
import NN
import Robustness

/// Clean and adversarial squared error of a regression model on the same samples, with the fraction
/// whose output keeps the target's sign (the robust accuracy of a sign-classification task).
public struct RegressionRobustnessReport: Sendable, Equatable {
    /// How many samples were attacked.
    public var samples: Int
    /// mean (f(x) − y)².
    public var cleanRisk: Double
    /// mean max_{‖δ‖ ≤ ε} (f(x + δ) − y)², as found by PGD: the adversarial risk (under the sign-margin
    /// attack, the squared error at the inputs that attack found).
    public var adversarialRisk: Double
    /// Fraction with sign f(x) = sign y.
    public var cleanSignAccuracy: Double
    /// Fraction with sign f(x + δ) = sign y at the attacked inputs.
    public var robustSignAccuracy: Double
}

/// The robustness measures of the two-layer workbench: adversarial risk by PGD on the squared error
/// (ℓ2 or ℓ∞, inputs unbounded) and the mean input-gradient norm.
public enum RegressionRobustness {
    /// The attack's geometry.
    public enum Norm: String, Codable, Sendable, CaseIterable {
        /// The ℓ2 ball (normalised-gradient steps).
        case l2
        /// The ℓ∞ ball (sign-gradient steps).
        case linf

        /// The attack loop's hooks for this norm.
        public var perturbation: PerturbationNorm {
            switch self {
            case .l2: return L2Ball()
            case .linf: return LInfinity()
            }
        }
    }

    /// What an attack climbs.
    public enum AttackedLoss: String, Codable, Sendable, CaseIterable {
        /// The squared error (``RegressionObjective``): the attack of the adversarial risk.
        case squaredError
        /// The negative signed margin −y f(x) (``SignMarginObjective``): the attack of robust sign accuracy.
        case signMargin
    }

    /// PGD on the mean squared error of `model` against `samples.targets` (or `targets` when given) —
    /// or on the negative signed margin with `attackedLoss: .signMargin` — in the ε-ball of `norm`, in
    /// batches; inputs are not clipped (synthetic inputs are unbounded). Each sample's perturbation is
    /// found independently: the mean's gradient in x_i is sample i's.
    public static func evaluate(_ model: Module, samples: SyntheticSamples, targets: [Float]? = nil,
                                attack: PGDConfiguration, norm: Norm, attackedLoss: AttackedLoss = .squaredError,
                                batchSize: Int = 1000, rng: inout Xoshiro256) throws -> RegressionRobustnessReport {
        let y = targets ?? samples.targets
        guard y.count == samples.count else {
            throw WorkbenchError.mismatch("\(y.count) targets for \(samples.count) samples")
        }
        try checkAttack(attack)
        var report = RegressionRobustnessReport(samples: samples.count, cleanRisk: 0, adversarialRisk: 0,
                                                cleanSignAccuracy: 0, robustSignAccuracy: 0)
        guard samples.count > 0 else { return report }
        for range in batches(samples.count, batchSize) {
            let x = inputs(samples, range)
            let objective = RegressionObjective(model, targets: Array(y[range]))
            let attacked: AttackObjective = attackedLoss == .squaredError ? objective : SignMarginObjective(model, targets: Array(y[range]))
            let labels = [Int32](repeating: 0, count: range.count)
            let (clean, cleanAccuracy) = try objective.lossAndAccuracy(at: x, labels: labels)
            let adversarial = try Attacks.pgd(attacked, inputs: x, labels: labels, configuration: attack,
                                              norm: norm.perturbation, inputRange: nil, rng: &rng)
            let (risk, robustAccuracy) = try objective.lossAndAccuracy(at: adversarial, labels: labels)
            let weight = Double(range.count)
            report.cleanRisk += Double(clean) * weight
            report.adversarialRisk += Double(risk) * weight
            report.cleanSignAccuracy += cleanAccuracy * weight
            report.robustSignAccuracy += robustAccuracy * weight
        }
        let n = Double(samples.count)
        report.cleanRisk /= n; report.adversarialRisk /= n
        report.cleanSignAccuracy /= n; report.robustSignAccuracy /= n
        return report
    }

    /// E‖∇ₓ f(x)‖₂ over `samples`: the mean ℓ2 norm of the input gradient of a one-output model. For a
    /// model that is not continuous in x it is the gradient almost everywhere and misses the jumps: the
    /// lazy (linearized) model of a ReLU net jumps by (α/√m) a_r (w_r − w⁰_r)·x where w⁰_r·x changes sign,
    /// so compare it across regimes with a smooth activation, or through the adversarial risk.
    public static func meanInputGradientNorm(_ model: Module, samples: SyntheticSamples, batchSize: Int = 1000) throws -> Double {
        guard samples.count > 0 else { return 0 }
        var total = 0.0
        let d = samples.dimension
        for range in batches(samples.count, batchSize) {
            let leaf = inputs(samples, range).requiringGradient()
            let outputs = try model(leaf)
            guard outputs.shape == [range.count, 1] else {
                throw WorkbenchError.mismatch("the input-gradient norm needs one output per sample; the model gives \(outputs.shape) for \(range.count) samples")
            }
            // Samples do not interact, so the gradient of Σ_i f(x_i) in x_i is ∇f(x_i).
            let g = try gradients(of: outputs.sum(), wrt: [leaf], allowUnconnected: true)[0].scalars
            for i in 0..<range.count {
                var squares = 0.0
                for j in 0..<d { squares += Double(g[i * d + j]) * Double(g[i * d + j]) }
                total += squares.squareRoot()
            }
        }
        return total / Double(samples.count)
    }

    /// The inputs of `samples` at `range` as a `[B, d]` tensor.
    static func inputs(_ samples: SyntheticSamples, _ range: Range<Int>) -> Tensor {
        let d = samples.dimension
        return Tensor(shape: [range.count, d], scalars: Array(samples.inputs[(range.lowerBound * d)..<(range.upperBound * d)]))
    }

    /// `0..<count` cut into consecutive ranges of at most `size` (at least 1).
    static func batches(_ count: Int, _ size: Int) -> [Range<Int>] {
        let step = max(size, 1)
        return stride(from: 0, to: count, by: step).map { $0..<min($0 + step, count) }
    }

    /// Refuses a negative or non-finite ε or step, or a negative number of steps.
    static func checkAttack(_ c: PGDConfiguration) throws {
        for (name, value) in [("attack epsilon", c.epsilon), ("attack step size", c.stepSize)] where !(value.isFinite && value >= 0) {
            throw WorkbenchError.invalidSetting(name: name, value: "\(value)", requirement: "finite and ≥ 0")
        }
        guard c.steps >= 0 else { throw WorkbenchError.invalidSetting(name: "attack steps", value: "\(c.steps)", requirement: "≥ 0") }
    }
}
