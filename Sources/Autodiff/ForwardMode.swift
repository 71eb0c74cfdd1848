/// Holds a forward-mode tangent beside a value (a class so that `Tensor` can contain a `Tensor`),
/// or the reason forward mode failed on the way (a primitive without a JVP rule), which every later
/// op carries forward until someone reads the tangent.
final class TangentBox {
    let tangent: Tensor?
    let failure: AutodiffError?
    init(_ tangent: Tensor) { self.tangent = tangent; failure = nil }
    init(failure: AutodiffError) { tangent = nil; self.failure = failure }
}

extension Tensor {
    /// This value paired with a forward-mode tangent: every op applied to the result also computes
    /// the directional derivative along `tangent` (a JVP), keeping the reverse-mode graph of both.
    public func withTangent(_ tangent: Tensor) throws -> Tensor {
        guard tangent.shape == shape else { throw AutodiffError.seedShape(expected: shape, found: tangent.shape) }
        var t = primal
        t.tangentBox = TangentBox(tangent.primal)
        return t
    }

    /// The forward-mode tangent carried by this value (nil: none, i.e. zero). Throws when a primitive
    /// on the way had no JVP rule.
    public var tangent: Tensor? {
        get throws {
            guard let box = tangentBox else { return nil }
            if let failure = box.failure { throw failure }
            return box.tangent
        }
    }
}

/// Forward mode: `f(x)` and the Jacobian–vector product `J_f(x) · v`.
public func jvp(at x: Tensor, tangent v: Tensor, _ f: (Tensor) throws -> Tensor) throws -> (value: Tensor, tangent: Tensor) {
    let y = try f(try x.withTangent(v))
    return (y.primal, try y.tangent ?? Tensor.zeros(y.shape))
}
