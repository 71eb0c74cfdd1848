import Kernels

extension KernelMetrics {
    /// A kernel's leading eigenpairs, solved once and reused for every spectral metric the paper
    /// tracks per epoch: the top eigenvalues, top-k concentration, and both truncations
    /// `.top(k)` and `.bottom(n − k)` for any `k` up to ``count``.
    ///
    /// At the paper's size (n = NC = 3000) one solve costs a few seconds; computing the summary and
    /// the two truncations separately would pay for three.
    public struct TopEigenspace: Sendable {
        /// The kernel the eigenpairs belong to (kept for `.bottom` truncations, which are `K − top`).
        public let kernel: KernelMatrix
        /// The leading eigenpairs, eigenvalues descending, eigenvectors as rows.
        public let eigenpairs: SymmetricEigen.Decomposition<Float>
        /// `‖K‖²`, accumulated in Double.
        public let squaredFrobeniusNorm: Double

        /// How many leading eigenpairs are held.
        public var count: Int { eigenpairs.count }

        /// The leading eigenvalues as Double, descending.
        public var eigenvalues: [Double] { eigenpairs.values.map { Double($0) } }

        /// Magnitude, trace, the `topCount` largest eigenvalues and both concentrations at `ranks` (ranks past
        /// ``count`` use all held eigenvalues, so ask for enough).
        public func summary(topCount: Int = 20, ranks: [Int] = [10, 20]) -> SpectralSummary {
            KernelMetrics.summary(eigenvalues: eigenvalues, squaredFrobeniusNorm: squaredFrobeniusNorm, trace: kernel.trace,
                                  topCount: topCount, ranks: ranks)
        }

        /// The truncation `.top(k)` for `k ≤ count`, or `.bottom(n − k)` (the complement of the top k)
        /// for `k ≤ count`, as `K − top(k)`. Nil for any other part (use ``KernelMetrics/truncate(_:to:)``).
        public func truncation(_ part: SpectralPart) -> KernelMatrix? {
            let n = kernel.n
            var result = kernel
            switch part {
            case .top(let k) where k >= 0 && k <= count:
                result.values = KernelMetrics.reconstruct(eigenpairs, count: k)
            case .bottom(let m) where m <= n && n - m <= count:
                let top = KernelMetrics.reconstruct(eigenpairs, count: n - m)
                for i in 0..<(n * n) { result.values[i] -= top[i] }
            default:
                return nil
            }
            return result
        }
    }

    /// Solves once for the `count` leading eigenpairs of `kernel` (`ssyevr`, clamped to n).
    public static func topEigenspace(_ kernel: KernelMatrix, count: Int = 20) throws -> TopEigenspace {
        let k = min(max(count, 0), kernel.n)
        let eigen = try SymmetricEigen.decompose(kernel.values, dimension: kernel.n, selecting: .largest(k))
        return TopEigenspace(kernel: kernel, eigenpairs: eigen, squaredFrobeniusNorm: kernel.squaredFrobeniusNorm)
    }
}
