import Autodiff
import Foundation
import Kernels

/// The ℓ2 ball, sample by sample (the first axis is the batch): steps along the gradient normalised
/// to unit ℓ2 norm per sample, projection by rescaling each sample's perturbation onto the ball, and a
/// random start uniform in the ball (a Gaussian direction, radius ε·U^{1/d} for d values per sample).
/// Norms are accumulated in Double.
public struct L2Ball: PerturbationNorm {
    /// The ℓ2 geometry.
    public init() {}

    /// Zero, or uniform in the ball of radius ε (per sample).
    public func start(shape: [Int], epsilon: Float, random: Bool, rng: inout Xoshiro256) -> Tensor {
        guard random, let samples = shape.first, samples > 0 else { return Tensor.zeros(shape) }
        let per = shape.dropFirst().reduce(1, *)
        var values = [Float](repeating: 0, count: samples * per)
        for i in 0..<samples {
            var direction = (0..<per).map { _ in rng.nextNormal() }
            let norm = direction.reduce(0) { $0 + $1 * $1 }.squareRoot()
            let radius = Double(epsilon) * Self.uniformRadiusFraction(dimension: per, rng: &rng)
            let scale = norm > 0 ? radius / norm : 0
            for j in 0..<per {
                direction[j] *= scale
                values[i * per + j] = Float(direction[j])
            }
        }
        return Tensor(shape: shape, scalars: values)
    }

    /// Each sample's gradient divided by its ℓ2 norm (zero where the gradient is zero).
    public func direction(_ gradient: Tensor) -> Tensor {
        rescaled(gradient) { norm in norm > 0 ? 1 / norm : 0 }
    }

    /// Each sample's perturbation scaled down onto the ball when it lies outside.
    public func project(_ delta: Tensor, epsilon: Float) -> Tensor {
        let radius = Double(epsilon)
        return rescaled(delta) { norm in norm > radius ? radius / norm : 1 }
    }

    /// `x` with sample i multiplied by `factor(‖x_i‖₂)`.
    private func rescaled(_ x: Tensor, _ factor: (Double) -> Double) -> Tensor {
        guard let samples = x.shape.first, samples > 0, x.count > 0 else { return x.detached }
        let per = x.count / samples
        var out = Tensor.uninitialized(x.shape)
        x.withUnsafePointer { p in
            out.withUnsafeMutablePointer { o in
                for i in 0..<samples {
                    var sum = 0.0
                    for j in (i * per)..<((i + 1) * per) { sum += Double(p[j]) * Double(p[j]) }
                    let f = Float(factor(sum.squareRoot()))
                    for j in (i * per)..<((i + 1) * per) { o[j] = p[j] * f }
                }
            }
        }
        return out
    }

    /// U^{1/d} for U uniform on (0, 1]: the radius fraction of a point uniform in a d-ball.
    private static func uniformRadiusFraction(dimension: Int, rng: inout Xoshiro256) -> Double {
        let u = 1 - rng.nextUniformDouble()
        return pow(u, 1 / Double(max(dimension, 1)))
    }
}
