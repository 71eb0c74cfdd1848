/// How ``SymmetricEigen/blockKrylov(largest:of:dimension:settings:)`` searches: the block size, the
/// depth of each cycle's Krylov space, when to stop, and the seed of the random start.
public struct BlockKrylovSettings: Sendable, Equatable {
    /// Extra vectors per block beyond the `count` eigenpairs requested (nil: `max(10, count / 5)`).
    /// A few more than needed make the count-th eigenpair converge faster.
    public var oversampling: Int?
    /// Krylov blocks added to the start block in each cycle: a cycle's basis is
    /// [Q, KQ, …, K^depth Q] (at most n vectors), so a cycle costs `depth` block products. Nil: a basis
    /// of about 1,500 vectors, 2 to 8 blocks deep (a deeper basis converges in fewer products, but its
    /// orthogonalisation grows with its square).
    public var depth: Int?
    /// A Ritz pair (θ, u) counts as converged when ‖K u − θ u‖ ≤ tolerance · |θ| (or below the rounding
    /// floor n·ε·‖K‖, for eigenvalues within rounding of zero).
    public var tolerance: Double
    /// Cycles tried before giving up with ``SymmetricEigenError/notConverged(requested:converged:cycles:worstResidual:tolerance:)``.
    public var maximumCycles: Int
    /// Seed of the Gaussian start block: the same seed gives the same result, bit for bit.
    public var seed: UInt64

    /// Settings with the given values; the defaults suit kernel Gram matrices (decaying spectra).
    public init(oversampling: Int? = nil, depth: Int? = nil, tolerance: Double = 1e-6, maximumCycles: Int = 50,
                seed: UInt64 = 0) {
        self.oversampling = oversampling
        self.depth = depth
        self.tolerance = tolerance
        self.maximumCycles = maximumCycles
        self.seed = seed
    }

    /// The number of vectors per block for `count` eigenpairs of an n × n matrix: count plus the
    /// oversampling, at most n.
    public func blockSize(count: Int, dimension n: Int) -> Int {
        min(n, count + (oversampling ?? max(10, count / 5)))
    }

    /// The depth of each cycle for `count` eigenpairs of an n × n matrix: ``depth``, or by default
    /// ⌈1500 / block⌉ − 1 clamped to 2…8.
    public func resolvedDepth(count: Int, dimension n: Int) -> Int {
        if let depth { return depth }
        let block = max(blockSize(count: count, dimension: n), 1)
        return min(8, max(2, (1500 + block - 1) / block - 1))
    }

    /// The vectors of one cycle's basis: (depth + 1) blocks, at most n.
    public func basisSize(count: Int, dimension n: Int) -> Int {
        let block = blockSize(count: count, dimension: n)
        let (blocks, overflow) = block.multipliedReportingOverflow(by: resolvedDepth(count: count, dimension: n) + 1)
        return overflow ? n : min(n, blocks)
    }

    /// The solver's working memory in bytes besides the matrix (or whatever the product needs): the
    /// basis and its image under K (two `basis × n` blocks), a block of Ritz vectors and their images,
    /// the Rayleigh quotient and its eigenvectors, and block temporaries.
    public func workingBytes(count: Int, dimension n: Int) -> Int {
        let basis = basisSize(count: count, dimension: n), block = blockSize(count: count, dimension: n)
        let doubles = Double(n) * Double(2 * basis + 6 * block) + 5 * Double(basis) * Double(basis)
        return doubles * 8 >= Double(Int.max) ? Int.max : Int(doubles * 8)
    }

    /// Refuses settings the solver cannot run with.
    func check() throws(SymmetricEigenError) {
        if let oversampling, oversampling < 0 {
            throw .invalidSetting(name: "oversampling", value: Double(oversampling), requirement: "at least 0")
        }
        if let depth, depth < 1 { throw .invalidSetting(name: "depth", value: Double(depth), requirement: "at least 1") }
        guard tolerance.isFinite, tolerance > 0, tolerance < 1 else {
            throw .invalidSetting(name: "tolerance", value: tolerance, requirement: "in (0, 1)")
        }
        guard maximumCycles >= 1 else {
            throw .invalidSetting(name: "maximum cycles", value: Double(maximumCycles), requirement: "at least 1")
        }
    }
}

/// How a block Krylov search went: the residual of each eigenpair it returned and what it cost.
public struct BlockKrylovReport: Sendable, Equatable {
    /// ‖K v_k − λ_k v_k‖ for each returned eigenpair, largest eigenvalue first.
    public let residualNorms: [Double]
    /// Restart cycles run (each a Rayleigh–Ritz step over its Krylov basis).
    public let cycles: Int
    /// Vectors multiplied by K in all (the sum of the block products' widths).
    public let productColumns: Int
    /// Wall-clock seconds of the whole search, products included.
    public let seconds: Double

    /// A report from its parts.
    public init(residualNorms: [Double], cycles: Int, productColumns: Int, seconds: Double) {
        self.residualNorms = residualNorms
        self.cycles = cycles
        self.productColumns = productColumns
        self.seconds = seconds
    }

    /// The largest ‖K v_k − λ_k v_k‖ / |λ_k| over the eigenpairs with eigenvalues `values` (the
    /// residual alone where λ_k = 0).
    public func largestRelativeResidual(values: [Double]) -> Double {
        zip(residualNorms, values).map { $1 == 0 ? $0 : $0 / abs($1) }.max() ?? 0
    }
}
