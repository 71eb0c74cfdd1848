import Kernels

extension KernelMetrics {
    /// A kernel's spectral summary: magnitude, trace, leading eigenvalues and top-k concentration,
    /// both as the paper measures it (squared eigenvalues) and by eigenvalues.
    public struct SpectralSummary: Sendable, Equatable {
        /// `‖K‖` (Frobenius).
        public var magnitude: Double
        /// `trace K`, the sum of all eigenvalues.
        public var trace: Double
        /// The largest eigenvalues, descending.
        public var topEigenvalues: [Double]
        /// The ranks k at which concentration was measured.
        public var ranks: [Int]
        /// `mass_k = Σ_{i≤k} λ_i² / ‖K‖²` (the paper's concentration) for each entry of ``ranks``, in order.
        public var concentration: [Double]
        /// `Σ_{i≤k} λ_i / trace K` for each entry of ``ranks``, in order (see
        /// ``KernelMetrics/eigenvalueMass(topEigenvalues:trace:ranks:)``).
        public var eigenvalueMass: [Double]

        /// `mass_k` for rank `k`, if it was measured.
        public func mass(at k: Int) -> Double? {
            ranks.firstIndex(of: k).map { concentration[$0] }
        }

        /// The eigenvalue-based mass for rank `k`, if it was measured.
        public func eigenvalueMass(at k: Int) -> Double? {
            ranks.firstIndex(of: k).map { eigenvalueMass[$0] }
        }
    }

    /// The `count` largest eigenvalues of a kernel, descending (`count` is clamped to n).
    ///
    /// A few eigenvalues of a large kernel (``usesBlockKrylov(count:dimension:)``) come from a randomised
    /// block Krylov search on GEMMs (`SymmetricEigen.blockKrylov`, relative residual 10⁻⁸, fixed seed),
    /// a fraction of the cost of LAPACK's tridiagonalisation and independent of the thread count;
    /// otherwise, or should the search not converge, from LAPACK's `ssyevr` (no eigenvectors).
    public static func topEigenvalues(_ kernel: KernelMatrix, count: Int) throws -> [Double] {
        let k = min(max(count, 0), kernel.n)
        if usesBlockKrylov(count: k, dimension: kernel.n) {
            if let values = try? blockKrylovEigenvalues(kernel, count: k) { return values }
        }
        return try SymmetricEigen.eigenvalues(kernel.values, dimension: kernel.n, selecting: .largest(k))
            .map { Double($0) }
    }

    /// Whether ``topEigenvalues(_:count:)`` searches by block Krylov: at least one eigenvalue of a kernel
    /// at least 1,024 wide, at most a twentieth of its side.
    public static func usesBlockKrylov(count: Int, dimension n: Int) -> Bool {
        count >= 1 && n >= 1024 && count * 20 <= n
    }

    /// The search's settings: tight enough that the eigenvalues agree with LAPACK's to far better than
    /// 10⁻⁴ relative (an eigenvalue's error is at most its residual, usually near its square).
    static let krylovSettings = BlockKrylovSettings(tolerance: 1e-8, maximumCycles: 30, seed: 0x6b72_796c)

    /// The `count` largest eigenvalues (descending) by block Krylov alone, on the kernel in Float64,
    /// symmetrised (the engine's two triangles may differ by rounding; LAPACK would read one of them).
    /// - Throws: `SymmetricEigenError` when the count is outside 1…n or the search does not converge.
    public static func blockKrylovEigenvalues(_ kernel: KernelMatrix, count: Int) throws -> [Double] {
        let n = kernel.n
        var symmetric = [Double](repeating: 0, count: n * n)
        kernel.values.withUnsafeBufferPointer { a in
            symmetric.withUnsafeMutableBufferPointer { s in
                for i in 0..<n {
                    s[i * n + i] = Double(a[i * n + i])
                    for j in (i + 1)..<n {
                        let mean = (Double(a[i * n + j]) + Double(a[j * n + i])) / 2
                        s[i * n + j] = mean
                        s[j * n + i] = mean
                    }
                }
            }
        }
        return try SymmetricEigen.blockKrylov(largest: count, of: symmetric, dimension: n, settings: krylovSettings)
            .decomposition.values
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

    /// The share of the spectrum's sum held by the top k eigenvalues, `Σ_{i≤k} λ_i / trace K`, from
    /// already known leading eigenvalues (descending) and the trace (`trace K = Σ_i λ_i`). Unlike
    /// ``concentration(topEigenvalues:squaredFrobeniusNorm:ranks:)``, which squares the eigenvalues and so
    /// sits near 1 whenever a few eigenvalues dominate, this is the fraction researchers usually call the
    /// "explained" share of the spectrum. A rank larger than the number of eigenvalues given uses all of
    /// them. NaN unless the trace is positive (a kernel is positive semi-definite).
    public static func eigenvalueMass(topEigenvalues: [Double], trace: Double, ranks: [Int] = [10, 20]) -> [Double] {
        ranks.map { k in
            trace > 0 ? topEigenvalues.prefix(max(0, k)).reduce(0, +) / trace : .nan
        }
    }

    /// Magnitude, trace, the `topCount` largest eigenvalues and both concentrations at `ranks`, from one
    /// partial eigensolve of `max(topCount, max(ranks))` eigenvalues.
    public static func spectralSummary(_ kernel: KernelMatrix, topCount: Int = 20,
                                       ranks: [Int] = [10, 20]) throws -> SpectralSummary {
        let needed = max(topCount, ranks.max() ?? 0)
        return summary(eigenvalues: try topEigenvalues(kernel, count: needed), squaredFrobeniusNorm: kernel.squaredFrobeniusNorm,
                       trace: kernel.trace, topCount: topCount, ranks: ranks)
    }

    /// The summary of a kernel whose leading eigenvalues (descending), `‖K‖²` and trace are known.
    static func summary(eigenvalues: [Double], squaredFrobeniusNorm: Double, trace: Double,
                        topCount: Int, ranks: [Int]) -> SpectralSummary {
        SpectralSummary(
            magnitude: squaredFrobeniusNorm.squareRoot(),
            trace: trace,
            topEigenvalues: Array(eigenvalues.prefix(max(0, topCount))),
            ranks: ranks,
            concentration: concentration(topEigenvalues: eigenvalues, squaredFrobeniusNorm: squaredFrobeniusNorm, ranks: ranks),
            eigenvalueMass: eigenvalueMass(topEigenvalues: eigenvalues, trace: trace, ranks: ranks))
    }
}
