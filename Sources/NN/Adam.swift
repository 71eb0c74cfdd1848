import Autodiff
import Foundation

/// Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019) as PyTorch computes them:
/// m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², θ ← θ − η·m̂ / (√v̂ + ε) with m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ).
/// Weight decay λ is added to the gradient (Adam, L2) or applied to θ directly, θ ← θ(1 − ηλ) (AdamW,
/// decoupled). The step count t is per parameter and saved with the moments.
public final class Adam: Optimizer {
    public var learningRate: Float
    /// The moment decay rates β₁, β₂ and the denominator's ε.
    public let beta1: Float, beta2: Float, epsilon: Float
    /// λ.
    public let weightDecay: Float
    /// Decoupled weight decay (AdamW) instead of L2 in the gradient (Adam).
    public let decoupledWeightDecay: Bool
    /// First and second moments and step counts by parameter name. Saved in checkpoints.
    public private(set) var firstMoment: [String: Tensor] = [:]
    public private(set) var secondMoment: [String: Tensor] = [:]
    public private(set) var steps: [String: Int] = [:]

    /// Adam; throws for settings out of range (η, λ, ε ≥ 0 and finite, β in [0, 1)).
    public init(learningRate: Float = 0.001, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                weightDecay: Float = 0, decoupledWeightDecay: Bool = false) throws {
        try requireSetting("learning rate", learningRate, in: 0...Float.greatestFiniteMagnitude, "finite and not negative")
        try requireSetting("beta1", beta1, in: 0...0.999_999_9, "in [0, 1)")
        try requireSetting("beta2", beta2, in: 0...0.999_999_9, "in [0, 1)")
        try requireSetting("epsilon", epsilon, in: 0...Float.greatestFiniteMagnitude, "finite and not negative")
        try requireSetting("weight decay", weightDecay, in: 0...Float.greatestFiniteMagnitude, "finite and not negative")
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
    }

    /// AdamW: Adam with decoupled weight decay (PyTorch's default λ = 0.01).
    public static func adamW(learningRate: Float = 0.001, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                             weightDecay: Float = 0.01) throws -> Adam {
        try Adam(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay,
                 decoupledWeightDecay: true)
    }

    public func applySingle(name: String, parameter p: Parameter, gradient g: Tensor) throws {
        let n = g.count
        let t = (steps[name] ?? 0) + 1
        steps[name] = t
        // Bias corrections in Double, as PyTorch computes them in Python floats.
        let c1 = 1 - pow(Double(beta1), Double(t)), c2 = 1 - pow(Double(beta2), Double(t))
        let stepSize = Float(Double(learningRate) / c1)
        let rootC2 = Float(c2.squareRoot())
        let (b1, b2, eps, lr, wd, decoupled) = (beta1, beta2, epsilon, learningRate, weightDecay, decoupledWeightDecay)
        var m = firstMoment.removeValue(forKey: name) ?? Tensor.zeros(g.shape)
        var v = secondMoment.removeValue(forKey: name) ?? Tensor.zeros(g.shape)
        var value = p.value.detached
        p.value = Tensor.zeros([])
        g.withUnsafePointer { pg in
            value.withUnsafeMutablePointer { pv in
                m.withUnsafeMutablePointer { pm in
                    v.withUnsafeMutablePointer { pvv in
                        for i in 0..<n {
                            var grad = pg[i]
                            if decoupled { pv[i] *= 1 - lr * wd } else { grad += wd * pv[i] }
                            pm[i] = b1 * pm[i] + (1 - b1) * grad
                            pvv[i] = b2 * pvv[i] + (1 - b2) * grad * grad
                            pv[i] -= stepSize * pm[i] / (pvv[i].squareRoot() / rootC2 + eps)
                        }
                    }
                }
            }
        }
        p.value = value
        firstMoment[name] = m
        secondMoment[name] = v
    }

    public var state: [String: Tensor] {
        var s: [String: Tensor] = [:]
        for (name, m) in firstMoment { s["m.\(name)"] = m }
        for (name, v) in secondMoment { s["v.\(name)"] = v }
        for (name, t) in steps { s["step.\(name)"] = Tensor(shape: [1], scalars: [Float(t)]) }
        return s
    }

    public func restore(state: [String: Tensor], for model: Module) throws {
        if let stray = state.keys.first(where: { !($0.hasPrefix("m.") || $0.hasPrefix("v.") || $0.hasPrefix("step.")) }) {
            throw OptimizerError.stateMismatch("'\(stray)' is not Adam state")
        }
        let m = try parameterState(state, prefix: "m", for: model)
        let v = try parameterState(state, prefix: "v", for: model)
        var t: [String: Int] = [:]
        let known = Set(model.trainableParameters.map(\.name))
        for (key, value) in state where key.hasPrefix("step.") {
            let name = String(key.dropFirst(5))
            guard known.contains(name), value.count == 1, let s = value.scalars.first, s.isFinite, s >= 1, s < Float(1 << 24),
                  s == s.rounded() else {
                throw OptimizerError.stateMismatch("'\(key)' is not a step count of a trainable parameter")
            }
            t[name] = Int(s)
        }
        guard Set(m.keys) == Set(v.keys), Set(m.keys) == Set(t.keys) else {
            throw OptimizerError.stateMismatch("Adam's moments and step counts name different parameters")
        }
        if let bad = v.first(where: { $0.value.scalars.contains { $0 < 0 } }) {
            throw OptimizerError.stateMismatch("'v.\(bad.key)' has negative second moments")
        }
        firstMoment = m
        secondMoment = v
        steps = t
    }
}
