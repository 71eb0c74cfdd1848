import Foundation
import Kernels

extension Primitive {
    /// Mean binary cross-entropy on logits.
    public static let binaryCrossEntropyWithLogits = Primitive("binaryCrossEntropyWithLogits")
}

/// Mean binary cross-entropy of logits z against targets t in [0, 1] (same shape), computed stably as
/// max(z, 0) − z·t + log(1 + e^(−|z|)) (PyTorch's `BCEWithLogitsLoss`).
public func binaryCrossEntropyWithLogits(logits: Tensor, targets: Tensor) throws -> Tensor {
    try requireSameShape("binaryCrossEntropyWithLogits", logits, targets)
    let z = logits.scalars, t = targets.scalars
    if let bad = t.first(where: { !($0 >= 0 && $0 <= 1) }) {
        throw ShapeError("binaryCrossEntropyWithLogits", "target \(bad) is outside [0, 1]", shapes: [logits.shape, targets.shape])
    }
    let count = Double(max(z.count, 1))
    var total = 0.0
    var slope = [Float](repeating: 0, count: z.count)  // ∂loss/∂z = (σ(z) − t)/count
    for i in 0..<z.count {
        let zi = Double(z[i]), ti = Double(t[i])
        total += max(zi, 0) - zi * ti + log1p(exp(-abs(zi)))
        slope[i] = Float((1 / (1 + exp(-zi)) - ti) / count)
    }
    let slopeTensor = Tensor(shape: logits.shape, scalars: slope)
    return Tensor.record(Tensor(Float(total / count)), primitive: .binaryCrossEntropyWithLogits, inputs: [logits],
                         pullback: { g, _ in [slopeTensor.scaled(by: g.scalar).detached] },
                         tangent: { t in
                             guard let t = t[0] else { return nil }
                             // d loss = ⟨t, (σ(z) − targets) / count⟩, the slope recomputed from
                             // differentiable ops when reverse mode must differentiate it in z.
                             let slope = logits.requiresGradient
                                 ? try (logits.primal.sigmoid() - targets.detached) / Float(count) : slopeTensor
                             return try (t * slope).sum() })
}
