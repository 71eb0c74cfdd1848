import Autodiff
import Kernels

/// The infinite-width NTK or NNGP of a convolutional ReLU network in the NTK parameterisation:
/// `depth` (1 or 2) layers Conv(·, 3×3, stride 1, SAME, W_std, b_std) → ReLU, then Flatten →
/// Dense(1, W_std, b_std) — neural-tangents'
/// `stax.serial(*[Conv(n, (3, 3), padding='SAME', W_std, b_std), Relu()] * depth, Flatten(), Dense(1, W_std, b_std))`.
///
/// Inputs are NCHW image batches `[N, channels, height, width]`, Tangent's image layout
/// (neural-tangents takes NHWC: transpose with `(0, 2, 3, 1)` to compare). The recursion is in
/// `ConvolutionalRecursion`; it costs O(depth · height · width) per pair of images.
public struct ConvolutionalReLUKernel: KernelFunction {
    /// The depths offered: 1–2 convolutional layers.
    public static let depths: ClosedRange<Int> = 1...2
    /// The number of Conv → ReLU layers.
    public let depth: Int
    /// W_std: filters are W_std/√(9·in-channels) times N(0, 1) (NTK parameterisation).
    public let weightStd: Double
    /// b_std: biases are b_std times N(0, 1).
    public let biasStd: Double
    /// NTK or NNGP.
    public let output: AnalyticKernelOutput

    static let layout = "NCHW images [N, channels, height, width]"

    /// The kernel of `depth` convolutional layers (1–2) with the given weight and bias standard deviations.
    /// - Throws: ``KernelMachineError/depthOutOfRange(kernel:depth:allowed:)``, or
    ///   ``KernelMachineError/invalidSetting(kernel:name:value:requirement:)`` for a non-positive or
    ///   non-finite W_std or a negative or non-finite b_std.
    public init(depth: Int, weightStd: Double, biasStd: Double, output: AnalyticKernelOutput = .ntk) throws {
        try KernelSettings.check(kernel: "convolutional ReLU", depth: depth, allowed: Self.depths,
                                 weightStd: weightStd, biasStd: biasStd)
        self.depth = depth
        self.weightStd = weightStd
        self.biasStd = biasStd
        self.output = output
    }

    /// For example "convolutional ReLU NTK (3×3 SAME, flatten readout), depth 2, W_std 1.41421, b_std 0.1".
    public var description: String {
        "convolutional ReLU \(output.rawValue.uppercased()) (3×3 SAME, flatten readout), depth \(depth), "
            + KernelSettings.describe(weightStd: weightStd, biasStd: biasStd)
    }

    /// Θ(X₁, X₂) for NCHW batches with the same channels, height and width.
    public func matrix(_ x1: Tensor, _ x2: Tensor) throws -> Float64Matrix {
        let (a, b, recursion) = try prepare(x1, x2)
        let qa = variances(a, recursion), qb = variances(b, recursion)
        let n2 = b.count, per = a.features, lp = depth * recursion.positions
        var out = Float64Matrix(rows: a.count, columns: n2)
        out.values.withUnsafeMutableBufferPointer { k in
            a.values.withUnsafeBufferPointer { av in
                b.values.withUnsafeBufferPointer { bv in
                    qa.withUnsafeBufferPointer { qa in
                        qb.withUnsafeBufferPointer { qb in
                            let k = k.baseAddress, av = av.baseAddress!, bv = bv.baseAddress!
                            let qa = qa.baseAddress!, qb = qb.baseAddress!
                            parallelChunks(a.count, minimumPerChunk: max(1, 64 / max(n2, 1))) { rows in
                                let s = ConvolutionalRecursion.Scratch(depth: depth, positions: recursion.positions)
                                for i in rows {
                                    for j in 0..<n2 {
                                        recursion.inputCovariance(av + i * per, bv + j * per, into: s.e)
                                        k![i * n2 + j] = recursion.forward(qa: qa + i * lp, qb: qb + j * lp, scratch: s)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// The gradient of Σ_ij G_ij Θ(X₁, X₂)_ij with respect to `x1` (NCHW, like `x1`): a reverse pass
    /// through each pair's recursion.
    public func inputGradient(_ x1: Tensor, _ x2: Tensor, cotangent: Float64Matrix) throws -> Tensor {
        let (a, b, recursion) = try prepare(x1, x2)
        try KernelInputs.checkMatrix(cotangent, "cotangent", rows: a.count, columns: b.count)
        let qa = variances(a, recursion), qb = variances(b, recursion)
        let n2 = b.count, per = a.features, p = recursion.positions, lp = depth * p
        let channels = recursion.channels, inverse = 1 / Double(channels)
        var gradient = [Double](repeating: 0, count: a.count * per)
        gradient.withUnsafeMutableBufferPointer { g in
            let g = g.baseAddress
            a.values.withUnsafeBufferPointer { av in
                b.values.withUnsafeBufferPointer { bv in
                    qa.withUnsafeBufferPointer { qa in
                        qb.withUnsafeBufferPointer { qb in
                            let av = av.baseAddress!, bv = bv.baseAddress!, qa = qa.baseAddress!, qb = qb.baseAddress!
                            parallelChunks(a.count, minimumPerChunk: max(1, 32 / max(n2, 1))) { rows in
                                let s = ConvolutionalRecursion.Scratch(depth: depth, positions: p)
                                let qaBar = UnsafeMutablePointer<Double>.allocate(capacity: lp + p)
                                defer { qaBar.deallocate() }
                                let inputVarianceBar = qaBar + lp
                                for i in rows {
                                    let gi = g! + i * per, xi = av + i * per
                                    qaBar.initialize(repeating: 0, count: lp)
                                    for j in 0..<n2 {
                                        let seed = cotangent.values[i * n2 + j]
                                        if seed == 0 { continue }
                                        let xj = bv + j * per
                                        recursion.inputCovariance(xi, xj, into: s.e)
                                        _ = recursion.forward(qa: qa + i * lp, qb: qb + j * lp, scratch: s)
                                        recursion.reverse(seed: seed, qa: qa + i * lp, qb: qb + j * lp, scratch: s,
                                                          qaAdjoint: qaBar)
                                        // ∂c⁰_p/∂x_i[ch, p] = x_j[ch, p] / channels.
                                        for ch in 0..<channels {
                                            let out = gi + ch * p, xc = xj + ch * p
                                            for k in 0..<p { out[k] += s.e[k] * inverse * xc[k] }
                                        }
                                    }
                                    // ∂(x_p·x_p / channels)/∂x_i[ch, p] = 2 x_i[ch, p] / channels.
                                    recursion.variancesReverse(qaBar, into: inputVarianceBar, scratch: s)
                                    for ch in 0..<channels {
                                        let out = gi + ch * p, xc = xi + ch * p
                                        for k in 0..<p { out[k] += 2 * inverse * inputVarianceBar[k] * xc[k] }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return KernelInputs.tensor(gradient, shape: a.shape)
    }

    /// Θ(x_i, x_i) for every image of an NCHW batch.
    public func diagonal(_ x: Tensor) throws -> [Double] {
        let a = try KernelInputs.rows(x, "x", minimumRank: 4, expected: Self.layout)
        let recursion = try self.recursion(a.shape, argument: "x")
        let q = variances(a, recursion), lp = depth * recursion.positions
        let s = ConvolutionalRecursion.Scratch(depth: depth, positions: recursion.positions)
        return a.values.withUnsafeBufferPointer { av in
            q.withUnsafeBufferPointer { q in
                (0..<a.count).map { i in
                    let xi = av.baseAddress! + i * a.features, qi = q.baseAddress! + i * lp
                    recursion.inputCovariance(xi, xi, into: s.e)
                    return recursion.forward(qa: qi, qb: qi, scratch: s)
                }
            }
        }
    }

    /// Both arguments checked (NCHW, same per-image shape, finite) and the recursion for their shape.
    private func prepare(_ x1: Tensor, _ x2: Tensor) throws -> (KernelInputs.Rows, KernelInputs.Rows, ConvolutionalRecursion) {
        let (a, b) = try KernelInputs.pair(x1, x2, minimumRank: 4, expected: Self.layout)
        let recursion = try self.recursion(a.shape, argument: "X₁")
        return (a, b, recursion)
    }

    private func recursion(_ shape: [Int], argument: String) throws -> ConvolutionalRecursion {
        guard shape.count == 4 else {
            throw KernelMachineError.inputLayout(argument: argument, shape: shape, expected: Self.layout)
        }
        return ConvolutionalRecursion(channels: shape[1], height: shape[2], width: shape[3], depth: depth,
                                      w2: weightStd * weightStd, b2: biasStd * biasStd, ntk: output == .ntk)
    }

    /// The variances qˡ of every image, `count × depth × P`.
    private func variances(_ rows: KernelInputs.Rows, _ recursion: ConvolutionalRecursion) -> [Double] {
        let s = ConvolutionalRecursion.Scratch(depth: depth, positions: recursion.positions)
        var out = [Double]()
        out.reserveCapacity(rows.count * depth * recursion.positions)
        rows.values.withUnsafeBufferPointer { v in
            for i in 0..<rows.count { out += recursion.variances(v.baseAddress! + i * rows.features, scratch: s) }
        }
        return out
    }
}
