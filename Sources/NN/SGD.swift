import Autodiff

/// Stochastic gradient descent with optional momentum and weight decay (PyTorch's convention:
/// v ← μ·v + (g + λ·θ), θ ← θ − η·v; with μ = 0 simply θ ← θ − η·(g + λ·θ)).
/// The paper uses η = 0.01, μ = 0, λ = 0.
public final class SGD {
    public var learningRate: Float
    public let momentum: Float
    public let weightDecay: Float
    /// Momentum buffers by parameter name (empty when momentum is 0). Saved in checkpoints.
    public var velocity: [String: Tensor] = [:]

    public init(learningRate: Float = 0.01, momentum: Float = 0, weightDecay: Float = 0) {
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
    }

    /// Applies one update to every trainable parameter of `model` that has a gradient.
    public func update(_ model: Module, gradients: [String: Tensor]) {
        for (name, p) in model.trainableParameters {
            guard let g = gradients[name] else { continue }
            precondition(g.shape == p.value.shape, "gradient for \(name) has shape \(g.shape)")
            applySingle(name: name, parameter: p, gradient: g)
        }
    }

    /// The per-parameter rule.
    func applySingle(name: String, parameter p: Parameter, gradient g: Tensor) {
        let n = g.count, lr = learningRate, wd = weightDecay, mu = momentum
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
                            vv[i] = mu * vv[i] + (pg[i] + wd * pv[i])
                            pv[i] -= lr * vv[i]
                        }
                    }
                }
                velocity[name] = v
            }
        }
        p.value = value
    }
}
