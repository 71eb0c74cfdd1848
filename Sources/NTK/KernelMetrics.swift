import Foundation

/// The kernel-dynamics metrics of PAPER.md, Section 5, on ``KernelMatrix`` values.
///
/// With `‖·‖` the Frobenius norm and `⟨A, B⟩ = Σ A∘B`:
/// - similarity `sim(A, B) = ⟨A, B⟩ / (‖A‖ ‖B‖)` and distance `d(A, B) = 1 − sim(A, B)` (Eq. 12),
///   for a pair or for all pairs of a sequence of kernels (the paper's heatmap);
/// - polar dynamics (Eq. 13), see ``polarDynamics(_:)``;
/// - spectral truncation, concentration (the paper's `Σ_{i≤k} λ_i² / ‖K‖²` and the eigenvalue share
///   `Σ_{i≤k} λ_i / trace K`) and top eigenvalues, see ``truncate(_:to:)`` and
///   ``spectralSummary(_:topCount:ranks:)``;
/// - magnitude `‖K‖`.
///
/// Every inner product and norm accumulates in Double.
public enum KernelMetrics {
    // MARK: Reductions

    /// `Σ a_i b_i` over two equally long Float buffers, accumulated in Double.
    static func dot(_ a: [Float], _ b: [Float]) -> Double {
        precondition(a.count == b.count, "dot: lengths differ (\(a.count) vs \(b.count))")
        return a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
                let count = pa.count, whole = count & ~3
                var i = 0
                while i < whole {
                    s0 += Double(pa[i]) * Double(pb[i])
                    s1 += Double(pa[i + 1]) * Double(pb[i + 1])
                    s2 += Double(pa[i + 2]) * Double(pb[i + 2])
                    s3 += Double(pa[i + 3]) * Double(pb[i + 3])
                    i += 4
                }
                while i < count { s0 += Double(pa[i]) * Double(pb[i]); i += 1 }
                return (s0 + s1) + (s2 + s3)
            }
        }
    }

    /// `Σ (a_i − b_i)²`, with the differences and the sum taken in Double.
    static func squaredDistance(_ a: [Float], _ b: [Float]) -> Double {
        precondition(a.count == b.count, "squaredDistance: lengths differ (\(a.count) vs \(b.count))")
        return a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                var s0 = 0.0, s1 = 0.0
                let count = pa.count, whole = count & ~1
                var i = 0
                while i < whole {
                    let d0 = Double(pa[i]) - Double(pb[i]), d1 = Double(pa[i + 1]) - Double(pb[i + 1])
                    s0 += d0 * d0
                    s1 += d1 * d1
                    i += 2
                }
                if i < count { let d = Double(pa[i]) - Double(pb[i]); s0 += d * d }
                return s0 + s1
            }
        }
    }

    /// Kernels compared by a metric must have the same size (kernels read from files may not).
    private static func checkSameShape(_ a: KernelMatrix, _ b: KernelMatrix) throws {
        guard a.n == b.n else { throw NTKError.kernelSizesDiffer(a.n, b.n) }
    }

    // MARK: Similarity and distance

    /// The Frobenius inner product `⟨A, B⟩ = Σ_ij A_ij B_ij`. Throws when the kernels differ in size.
    public static func innerProduct(_ a: KernelMatrix, _ b: KernelMatrix) throws -> Double {
        try checkSameShape(a, b)
        return dot(a.values, b.values)
    }

    /// The kernel magnitude `‖K‖` (Frobenius norm).
    public static func magnitude(_ k: KernelMatrix) -> Double { k.frobeniusNorm }

    /// `‖A − B‖` (Frobenius), without materialising `A − B`. Throws when the kernels differ in size.
    public static func differenceNorm(_ a: KernelMatrix, _ b: KernelMatrix) throws -> Double {
        try checkSameShape(a, b)
        return squaredDistance(a.values, b.values).squareRoot()
    }

    /// Kernel similarity `sim(A, B) = ⟨A, B⟩ / (‖A‖ ‖B‖)`, the cosine of the angle between A and B
    /// as vectors. NaN when either kernel is zero; throws when the kernels differ in size.
    public static func similarity(_ a: KernelMatrix, _ b: KernelMatrix) throws -> Double {
        try checkSameShape(a, b)
        return similarity(inner: dot(a.values, b.values),
                          squaredNormA: dot(a.values, a.values), squaredNormB: dot(b.values, b.values))
    }

    /// Kernel distance `d(A, B) = 1 − sim(A, B)` (PAPER.md Eq. 12): 0 for kernels equal up to a
    /// positive scale, 1 for orthogonal ones, at most 2.
    public static func distance(_ a: KernelMatrix, _ b: KernelMatrix) throws -> Double {
        try 1 - similarity(a, b)
    }

    static func similarity(inner: Double, squaredNormA: Double, squaredNormB: Double) -> Double {
        let denominator = squaredNormA.squareRoot() * squaredNormB.squareRoot()
        return denominator > 0 ? inner / denominator : .nan
    }

    /// The angle between two kernels in radians, `arccos(sim(A, B))` with the similarity clamped to
    /// [−1, 1] first (rounding can push it just past 1).
    public static func angle(_ a: KernelMatrix, _ b: KernelMatrix) throws -> Double {
        try clampedArccos(similarity(a, b))
    }

    static func clampedArccos(_ x: Double) -> Double {
        x.isNaN ? .nan : acos(min(1, max(-1, x)))
    }

    // MARK: All pairs

    /// The matrix of kernel distances `D[s][t] = d(K_s, K_t)` over a sequence of kernels (for
    /// example one per epoch): symmetric, zero on the diagonal. The paper's distance heatmap. Throws
    /// when the kernels differ in size.
    public static func allPairsDistance(_ kernels: [KernelMatrix]) throws -> [[Double]] {
        try allPairsDistance(count: kernels.count, blockSize: max(1, kernels.count)) { kernels[$0] }
    }

    /// ``allPairsDistance(_:)`` without holding every kernel in memory: `load(t)` is called for the
    /// kernel at position `t` whenever it is needed.
    ///
    /// The kernels are visited in row blocks of `blockSize`: a block is loaded and kept, then each later
    /// kernel is loaded once and compared with the whole block. At most `blockSize + 1` kernels are
    /// alive at once and each kernel is loaded at most `⌈count / blockSize⌉` times. Errors thrown by
    /// `load` propagate; kernels of different sizes are an error.
    public static func allPairsDistance(count: Int, blockSize: Int = 8,
                                        load: (Int) throws -> KernelMatrix) throws -> [[Double]] {
        precondition(count >= 0 && blockSize >= 1, "allPairsDistance: need count ≥ 0 and blockSize ≥ 1")
        // Gram matrix of Frobenius inner products; distances follow from it at the end.
        var gram = [[Double]](repeating: [Double](repeating: 0, count: count), count: count)
        var blockStart = 0
        while blockStart < count {
            let blockEnd = min(count, blockStart + blockSize)
            let block = try (blockStart..<blockEnd).map { try load($0) }
            for p in 0..<block.count {
                for q in p..<block.count {
                    let g = try innerProduct(block[p], block[q])
                    gram[blockStart + p][blockStart + q] = g
                    gram[blockStart + q][blockStart + p] = g
                }
            }
            for t in blockEnd..<count {
                let kernel = try load(t)
                for p in 0..<block.count {
                    let g = try innerProduct(block[p], kernel)
                    gram[blockStart + p][t] = g
                    gram[t][blockStart + p] = g
                }
            }
            blockStart = blockEnd
        }
        var distances = gram
        for s in 0..<count {
            for t in 0..<count {
                distances[s][t] = s == t && gram[s][s] > 0
                    ? 0
                    : 1 - similarity(inner: gram[s][t], squaredNormA: gram[s][s], squaredNormB: gram[t][t])
            }
        }
        return distances
    }
}
