import Autodiff

/// Stochastic gradient descent with optional momentum, Nesterov momentum and weight decay, in
/// PyTorch's convention: g ← g + λθ; v ← μv + g; θ ← θ − η·(Nesterov ? g + μv : v) (with μ = 0 simply
/// θ ← θ − η·g). The paper uses η = 0.01, μ = 0, λ = 0.
public final class SGD: Optimizer {
    public var learningRate: Float
    /// μ.
    public let momentum: Float
    /// λ (L2 penalty added to the gradient).
    public let weightDecay: Float
    /// Nesterov momentum (needs μ > 0).
    public let nesterov: Bool
    /// Momentum buffers by parameter name (empty when momentum is 0). Saved in checkpoints.
    public var velocity: [String: Tensor] = [:]

    /// Throws for a learning rate, momentum or weight decay that is negative or not finite, a momentum
    /// of 1 or more, or Nesterov without momentum.
    public init(learningRate: Float = 0.01, momentum: Float = 0, weightDecay: Float = 0, nesterov: Bool = false) throws {
        try requireSetting("learning rate", learningRate, in: 0...Float.greatestFiniteMagnitude, "finite and not negative")
        try requireSetting("momentum", momentum, in: 0...0.999_999, "in [0, 1)")
        try requireSetting("weight decay", weightDecay, in: 0...Float.greatestFiniteMagnitude, "finite and not negative")
        if nesterov && momentum == 0 {
            throw OptimizerError.invalidSetting(name: "momentum", value: 0, requirement: "positive with Nesterov momentum")
        }
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.nesterov = nesterov
    }

    public func applySingle(name: String, parameter p: Parameter, gradient g: Tensor) throws {
        let n = g.count, lr = learningRate, wd = weightDecay, mu = momentum, nesterov = self.nesterov
        var value = p.value.detached
        p.value = Tensor.zeros([])  // drop the parameter's reference so the update is in place
        g.withUnsafePointer { pg in
            if mu == 0 {
                value.withUnsafeMutablePointer { pv in
                    if wd == 0 { for i in 0..<n { pv[i] -= lr * pg[i] } }
                    else { for i in 0..<n { pv[i] -= lr * (pg[i] + wd * pv[i]) } }
                }
            } else {
                var v = velocity[name] ?? Tensor.zeros(g.shape)
                velocity[name] = nil
                value.withUnsafeMutablePointer { pv in
                    v.withUnsafeMutablePointer { vv in
                        for i in 0..<n {
                            let d = pg[i] + wd * pv[i]
                            vv[i] = mu * vv[i] + d
                            pv[i] -= lr * (nesterov ? d + mu * vv[i] : vv[i])
                        }
                    }
                }
                velocity[name] = v
            }
        }
        p.value = value
    }

    public var state: [String: Tensor] {
        Dictionary(uniqueKeysWithValues: velocity.map { ("velocity.\($0.key)", $0.value) })
    }

    public func restore(state: [String: Tensor], for model: Module) throws {
        if let stray = state.keys.first(where: { !$0.hasPrefix("velocity.") }) {
            throw OptimizerError.stateMismatch("'\(stray)' is not SGD state")
        }
        if momentum == 0, !state.isEmpty { throw OptimizerError.stateMismatch("momentum buffers saved for SGD without momentum") }
        velocity = try parameterState(state, prefix: "velocity", for: model)
    }
}
