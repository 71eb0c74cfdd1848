import Autodiff
import Kernels

/// The norm-specific pieces of a PGD attack: where to start, which way to step, how to project
/// back onto the ε-ball. One loop (`Attacks.pgd`) serves every norm.
public protocol PerturbationNorm: Sendable {
    /// The starting perturbation: zero, or random inside the ε-ball.
    func start(shape: [Int], epsilon: Float, random: Bool, rng: inout Xoshiro256) -> Tensor
    /// The ascent direction from the loss gradient with respect to the perturbation. May throw the
    /// `ShapeError` of an op it uses.
    func direction(_ gradient: Tensor) throws -> Tensor
    /// Projects a perturbation onto the ε-ball. May throw the `ShapeError` of an op it uses.
    func project(_ delta: Tensor, epsilon: Float) throws -> Tensor
}

/// The ℓ∞ ball: sign-gradient steps, elementwise clipping to [−ε, ε], uniform random start.
public struct LInfinity: PerturbationNorm {
    /// The ℓ∞ geometry.
    public init() {}

    public func start(shape: [Int], epsilon: Float, random: Bool, rng: inout Xoshiro256) -> Tensor {
        guard random else { return Tensor.zeros(shape) }
        let n = shape.reduce(1, *)
        var values = [Float](repeating: 0, count: n)
        for i in 0..<n { values[i] = (2 * rng.nextUniformFloat() - 1) * epsilon }
        return Tensor(shape: shape, scalars: values)
    }

    public func direction(_ gradient: Tensor) -> Tensor { gradient.sign() }

    public func project(_ delta: Tensor, epsilon: Float) -> Tensor { delta.clamped(to: -epsilon, epsilon) }
}
