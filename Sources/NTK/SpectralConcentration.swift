import Kernels

extension KernelMetrics {
    /// A kernel's spectral summary: magnitude, leading eigenvalues and top-k concentration.
    public struct SpectralSummary: Sendable, Equatable {
        /// `‖K‖` (Frobenius).
        public var magnitude: Double
        /// The largest eigenvalues, descending.
        public var topEigenvalues: [Double]
        /// The ranks k at which concentration was measured.
        public var ranks: [Int]
        /// `mass_k` for each entry of ``ranks``, in the same order.
        public var concentration: [Double]

        /// `mass_k` for rank `k`, if it was measured.
        public func mass(at k: Int) -> Double? {
            ranks.firstIndex(of: k).map { concentration[$0] }
        }
    }

    /// The `count` largest eigenvalues of a kernel, descending (`ssyevr`, no eigenvectors; `count` is
    /// clamped to n).
    public static func topEigenvalues(_ kernel: KernelMatrix, count: Int) throws -> [Double] {
        let k = min(max(count, 0), kernel.n)
        return try SymmetricEigen.eigenvalues(kernel.values, dimension: kernel.n, selecting: .largest(k))
            .map { Double($0) }
    }

    /// Concentration on the top-k eigenspace (PAPER.md Section 5):
    /// `mass_k = Σ_{i ≤ k} λ_i² / ‖K‖²`, with eigenvalues descending and `‖K‖² = Σ_i λ_i²`.
    /// Only the `max(ranks)` largest eigenvalues are computed. Ranks past n give 1.
    public static func concentration(_ kernel: KernelMatrix, ranks: [Int] = [10, 20]) throws -> [Double] {
        try spectralSummary(kernel, topCount: 0, ranks: ranks).concentration
    }

    /// `mass_k` from already known leading eigenvalues (descending) and `‖K‖²`. A rank larger than the
    /// number of eigenvalues given uses all of them. NaN when `‖K‖ = 0`.
    public static func concentration(topEigenvalues: [Double], squaredFrobeniusNorm: Double,
                                     ranks: [Int] = [10, 20]) -> [Double] {
        ranks.map { k in
            let head = topEigenvalues.prefix(max(0, k)).reduce(0.0) { $0 + $1 * $1 }
            return squaredFrobeniusNorm > 0 ? head / squaredFrobeniusNorm : .nan
        }
    }

    /// Magnitude, the `topCount` largest eigenvalues and the concentration at `ranks`, from one
    /// partial eigensolve of `max(topCount, max(ranks))` eigenvalues.
    public static func spectralSummary(_ kernel: KernelMatrix, topCount: Int = 20,
                                       ranks: [Int] = [10, 20]) throws -> SpectralSummary {
        let needed = max(topCount, ranks.max() ?? 0)
        let eigenvalues = try topEigenvalues(kernel, count: needed)
        let squaredNorm = kernel.squaredFrobeniusNorm
        return SpectralSummary(
            magnitude: squaredNorm.squareRoot(),
            topEigenvalues: Array(eigenvalues.prefix(max(0, topCount))),
            ranks: ranks,
            concentration: concentration(topEigenvalues: eigenvalues, squaredFrobeniusNorm: squaredNorm, ranks: ranks))
    }
}
