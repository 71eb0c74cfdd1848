import Kernels

extension KernelMetrics {
    /// Which eigenpairs a spectral truncation keeps (eigenvalues ordered descending).
    public enum SpectralPart: Sendable, Equatable {
        /// The `count` eigenpairs with the largest eigenvalues (the paper uses 20).
        case top(Int)
        /// The `count` eigenpairs with the smallest eigenvalues (the paper's complement: NC − 20).
        case bottom(Int)

        /// How many eigenpairs are kept.
        public var count: Int {
            switch self {
            case .top(let k), .bottom(let k): return k
            }
        }
    }

    /// The rank-k spectral truncation `V_k diag(λ_k) V_kᵀ` of a kernel, keeping the eigenpairs selected
    /// by `part`. Descriptors (sample and class counts) are kept.
    ///
    /// Only the smaller side of the spectrum is ever solved for: a part holding more than half the
    /// eigenpairs is computed as `K − (the other part)`, equal in exact arithmetic and far cheaper —
    /// `.bottom(n − 20)` costs one top-20 solve (`ssyevr`) and a rank-20 product.
    public static func truncate(_ kernel: KernelMatrix, to part: SpectralPart) throws -> KernelMatrix {
        let n = kernel.n, k = part.count
        guard k >= 0, k <= n else { throw SymmetricEigenError.invalidSelection(count: k, dimension: n) }
        var result = kernel
        if k == n { return result }
        if k == 0 {
            result.values = [Float](repeating: 0, count: n * n)
            return result
        }
        if 2 * k <= n {
            let selection: SymmetricEigen.Selection = {
                switch part {
                case .top: return .largest(k)
                case .bottom: return .smallest(k)
                }
            }()
            result.values = try lowRank(kernel, selection)
        } else {
            let complement: SymmetricEigen.Selection = {
                switch part {
                case .top: return .smallest(n - k)
                case .bottom: return .largest(n - k)
                }
            }()
            let other = try lowRank(kernel, complement)
            for i in 0..<(n * n) { result.values[i] -= other[i] }
        }
        return result
    }

    /// `Σ_{j ∈ selection} λ_j v_j v_jᵀ` as an n × n row-major buffer: one `ssyevr` and one GEMM.
    private static func lowRank(_ kernel: KernelMatrix, _ selection: SymmetricEigen.Selection) throws -> [Float] {
        let eigen = try SymmetricEigen.decompose(kernel.values, dimension: kernel.n, selecting: selection)
        return reconstruct(eigen, count: eigen.count)
    }

    /// `Σ_{j < count} λ_j v_j v_jᵀ` from the first `count` eigenpairs held by `eigen`, computed as
    /// `Wᵀ (Λ W)` with W the `count × n` block of eigenvectors (one GEMM).
    static func reconstruct(_ eigen: SymmetricEigen.Decomposition<Float>, count k: Int) -> [Float] {
        let n = eigen.dimension
        precondition(k <= eigen.count && eigen.vectors.count == eigen.count * n,
                     "reconstruct: needs \(k) eigenpairs with vectors")
        var out = [Float](repeating: 0, count: n * n)
        guard k > 0 else { return out }
        var scaled = Array(eigen.vectors[0..<(k * n)])
        for j in 0..<k {
            let lambda = eigen.values[j]
            for i in 0..<n { scaled[j * n + i] *= lambda }
        }
        eigen.vectors.withUnsafeBufferPointer { w in
            scaled.withUnsafeBufferPointer { s in
                out.withUnsafeMutableBufferPointer { c in
                    sgemm(transposeA: true, m: n, n: n, k: k, a: w.baseAddress!, lda: n,
                          b: s.baseAddress!, ldb: n, c: c.baseAddress!, ldc: n)
                }
            }
        }
        return out
    }
}
