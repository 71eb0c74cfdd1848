import Autodiff

/// The infinite-width NTK of the paper's Appendix C network, f(x) = (1/√m) Σ_r a_r relu(w_r·x) with
/// w_r ~ N(0, I) trained and the output signs a_r = ±1 frozen:
///
///     Θ(x, x′) = (x·x′)(π − arccos u) / (2π),  u = x·x′ / (‖x‖‖x′‖),
///
/// the limit of (1/m) Σ_r 1{w_r·x > 0} 1{w_r·x′ > 0} x·x′. No 1/d normalisation (w_r·x, not w_r·x/√d);
/// a zero input has kernel 0. Inputs are batches `[N, features…]`.
public struct TwoLayerFrozenOutputKernel: KernelFunction, DotProductKernel {
    /// The kernel (it has no settings).
    public init() {}

    /// "two-layer ReLU NTK, first layer trained, output layer frozen".
    public var description: String { "two-layer ReLU NTK, first layer trained, output layer frozen" }

    /// Θ(X₁, X₂) for batches `[N, features…]` with the same per-sample shape.
    public func matrix(_ x1: Tensor, _ x2: Tensor) throws -> Float64Matrix { try dotProductMatrix(x1, x2) }

    /// The gradient of Σ_ij G_ij Θ(X₁, X₂)_ij with respect to `x1`.
    public func inputGradient(_ x1: Tensor, _ x2: Tensor, cotangent: Float64Matrix) throws -> Tensor {
        try dotProductInputGradient(x1, x2, cotangent: cotangent)
    }

    /// Θ(x_i, x_i) = ‖x_i‖² / 2.
    public func diagonal(_ x: Tensor) throws -> [Double] { try dotProductDiagonal(x) }

    func inputAffine(features: Int) -> (scale: Double, offset: Double) { (1, 0) }

    func value(c: Double, q1: Double, q2: Double) -> Double {
        c * ReLUArcCosine.values(c: c, q1: q1, q2: q2).j0
    }

    func partials(c: Double, q1: Double, q2: Double) -> (dc: Double, dq1: Double) {
        let r = ReLUArcCosine(c: c, q1: q1, q2: q2)
        return (r.j0 + c * r.j0DC, c * r.j0DQ)
    }
}
