import Autodiff
import Kernels
import NN

/// Settings of a PGD attack. The defaults reproduce the paper's reference code: start at δ = 0,
/// no clipping to [0, 1] until the end.
public struct PGDConfiguration: Codable, Sendable, Equatable {
    /// The radius ε of the ℓ∞ (or ℓ2) ball.
    public var epsilon: Float
    /// The step size α of each ascent step.
    public var stepSize: Float
    /// The number of ascent steps.
    public var steps: Int
    /// Start uniformly inside the ε-ball instead of at zero.
    public var randomStart: Bool
    /// Clip x + δ to [0, 1] after every step (the robustness-library convention) instead of only
    /// at the end (the paper's variant).
    public var clipEveryStep: Bool

    /// PGD with radius `epsilon`, step `stepSize` and `steps` steps (20: PGD-20).
    public init(epsilon: Float, stepSize: Float, steps: Int = 20, randomStart: Bool = false, clipEveryStep: Bool = false) {
        self.epsilon = epsilon
        self.stepSize = stepSize
        self.steps = steps
        self.randomStart = randomStart
        self.clipEveryStep = clipEveryStep
    }

    /// PAPER.md's PGD-20: MNIST ε = 0.3, step 0.01; CIFAR-10 ε = 8/255, step 2/255.
    public static func paper(cifar: Bool) -> PGDConfiguration {
        cifar ? PGDConfiguration(epsilon: 8.0 / 255, stepSize: 2.0 / 255) : PGDConfiguration(epsilon: 0.3, stepSize: 0.01)
    }
}

/// Adversarial attacks on any model built from the library's differentiable layers (including the
/// linearized model). They read the parameters but never change them, and leave no parameter
/// gradients behind: only the input is differentiated.
public enum Attacks {
    /// The `loss` of `model` at `x` (mean cross-entropy by default) and its gradient with respect to `x`
    /// (zero when the model's output does not depend on its input: the gradient-masking report then
    /// flags it). Throws a `ShapeError` when `x` or `labels` do not fit the model.
    public static func inputGradient(of model: Module, at x: Tensor, labels: [Int32],
                                     loss: Loss = .crossEntropy) throws -> (loss: Float, gradient: Tensor) {
        let leaf = x.detached.requiringGradient()
        let value = try loss(try model(leaf), labels: labels)
        return (value.scalar, try gradients(of: value, wrt: [leaf], allowUnconnected: true)[0])
    }

    /// Projected gradient ascent on `loss` (mean cross-entropy by default) inside the ε-ball of `norm`,
    /// returning adversarial inputs in [0, 1].
    public static func pgd(_ model: Module, inputs x: Tensor, labels: [Int32], configuration c: PGDConfiguration,
                           norm: PerturbationNorm = LInfinity(), loss: Loss = .crossEntropy,
                           rng: inout Xoshiro256) throws -> Tensor {
        try pgd(ModuleObjective(model, loss: loss), inputs: x, labels: labels, configuration: c, norm: norm, rng: &rng)
    }

    /// Projected gradient ascent on any objective (a network's loss, a kernel predictor's) inside the
    /// ε-ball of `norm`, returning adversarial inputs in `inputRange` ([0, 1] for images; nil for inputs
    /// that are not bounded, e.g. Gaussian synthetic data). The objective is first anchored at the
    /// clean inputs (``AttackObjective/anchored(at:labels:)``).
    public static func pgd(_ objective: AttackObjective, inputs x: Tensor, labels: [Int32],
                           configuration c: PGDConfiguration, norm: PerturbationNorm = LInfinity(),
                           inputRange: ClosedRange<Float>? = 0...1,
                           rng: inout Xoshiro256) throws -> Tensor {
        let clean = x.detached
        let objective = try objective.anchored(at: clean, labels: labels)
        var delta = norm.start(shape: clean.shape, epsilon: c.epsilon, random: c.randomStart, rng: &rng)
        if c.clipEveryStep, let r = inputRange { delta = try (clean + delta).clamped(to: r.lowerBound, r.upperBound) - clean }
        for _ in 0..<c.steps {
            let (_, g) = try objective.lossAndInputGradient(at: clean + delta, labels: labels)
            delta = try norm.project(delta + norm.direction(g).scaled(by: c.stepSize), epsilon: c.epsilon)
            if c.clipEveryStep, let r = inputRange { delta = try (clean + delta).clamped(to: r.lowerBound, r.upperBound) - clean }
        }
        let adversarial = try clean + delta
        return (inputRange.map { adversarial.clamped(to: $0.lowerBound, $0.upperBound) } ?? adversarial).detached
    }

    /// The fast gradient sign method on `loss`: one step of size ε from δ = 0, then clipping to [0, 1].
    public static func fgsm(_ model: Module, inputs x: Tensor, labels: [Int32], epsilon: Float,
                            loss: Loss = .crossEntropy) throws -> Tensor {
        try fgsm(ModuleObjective(model, loss: loss), inputs: x, labels: labels, epsilon: epsilon)
    }

    /// One step of size ε from δ = 0 along `norm`'s direction of the objective's input gradient (the
    /// gradient sign for ℓ∞: FGSM; the normalised gradient for ℓ2: FGM), then clipping to [0, 1].
    public static func fgsm(_ objective: AttackObjective, inputs x: Tensor, labels: [Int32], epsilon: Float,
                            norm: PerturbationNorm = LInfinity()) throws -> Tensor {
        let clean = x.detached
        let (_, g) = try objective.anchored(at: clean, labels: labels).lossAndInputGradient(at: clean, labels: labels)
        return try (clean + norm.direction(g).scaled(by: epsilon)).clamped(to: 0, 1).detached
    }
}

/// Which attack a run uses for adversarial training or evaluation.
public enum AttackKind: Sendable, Equatable {
    case pgd(PGDConfiguration)
    case fgsm(epsilon: Float)

    /// Applies the attack, maximising `loss` (mean cross-entropy by default).
    public func perturb(_ model: Module, inputs: Tensor, labels: [Int32], loss: Loss = .crossEntropy,
                        rng: inout Xoshiro256) throws -> Tensor {
        switch self {
        case .pgd(let c): return try Attacks.pgd(model, inputs: inputs, labels: labels, configuration: c, loss: loss, rng: &rng)
        case .fgsm(let eps): return try Attacks.fgsm(model, inputs: inputs, labels: labels, epsilon: eps, loss: loss)
        }
    }

    /// Applies the attack to any objective (a kernel predictor's, a network's) in the geometry of `norm`.
    public func perturb(_ objective: AttackObjective, inputs: Tensor, labels: [Int32],
                        norm: PerturbationNorm = LInfinity(), rng: inout Xoshiro256) throws -> Tensor {
        switch self {
        case .pgd(let c): return try Attacks.pgd(objective, inputs: inputs, labels: labels, configuration: c, norm: norm, rng: &rng)
        case .fgsm(let eps): return try Attacks.fgsm(objective, inputs: inputs, labels: labels, epsilon: eps, norm: norm)
        }
    }

    /// The ε of the attack.
    public var epsilon: Float {
        switch self {
        case .pgd(let c): return c.epsilon
        case .fgsm(let e): return e
        }
    }
}
