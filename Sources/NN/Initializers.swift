import Autodiff
import Kernels

/// Weight initialisers. Each draws from an explicit generator, so a seed fixes the model.
public enum Initializers {
    /// The standard deviation of a N(0, 1) truncated to [−2, 2]; dividing by it restores unit variance.
    public static let truncatedNormalStd = 0.87962566103423978

    /// LeCun-normal as in Flax: a standard normal truncated to [−2, 2], scaled to std √(1/fanIn).
    public static func lecunNormalTruncated(_ shape: [Int], fanIn: Int, rng: inout Xoshiro256) -> Tensor {
        let scale = (1.0 / Double(fanIn)).squareRoot() / truncatedNormalStd
        let n = shape.reduce(1, *)
        var values = [Float](repeating: 0, count: n)
        for i in 0..<n { values[i] = Float(rng.nextTruncatedNormal() * scale) }
        return Tensor(shape: shape, scalars: values)
    }

    /// Independent N(0, std²) entries.
    public static func normal(_ shape: [Int], std: Double = 1, rng: inout Xoshiro256) -> Tensor {
        let n = shape.reduce(1, *)
        var values = [Float](repeating: 0, count: n)
        for i in 0..<n { values[i] = Float(rng.nextNormal() * std) }
        return Tensor(shape: shape, scalars: values)
    }

    /// Independent uniformly random signs (±1).
    public static func randomSigns(_ shape: [Int], rng: inout Xoshiro256) -> Tensor {
        let n = shape.reduce(1, *)
        var values = [Float](repeating: 0, count: n)
        for i in 0..<n { values[i] = (rng.next() & 1) == 0 ? -1 : 1 }
        return Tensor(shape: shape, scalars: values)
    }
}
