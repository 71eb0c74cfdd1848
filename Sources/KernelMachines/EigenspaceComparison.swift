import Kernels

/// How close two subspaces of R^N are — the top-k eigenspaces of two kernels' Gram matrices on the
/// same inputs (FC-1 against FC-3, an analytic kernel against an empirical one): the paper's claim that
/// the top features are consistent across architectures, made measurable.
///
/// With orthonormal bases A (k_a × N) and B (k_b × N) as rows, the cosines of the principal angles are
/// the singular values of A Bᵀ, computed here as the square roots of the eigenvalues of the smaller of
/// (A Bᵀ)(A Bᵀ)ᵀ and (A Bᵀ)ᵀ(A Bᵀ) (so cosines near 0 carry an absolute error near 1e-8).
public struct EigenspaceComparison: Sendable, Equatable {
    /// cos θ₁ ≥ cos θ₂ ≥ … of the min(k_a, k_b) principal angles, each in [0, 1]: 1 for a direction
    /// both spaces share, 0 for one orthogonal to the other space.
    public let cosines: [Double]
    /// |⟨a_j, b_j⟩| for j = 1…min(k_a, k_b): the j-th basis vectors compared one by one (for
    /// eigenvectors: does feature j of one kernel point where feature j of the other does).
    public let featureAlignment: [Double]

    /// The subspace similarity Σ cos² θ_i / min(k_a, k_b) = ‖A Bᵀ‖²_F / min(k_a, k_b): 1 when the smaller
    /// space lies in the other, 0 when they are orthogonal.
    public var similarity: Double {
        cosines.isEmpty ? 0 : cosines.reduce(0) { $0 + $1 * $1 } / Double(cosines.count)
    }

    /// The principal angles between the row spaces of two orthonormal bases (rows: basis vectors).
    /// - Throws: ``EigenFeatureError/basisShape(argument:rows:columns:expected:)`` for an empty basis,
    ///   more vectors than dimensions, or bases of different dimensions;
    ///   ``EigenFeatureError/basisNotOrthonormal(argument:deviation:)`` when max |B Bᵀ − I| > 1e-6;
    ///   ``KernelMachineError/nonFiniteMatrix(argument:row:column:value:)``.
    public init(basis a: Float64Matrix, basis b: Float64Matrix) throws {
        try Self.checkBasis(a, "A", columns: a.columns)
        try Self.checkBasis(b, "B", columns: a.columns)
        let overlap = try a.multiplied(by: b.transposed)
        let small = a.rows <= b.rows ? try overlap.multiplied(by: overlap.transposed)
                                     : try overlap.transposed.multiplied(by: overlap)
        let values = try SymmetricEigen.eigenvalues(small.values, dimension: small.rows)
        cosines = values.map { min(1, max(0, $0)).squareRoot() }
        featureAlignment = (0..<min(a.rows, b.rows)).map { abs(overlap[$0, $0]) }
    }

    /// The principal angles between the top-k eigenspaces of two kernel machines built on the same
    /// training inputs (the same values in the same order; the per-sample layouts may differ, e.g.
    /// flattened rows for a fully connected kernel and NCHW images for a convolutional one).
    /// - Throws: ``EigenFeatureError/differentTrainingInputs(detail:)``;
    ///   ``EigenFeatureError/countOutOfRange(name:value:allowed:)`` for k outside 1…N;
    ///   ``EigenFeatureError/featureNotComputed(feature:computed:count:)`` when a machine computed fewer
    ///   than k eigenpairs.
    public init(_ a: EigenFeatures, _ b: EigenFeatures, top k: Int) throws {
        let xa = a.trainingInputs, xb = b.trainingInputs
        guard a.count == b.count else {
            throw EigenFeatureError.differentTrainingInputs(detail: "\(a.count) against \(b.count) samples")
        }
        guard xa.count == xb.count else {
            throw EigenFeatureError.differentTrainingInputs(detail: "inputs of shapes \(xa.shape) and \(xb.shape)")
        }
        let va = xa.scalars, vb = xb.scalars
        if let p = va.indices.first(where: { va[$0] != vb[$0] }) {
            let per = max(xa.count / max(a.count, 1), 1)
            throw EigenFeatureError.differentTrainingInputs(
                detail: "sample \(p / per) differs at position \(p % per) (\(va[p]) against \(vb[p]))")
        }
        guard (1...a.count).contains(k) else {
            throw EigenFeatureError.countOutOfRange(name: "number of eigenvectors compared", value: k, allowed: 1...a.count)
        }
        for machine in [a, b] where k > machine.computedCount {
            throw EigenFeatureError.featureNotComputed(feature: k, computed: machine.computedCount, count: machine.count)
        }
        let n = a.count
        try self.init(basis: try Float64Matrix(rows: k, columns: n, values: Array(a.solution.eigenvectors[0..<(k * n)])),
                      basis: try Float64Matrix(rows: k, columns: n, values: Array(b.solution.eigenvectors[0..<(k * n)])))
    }

    static func checkBasis(_ m: Float64Matrix, _ argument: String, columns: Int) throws {
        guard m.rows >= 1, m.columns == columns, m.rows <= m.columns else {
            throw EigenFeatureError.basisShape(argument: argument, rows: m.rows, columns: m.columns,
                                               expected: "1 to \(columns) orthonormal rows of \(columns) values, as the other basis")
        }
        try KernelInputs.checkMatrix(m, argument, rows: m.rows, columns: m.columns)
        let gram = try m.multiplied(by: m.transposed)
        var deviation = 0.0
        for i in 0..<m.rows {
            for j in 0..<m.rows { deviation = max(deviation, abs(gram[i, j] - (i == j ? 1 : 0))) }
        }
        guard deviation <= 1e-6 else { throw EigenFeatureError.basisNotOrthonormal(argument: argument, deviation: deviation) }
    }
}
