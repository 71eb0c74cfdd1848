import Autodiff
import Kernels

/// A kernel that sees two inputs only through c = a·(x·x′) + b, q₁ = a‖x‖² + b and q₂ = a‖x′‖² + b —
/// every fully connected infinite-width kernel. Its matrix is one Float64 GEMM for the dot products and
/// a function per pair; its input gradient, with per-pair partials A_ij = G_ij ∂κ/∂c and
/// B_ij = G_ij ∂κ/∂q₁, is a·(A X₂ + 2 diag(Σ_j B_ij) X₁): one more GEMM.
protocol DotProductKernel: KernelFunction {
    /// (a, b) for inputs of `features` values per sample.
    func inputAffine(features: Int) -> (scale: Double, offset: Double)
    /// κ(c, q₁, q₂).
    func value(c: Double, q1: Double, q2: Double) -> Double
    /// ∂κ/∂c and ∂κ/∂q₁.
    func partials(c: Double, q1: Double, q2: Double) -> (dc: Double, dq1: Double)
}

extension DotProductKernel {
    /// Θ(X₁, X₂).
    func dotProductMatrix(_ x1: Tensor, _ x2: Tensor) throws -> Float64Matrix {
        let (a, b) = try KernelInputs.pair(x1, x2)
        let (scale, offset) = inputAffine(features: a.features)
        var out = gram(a, b)
        let q1 = squaredNorms(a, scale: scale, offset: offset), q2 = squaredNorms(b, scale: scale, offset: offset)
        let n2 = b.count
        out.values.withUnsafeMutableBufferPointer { k in
            let k = k.baseAddress
            parallelChunks(a.count, minimumPerChunk: max(1, 8192 / max(n2, 1))) { rows in
                for i in rows {
                    for j in 0..<n2 {
                        k![i * n2 + j] = value(c: scale * k![i * n2 + j] + offset, q1: q1[i], q2: q2[j])
                    }
                }
            }
        }
        return out
    }

    /// The gradient of Σ_ij G_ij Θ(X₁, X₂)_ij with respect to X₁.
    func dotProductInputGradient(_ x1: Tensor, _ x2: Tensor, cotangent: Float64Matrix) throws -> Tensor {
        let (a, b) = try KernelInputs.pair(x1, x2)
        try KernelInputs.checkMatrix(cotangent, "cotangent", rows: a.count, columns: b.count)
        let (scale, offset) = inputAffine(features: a.features)
        var weights = gram(a, b)
        let q1 = squaredNorms(a, scale: scale, offset: offset), q2 = squaredNorms(b, scale: scale, offset: offset)
        let n2 = b.count, d = a.features
        var diagonalWeights = [Double](repeating: 0, count: a.count)
        weights.values.withUnsafeMutableBufferPointer { w in
            diagonalWeights.withUnsafeMutableBufferPointer { dw in
                let w = w.baseAddress, dw = dw.baseAddress
                parallelChunks(a.count, minimumPerChunk: max(1, 8192 / max(n2, 1))) { rows in
                    for i in rows {
                        var sum = 0.0
                        for j in 0..<n2 {
                            let g = cotangent.values[i * n2 + j]
                            let p = partials(c: scale * w![i * n2 + j] + offset, q1: q1[i], q2: q2[j])
                            w![i * n2 + j] = g * p.dc
                            sum += g * p.dq1
                        }
                        dw![i] = sum
                    }
                }
            }
        }
        var gradient = [Double](repeating: 0, count: a.count * d)
        weights.values.withUnsafeBufferPointer { w in
            b.values.withUnsafeBufferPointer { x2 in
                gradient.withUnsafeMutableBufferPointer { out in
                    Float64GEMM.multiply(m: a.count, n: d, k: n2, a: w.baseAddress, b: x2.baseAddress,
                                         transposeB: false, c: out.baseAddress)
                }
            }
        }
        for i in 0..<a.count {
            let twice = 2 * diagonalWeights[i]
            for k in (i * d)..<((i + 1) * d) { gradient[k] = scale * (gradient[k] + twice * a.values[k]) }
        }
        return KernelInputs.tensor(gradient, shape: a.shape)
    }

    /// Θ(x_i, x_i), from the squared norms alone.
    func dotProductDiagonal(_ x: Tensor) throws -> [Double] {
        let rows = try KernelInputs.rows(x, "x")
        let (scale, offset) = inputAffine(features: rows.features)
        return squaredNorms(rows, scale: scale, offset: offset).map { value(c: $0, q1: $0, q2: $0) }
    }

    /// The `N₁ × N₂` dot products x_i · x′_j.
    private func gram(_ a: KernelInputs.Rows, _ b: KernelInputs.Rows) -> Float64Matrix {
        var out = Float64Matrix(rows: a.count, columns: b.count)
        a.values.withUnsafeBufferPointer { pa in
            b.values.withUnsafeBufferPointer { pb in
                out.values.withUnsafeMutableBufferPointer { c in
                    Float64GEMM.multiply(m: a.count, n: b.count, k: a.features, a: pa.baseAddress,
                                         b: pb.baseAddress, transposeB: true, c: c.baseAddress)
                }
            }
        }
        return out
    }

    /// scale·‖x_i‖² + offset for every row.
    private func squaredNorms(_ rows: KernelInputs.Rows, scale: Double, offset: Double) -> [Double] {
        (0..<rows.count).map { i in
            var sum = 0.0
            for k in (i * rows.features)..<((i + 1) * rows.features) { sum += rows.values[k] * rows.values[k] }
            return scale * sum + offset
        }
    }
}
