import Autodiff

/// The infinite-width NTK or NNGP of a fully connected ReLU network in the NTK parameterisation:
/// `depth` hidden layers Dense(·, W_std, b_std) → ReLU, then a readout Dense(1, W_std, b_std) —
/// neural-tangents' `stax.serial(*[Dense(n, W_std, b_std), Relu()] * depth, Dense(1, W_std, b_std))`.
///
/// Inputs are batches `[N, features…]`, flattened (the order of the features does not matter as long
/// as both arguments share it). With d features, the recursion (Σ the NNGP, Θ the NTK, q the variances):
///
///     Σ₀ = W²·x·x′/d + b²,  Θ₀ = Σ₀,
///     Σₗ = W²·J₁(Σₗ₋₁) + b²,  Θₗ = Σₗ + W²·J₀(Σₗ₋₁)·Θₗ₋₁,  l = 1…depth,
///
/// with the arc-cosine kernels J₁, J₀ of the ReLU (see the paper's reference notebook). Depth 1 with
/// W_std = √2, b_std = 0.1 is the notebook's kernel, ``notebook``.
public struct FullyConnectedReLUKernel: KernelFunction, DotProductKernel {
    /// The depths offered: 1–5 hidden layers.
    public static let depths: ClosedRange<Int> = 1...5
    /// The number of hidden Dense → ReLU layers.
    public let depth: Int
    /// W_std: weights are W_std/√fan-in times N(0, 1) (NTK parameterisation).
    public let weightStd: Double
    /// b_std: biases are b_std times N(0, 1).
    public let biasStd: Double
    /// NTK or NNGP.
    public let output: AnalyticKernelOutput

    /// The kernel of `depth` hidden layers (1–5) with the given weight and bias standard deviations.
    /// - Throws: ``KernelMachineError/depthOutOfRange(kernel:depth:allowed:)``, or
    ///   ``KernelMachineError/invalidSetting(kernel:name:value:requirement:)`` for a non-positive or
    ///   non-finite W_std or a negative or non-finite b_std.
    public init(depth: Int, weightStd: Double, biasStd: Double, output: AnalyticKernelOutput = .ntk) throws {
        try KernelSettings.check(kernel: "fully connected ReLU", depth: depth, allowed: Self.depths,
                                 weightStd: weightStd, biasStd: biasStd)
        self.depth = depth
        self.weightStd = weightStd
        self.biasStd = biasStd
        self.output = output
    }

    private init(validDepth depth: Int, weightStd: Double, biasStd: Double) {
        self.depth = depth
        self.weightStd = weightStd
        self.biasStd = biasStd
        output = .ntk
    }

    /// The paper's reference-notebook kernel: the NTK of one hidden ReLU layer with W_std² = 2 and
    /// b_std = 0.1, whose closed form is Σ₀ = 2·x·x′/d + 0.01, θ = arctan2(√(qq′ − c²), c),
    /// Θ = (√(qq′ − c²) + 2(π − θ)c)/π + 0.01.
    public static let notebook = FullyConnectedReLUKernel(validDepth: 1, weightStd: 2.0.squareRoot(), biasStd: 0.1)

    /// For example "fully connected ReLU NTK, depth 1, W_std 1.41421, b_std 0.1".
    public var description: String {
        "fully connected ReLU \(output.rawValue.uppercased()), depth \(depth), "
            + KernelSettings.describe(weightStd: weightStd, biasStd: biasStd)
    }

    /// Θ(X₁, X₂) for batches `[N, features…]` with the same per-sample shape.
    public func matrix(_ x1: Tensor, _ x2: Tensor) throws -> Float64Matrix { try dotProductMatrix(x1, x2) }

    /// The gradient of Σ_ij G_ij Θ(X₁, X₂)_ij with respect to `x1`.
    public func inputGradient(_ x1: Tensor, _ x2: Tensor, cotangent: Float64Matrix) throws -> Tensor {
        try dotProductInputGradient(x1, x2, cotangent: cotangent)
    }

    /// Θ(x_i, x_i), from the inputs' norms alone.
    public func diagonal(_ x: Tensor) throws -> [Double] { try dotProductDiagonal(x) }

    func inputAffine(features: Int) -> (scale: Double, offset: Double) {
        (weightStd * weightStd / Double(features), biasStd * biasStd)
    }

    func value(c: Double, q1: Double, q2: Double) -> Double {
        let w2 = weightStd * weightStd, b2 = biasStd * biasStd
        var sigma = c, theta = c, qa = q1, qb = q2
        for _ in 0..<depth {
            let (j1, j0) = ReLUArcCosine.values(c: sigma, q1: qa, q2: qb)
            sigma = w2 * j1 + b2
            theta = sigma + w2 * j0 * theta
            qa = w2 * qa / 2 + b2
            qb = w2 * qb / 2 + b2
        }
        return output == .ntk ? theta : sigma
    }

    /// Forward mode through the recursion with two tangents: d/dc and d/dq₁ (q₁ enters every layer's
    /// variance of the first input, qₗ = W² qₗ₋₁ / 2 + b²).
    func partials(c: Double, q1: Double, q2: Double) -> (dc: Double, dq1: Double) {
        let w2 = weightStd * weightStd, b2 = biasStd * biasStd
        var sigma = c, theta = c, qa = q1, qb = q2
        var sigmaC = 1.0, sigmaQ = 0.0, thetaC = 1.0, thetaQ = 0.0, qaQ = 1.0
        for _ in 0..<depth {
            let r = ReLUArcCosine(c: sigma, q1: qa, q2: qb)
            let j1C = r.j0 * sigmaC, j1Q = r.j0 * sigmaQ + r.j1DQ * qaQ
            let j0C = r.j0DC * sigmaC, j0Q = r.j0DC * sigmaQ + r.j0DQ * qaQ
            thetaC = w2 * (j1C + j0C * theta + r.j0 * thetaC)
            thetaQ = w2 * (j1Q + j0Q * theta + r.j0 * thetaQ)
            sigmaC = w2 * j1C
            sigmaQ = w2 * j1Q
            sigma = w2 * r.j1 + b2
            theta = sigma + w2 * r.j0 * theta
            qa = w2 * qa / 2 + b2
            qb = w2 * qb / 2 + b2
            qaQ *= w2 / 2
        }
        return output == .ntk ? (thetaC, thetaQ) : (sigmaC, sigmaQ)
    }
}
