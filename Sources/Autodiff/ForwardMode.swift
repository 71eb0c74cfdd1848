/// Holds a forward-mode tangent beside a value (a class so that `Tensor` can contain a `Tensor`).
final class TangentBox {
    let tangent: Tensor
    init(_ tangent: Tensor) { self.tangent = tangent }
}

extension Tensor {
    /// This value paired with a forward-mode tangent: every op applied to the result also computes
    /// the directional derivative along `tangent` (a JVP), keeping the reverse-mode graph of both.
    public func withTangent(_ tangent: Tensor) -> Tensor {
        precondition(tangent.shape == shape, "tangent shape \(tangent.shape) != value shape \(shape)")
        var t = primal
        t.tangentBox = TangentBox(tangent.primal)
        return t
    }

    /// The forward-mode tangent carried by this value, if any.
    public var tangent: Tensor? { tangentBox?.tangent }
}

/// Forward mode: `f(x)` and the Jacobian–vector product `J_f(x) · v`.
public func jvp(at x: Tensor, tangent v: Tensor, _ f: (Tensor) -> Tensor) -> (value: Tensor, tangent: Tensor) {
    let y = f(x.withTangent(v))
    return (y.primal, y.tangent ?? Tensor.zeros(y.shape))
}
