import CLAPACKE

/// Eigen-decompositions of real symmetric matrices through LAPACKE, plus a slow reference twin.
///
/// Matrices are dense, row-major, `n × n`, and must be symmetric; LAPACK reads only one triangle
/// (the lower triangle of the row-major matrix, i.e. entries `(i, j)` with `i ≥ j`).
///
/// Every result lists its eigenvalues in **descending** order. Eigenvectors come back in
/// ``Decomposition/vectors`` as a `count × n` row-major block whose row `k` is the unit eigenvector
/// belonging to `values[k]` (that is `Vᵀ`, row-major; equivalently the usual `V`, column-major). Each
/// eigenvector is therefore contiguous, which is what projections such as `Vᵀ Y` and eigen-features
/// want, and no transposition is ever paid for.
///
/// Workspace is sized explicitly: the plain `LAPACKE_ssyevd` driver asks LAPACK for its workspace
/// size, gets it back as a `Float`, and rounds it down — at `n = 3000` the vector solve then fails.
/// This type calls the `_work` variants with the documented sizes (`syevd`) or a query rounded up
/// (`syevr`).
public enum SymmetricEigen {
    /// Which end of the spectrum a partial solve returns.
    public enum Selection: Sendable, Equatable {
        /// The `count` largest eigenvalues (and their eigenvectors).
        case largest(Int)
        /// The `count` smallest eigenvalues (and their eigenvectors).
        case smallest(Int)

        /// How many eigenpairs are selected.
        public var count: Int {
            switch self {
            case .largest(let k), .smallest(let k): return k
            }
        }
    }

    /// Eigenvalues in descending order and, row by row, their unit eigenvectors.
    public struct Decomposition<Scalar: BinaryFloatingPoint & Sendable>: Sendable {
        /// The matrix dimension `n`.
        public let dimension: Int
        /// The eigenvalues, largest first.
        public let values: [Scalar]
        /// `values.count × dimension`, row-major: row `k` is the unit eigenvector of `values[k]`.
        public let vectors: [Scalar]

        /// Wraps already-sorted eigenpairs; `vectors.count` must be `values.count * dimension`.
        public init(dimension: Int, values: [Scalar], vectors: [Scalar]) {
            precondition(vectors.count == values.count * dimension,
                         "eigenvector block must hold values.count × dimension entries")
            self.dimension = dimension
            self.values = values
            self.vectors = vectors
        }

        /// Eigenvalues only, for the values-only drivers (no eigenvectors are held).
        init(dimension: Int, valuesOnly values: [Scalar]) {
            self.dimension = dimension
            self.values = values
            self.vectors = []
        }

        /// The number of eigenpairs held.
        public var count: Int { values.count }

        /// The unit eigenvector belonging to `values[k]`.
        public func vector(_ k: Int) -> ArraySlice<Scalar> {
            vectors[(k * dimension)..<((k + 1) * dimension)]
        }

        /// Component `i` of eigenvector `k`, i.e. the entry `V[i, k]` of the eigenvector matrix.
        public subscript(component i: Int, vector k: Int) -> Scalar {
            vectors[k * dimension + i]
        }
    }

    // MARK: Float

    /// All eigenvalues (descending) and eigenvectors of a symmetric `n × n` Float matrix
    /// (divide and conquer, `LAPACKE_ssyevd_work`). Costs about `(4/3 + 4) n³` flops.
    public static func decompose(_ matrix: [Float], dimension n: Int) throws(SymmetricEigenError) -> Decomposition<Float> {
        try fullSolve(matrix, n, vectors: true)
    }

    /// All eigenvalues of a symmetric `n × n` Float matrix, descending (`LAPACKE_ssyevd_work`, no vectors).
    public static func eigenvalues(_ matrix: [Float], dimension n: Int) throws(SymmetricEigenError) -> [Float] {
        try fullSolve(matrix, n, vectors: false).values
    }

    /// The selected eigenpairs of a symmetric `n × n` Float matrix, eigenvalues descending
    /// (`LAPACKE_ssyevr_work`, range `"I"`). Much cheaper than a full solve when `count ≪ n`.
    public static func decompose(_ matrix: [Float], dimension n: Int,
                                 selecting selection: Selection) throws(SymmetricEigenError) -> Decomposition<Float> {
        try partialSolve(matrix, n, selection, vectors: true)
    }

    /// The selected eigenvalues of a symmetric `n × n` Float matrix, descending
    /// (`LAPACKE_ssyevr_work`, range `"I"`, no vectors).
    public static func eigenvalues(_ matrix: [Float], dimension n: Int,
                                   selecting selection: Selection) throws(SymmetricEigenError) -> [Float] {
        try partialSolve(matrix, n, selection, vectors: false).values
    }

    // MARK: Double

    /// All eigenvalues (descending) and eigenvectors of a symmetric `n × n` Double matrix (`LAPACKE_dsyevd_work`).
    public static func decompose(_ matrix: [Double], dimension n: Int) throws(SymmetricEigenError) -> Decomposition<Double> {
        try fullSolve(matrix, n, vectors: true)
    }

    /// All eigenvalues of a symmetric `n × n` Double matrix, descending (`LAPACKE_dsyevd_work`, no vectors).
    public static func eigenvalues(_ matrix: [Double], dimension n: Int) throws(SymmetricEigenError) -> [Double] {
        try fullSolve(matrix, n, vectors: false).values
    }

    /// The selected eigenpairs of a symmetric `n × n` Double matrix, eigenvalues descending (`LAPACKE_dsyevr_work`).
    public static func decompose(_ matrix: [Double], dimension n: Int,
                                 selecting selection: Selection) throws(SymmetricEigenError) -> Decomposition<Double> {
        try partialSolve(matrix, n, selection, vectors: true)
    }

    /// The selected eigenvalues of a symmetric `n × n` Double matrix, descending (`LAPACKE_dsyevr_work`, no vectors).
    public static func eigenvalues(_ matrix: [Double], dimension n: Int,
                                   selecting selection: Selection) throws(SymmetricEigenError) -> [Double] {
        try partialSolve(matrix, n, selection, vectors: false).values
    }

    /// As `decompose(_:dimension:selecting:)` for Double with OpenBLAS at `threads` threads: one keeps
    /// small decompositions inside a larger computation independent of the thread count.
    static func decompose(_ matrix: [Double], dimension n: Int, selecting selection: Selection,
                          threads: Int) throws(SymmetricEigenError) -> Decomposition<Double> {
        try partialSolve(matrix, n, selection, vectors: true, threads: threads)
    }

    // MARK: Shared drivers

    /// Largest `n` whose workspace sizes still fit LAPACK's 32-bit integers.
    static let maximumDimension = 32_000

    /// Checks the input, then lets LAPACK's BLAS calls use `threads` threads (GEMMs leave OpenBLAS at one).
    private static func validateAndPrepare<S: BinaryFloatingPoint>(_ matrix: [S], _ n: Int,
                                                                   threads: Int = ProcessInfoCores.count) throws(SymmetricEigenError) {
        BLASThreads.set(threads)
        guard n >= 0, matrix.count == n * n else {
            throw .shapeMismatch(count: matrix.count, dimension: n)
        }
        guard n <= maximumDimension else { throw .tooLarge(dimension: n, limit: maximumDimension) }
        // LAPACK can return finite-looking garbage for NaN input, so refuse it up front.
        if let bad = matrix.firstIndex(where: { !$0.isFinite }) {
            throw .nonFiniteEntry(row: bad / n, column: bad % n)
        }
    }

    private static func fullSolve<S: LAPACKSymmetricScalar>(_ matrix: [S], _ n: Int, vectors: Bool,
                                                          threads: Int = ProcessInfoCores.count) throws(SymmetricEigenError) -> Decomposition<S> {
        try validateAndPrepare(matrix, n, threads: threads)
        if n == 0 { return Decomposition(dimension: 0, values: [], vectors: []) }
        // Sizes from the LAPACK documentation of ?syevd (n > 1); n = 1 needs 1 of each.
        let lwork = n == 1 ? 1 : (vectors ? 1 + 6 * n + 2 * n * n : 2 * n + 1)
        let liwork = n == 1 ? 1 : (vectors ? 3 + 5 * n : 1)
        var a = matrix
        var w = [S](repeating: 0, count: n)
        var work = [S](repeating: 0, count: lwork)
        var iwork = [LAPACKInt](repeating: 0, count: liwork)
        let info = a.withUnsafeMutableBufferPointer { ap in
            w.withUnsafeMutableBufferPointer { wp in
                work.withUnsafeMutableBufferPointer { workp in
                    iwork.withUnsafeMutableBufferPointer { iworkp in
                        S.syevd(jobz: vectors ? "V" : "N", n: LAPACKInt(n), a: ap.baseAddress!, w: wp.baseAddress!,
                                work: workp.baseAddress!, lwork: LAPACKInt(lwork),
                                iwork: iworkp.baseAddress!, liwork: LAPACKInt(liwork))
                    }
                }
            }
        }
        guard info == 0 else { throw .lapack(routine: S.syevdName, info: Int(info)) }
        // LAPACK returns ascending eigenvalues; column k of the column-major output (= the
        // contiguous block k) is the eigenvector of w[k]. Reverse both to get descending order.
        w.reverse()
        guard vectors else { return Decomposition(dimension: n, valuesOnly: w) }
        a.withUnsafeMutableBufferPointer { ap in
            for k in 0..<(n / 2) {
                let lo = k * n, hi = (n - 1 - k) * n
                for i in 0..<n { ap.swapAt(lo + i, hi + i) }
            }
        }
        return Decomposition(dimension: n, values: w, vectors: a)
    }

    private static func partialSolve<S: LAPACKSymmetricScalar>(_ matrix: [S], _ n: Int, _ selection: Selection, vectors: Bool,
                                                             threads: Int = ProcessInfoCores.count) throws(SymmetricEigenError) -> Decomposition<S> {
        try validateAndPrepare(matrix, n, threads: threads)
        let k = selection.count
        guard k >= 0, k <= n else { throw .invalidSelection(count: k, dimension: n) }
        if k == 0 { return Decomposition(dimension: n, values: [], vectors: []) }
        // 1-based ascending index range of the wanted eigenvalues.
        let (il, iu): (Int, Int)
        switch selection {
        case .largest: (il, iu) = (n - k + 1, n)
        case .smallest: (il, iu) = (1, k)
        }
        let jobz: Character = vectors ? "V" : "N"
        var a = matrix
        var m: LAPACKInt = 0
        var w = [S](repeating: 0, count: n)
        var z = [S](repeating: 0, count: vectors ? n * k : 1)
        var isuppz = [LAPACKInt](repeating: 0, count: 2 * max(1, k))
        let ldz = LAPACKInt(vectors ? n : 1)

        func call(_ work: inout [S], _ lwork: Int, _ iwork: inout [LAPACKInt], _ liwork: Int) -> LAPACKInt {
            a.withUnsafeMutableBufferPointer { ap in
                w.withUnsafeMutableBufferPointer { wp in
                    z.withUnsafeMutableBufferPointer { zp in
                        isuppz.withUnsafeMutableBufferPointer { sp in
                            work.withUnsafeMutableBufferPointer { workp in
                                iwork.withUnsafeMutableBufferPointer { iworkp in
                                    S.syevr(jobz: jobz, n: LAPACKInt(n), a: ap.baseAddress!,
                                            il: LAPACKInt(il), iu: LAPACKInt(iu), m: &m,
                                            w: wp.baseAddress!, z: zp.baseAddress!, ldz: ldz,
                                            isuppz: sp.baseAddress!, work: workp.baseAddress!,
                                            lwork: LAPACKInt(lwork), iwork: iworkp.baseAddress!,
                                            liwork: LAPACKInt(liwork))
                                }
                            }
                        }
                    }
                }
            }
        }

        // Workspace query; the answer comes back as a floating-point number, so round it up (and
        // never go below LAPACK's documented minimum of 26n reals and 10n integers).
        var queryWork = [S](repeating: 0, count: 1)
        var queryIwork = [LAPACKInt](repeating: 0, count: 1)
        let queryInfo = call(&queryWork, -1, &queryIwork, -1)
        guard queryInfo == 0 else { throw .lapack(routine: S.syevrName + " (workspace query)", info: Int(queryInfo)) }
        let lwork = max(Int(Double(queryWork[0]).rounded(.up)) + 1, 26 * n)
        let liwork = max(Int(queryIwork[0]), 10 * n)
        var work = [S](repeating: 0, count: lwork)
        var iwork = [LAPACKInt](repeating: 0, count: liwork)
        let info = call(&work, lwork, &iwork, liwork)
        guard info == 0 else { throw .lapack(routine: S.syevrName, info: Int(info)) }
        guard Int(m) == k else { throw .incomplete(routine: S.syevrName, found: Int(m), requested: k) }

        var values = Array(w[0..<k])
        values.reverse()
        guard vectors else { return Decomposition(dimension: n, valuesOnly: values) }
        z.withUnsafeMutableBufferPointer { zp in
            for j in 0..<(k / 2) {
                let lo = j * n, hi = (k - 1 - j) * n
                for i in 0..<n { zp.swapAt(lo + i, hi + i) }
            }
        }
        return Decomposition(dimension: n, values: values, vectors: z)
    }
}

/// Why a symmetric eigen-decomposition failed.
public enum SymmetricEigenError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The buffer does not hold `dimension × dimension` entries.
    case shapeMismatch(count: Int, dimension: Int)
    /// A partial solve asked for more eigenpairs than the matrix has (or a negative number).
    case invalidSelection(count: Int, dimension: Int)
    /// The workspace for this dimension would overflow LAPACK's 32-bit sizes.
    case tooLarge(dimension: Int, limit: Int)
    /// LAPACK returned a nonzero `info`.
    case lapack(routine: String, info: Int)
    /// The matrix holds NaN or infinity (the first such entry is named).
    case nonFiniteEntry(row: Int, column: Int)
    /// A partial solve returned fewer eigenpairs than requested.
    case incomplete(routine: String, found: Int, requested: Int)
    /// An entry and its mirror image differ by `difference`, more than rounding explains.
    case notSymmetric(row: Int, column: Int, difference: Double)
    /// A solver setting outside what it can run with (`requirement` says what is allowed).
    case invalidSetting(name: String, value: Double, requirement: String)
    /// An iterative solver stopped after `cycles` cycles with `converged` of the `requested` eigenpairs
    /// within `tolerance`; the largest residual norm ‖Kv − λv‖ was `worstResidual`.
    case notConverged(requested: Int, converged: Int, cycles: Int, worstResidual: Double, tolerance: Double)
    /// A matrix–block product returned `got` values instead of `expected`.
    case productShape(expected: Int, got: Int)
    /// A matrix–block product returned NaN or infinity (the first such entry of its `n × columns` result).
    case nonFiniteProduct(row: Int, column: Int)
    /// An iterative solver found no direction outside its basis of `vectors` vectors in dimension `dimension`.
    case basisExhausted(vectors: Int, dimension: Int)

    public var description: String {
        switch self {
        case let .shapeMismatch(count, dimension):
            return "symmetric eigen-decomposition: expected \(dimension)×\(dimension) = \(dimension * dimension) entries, got \(count)"
        case let .invalidSelection(count, dimension):
            return "symmetric eigen-decomposition: cannot select \(count) eigenpairs of a \(dimension)×\(dimension) matrix"
        case let .tooLarge(dimension, limit):
            return "symmetric eigen-decomposition: dimension \(dimension) exceeds the supported maximum \(limit) (32-bit LAPACK workspace)"
        case let .lapack(routine, info) where info < 0:
            return "\(routine) failed: argument \(-info) had an illegal value (info = \(info))"
        case let .lapack(routine, info) where info > 0:
            return "\(routine) failed to converge: info = \(info) (the matrix may contain NaN or infinity)"
        case let .lapack(routine, info):
            return "\(routine) failed (info = \(info))"
        case let .nonFiniteEntry(row, column):
            return "symmetric eigen-decomposition: the matrix has a non-finite entry at (\(row), \(column))"
        case let .incomplete(routine, found, requested):
            return "\(routine) found \(found) of the \(requested) requested eigenvalues"
        case let .notSymmetric(row, column, difference):
            return "symmetric eigen-decomposition: the matrix is not symmetric: entries (\(row), \(column)) and (\(column), \(row)) differ by \(difference)"
        case let .invalidSetting(name, value, requirement):
            return "symmetric eigen-decomposition: the \(name) is \(value); it must be \(requirement)"
        case let .notConverged(requested, converged, cycles, worstResidual, tolerance):
            return "block Krylov eigensolver: after \(cycles) cycles \(converged) of the \(requested) requested eigenpairs met the "
                + "tolerance \(tolerance) (largest residual ‖Kv − λv‖ = \(worstResidual)); allow more cycles, a larger oversampling or depth, or a looser tolerance"
        case let .productShape(expected, got):
            return "block Krylov eigensolver: the matrix–block product returned \(got) values instead of \(expected)"
        case let .nonFiniteProduct(row, column):
            return "block Krylov eigensolver: the matrix–block product returned a non-finite value at (\(row), \(column))"
        case let .basisExhausted(vectors, dimension):
            return "block Krylov eigensolver: no direction left outside a basis of \(vectors) vectors in dimension \(dimension)"
        }
    }
}

/// LAPACK's `lapack_int` (a C macro, so not imported): 32-bit in the LP64 OpenBLAS build.
typealias LAPACKInt = Int32

/// The LAPACKE entry points for one scalar type (Float → `s…`, Double → `d…`).
protocol LAPACKSymmetricScalar: BinaryFloatingPoint, Sendable {
    static var syevdName: String { get }
    static var syevrName: String { get }
    static func syevd(jobz: Character, n: LAPACKInt, a: UnsafeMutablePointer<Self>, w: UnsafeMutablePointer<Self>,
                      work: UnsafeMutablePointer<Self>, lwork: LAPACKInt,
                      iwork: UnsafeMutablePointer<LAPACKInt>, liwork: LAPACKInt) -> LAPACKInt
    static func syevr(jobz: Character, n: LAPACKInt, a: UnsafeMutablePointer<Self>, il: LAPACKInt, iu: LAPACKInt,
                      m: UnsafeMutablePointer<LAPACKInt>, w: UnsafeMutablePointer<Self>, z: UnsafeMutablePointer<Self>,
                      ldz: LAPACKInt, isuppz: UnsafeMutablePointer<LAPACKInt>, work: UnsafeMutablePointer<Self>,
                      lwork: LAPACKInt, iwork: UnsafeMutablePointer<LAPACKInt>, liwork: LAPACKInt) -> LAPACKInt
}

/// Column-major with uplo "U": for a symmetric matrix that is the row-major lower triangle, and
/// the eigenvectors land as contiguous columns without LAPACKE's row-major transposition copies.
private let columnMajor = Int32(LAPACK_COL_MAJOR)
private func cchar(_ c: Character) -> CChar { CChar(c.asciiValue!) }

extension Float: LAPACKSymmetricScalar {
    static var syevdName: String { "LAPACKE_ssyevd_work" }
    static var syevrName: String { "LAPACKE_ssyevr_work" }
    static func syevd(jobz: Character, n: LAPACKInt, a: UnsafeMutablePointer<Float>, w: UnsafeMutablePointer<Float>,
                      work: UnsafeMutablePointer<Float>, lwork: LAPACKInt,
                      iwork: UnsafeMutablePointer<LAPACKInt>, liwork: LAPACKInt) -> LAPACKInt {
        LAPACKE_ssyevd_work(columnMajor, cchar(jobz), cchar("U"), n, a, n, w, work, lwork, iwork, liwork)
    }
    static func syevr(jobz: Character, n: LAPACKInt, a: UnsafeMutablePointer<Float>, il: LAPACKInt, iu: LAPACKInt,
                      m: UnsafeMutablePointer<LAPACKInt>, w: UnsafeMutablePointer<Float>, z: UnsafeMutablePointer<Float>,
                      ldz: LAPACKInt, isuppz: UnsafeMutablePointer<LAPACKInt>, work: UnsafeMutablePointer<Float>,
                      lwork: LAPACKInt, iwork: UnsafeMutablePointer<LAPACKInt>, liwork: LAPACKInt) -> LAPACKInt {
        // abstol = safe minimum: the most accurate setting LAPACK documents for ?syevr.
        LAPACKE_ssyevr_work(columnMajor, cchar(jobz), cchar("I"), cchar("U"), n, a, n, 0, 0, il, iu,
                            Float.leastNormalMagnitude, m, w, z, ldz, isuppz, work, lwork, iwork, liwork)
    }
}

extension Double: LAPACKSymmetricScalar {
    static var syevdName: String { "LAPACKE_dsyevd_work" }
    static var syevrName: String { "LAPACKE_dsyevr_work" }
    static func syevd(jobz: Character, n: LAPACKInt, a: UnsafeMutablePointer<Double>, w: UnsafeMutablePointer<Double>,
                      work: UnsafeMutablePointer<Double>, lwork: LAPACKInt,
                      iwork: UnsafeMutablePointer<LAPACKInt>, liwork: LAPACKInt) -> LAPACKInt {
        LAPACKE_dsyevd_work(columnMajor, cchar(jobz), cchar("U"), n, a, n, w, work, lwork, iwork, liwork)
    }
    static func syevr(jobz: Character, n: LAPACKInt, a: UnsafeMutablePointer<Double>, il: LAPACKInt, iu: LAPACKInt,
                      m: UnsafeMutablePointer<LAPACKInt>, w: UnsafeMutablePointer<Double>, z: UnsafeMutablePointer<Double>,
                      ldz: LAPACKInt, isuppz: UnsafeMutablePointer<LAPACKInt>, work: UnsafeMutablePointer<Double>,
                      lwork: LAPACKInt, iwork: UnsafeMutablePointer<LAPACKInt>, liwork: LAPACKInt) -> LAPACKInt {
        LAPACKE_dsyevr_work(columnMajor, cchar(jobz), cchar("I"), cchar("U"), n, a, n, 0, 0, il, iu,
                            Double.leastNormalMagnitude, m, w, z, ldz, isuppz, work, lwork, iwork, liwork)
    }
}

// MARK: - Reference twin

extension SymmetricEigen {
    /// The slow, obvious reference: the cyclic Jacobi eigenvalue algorithm in Double.
    ///
    /// Sweeps over every off-diagonal pair `(p, q)` and applies the plane rotation that zeroes
    /// `A[p, q]`, accumulating the rotations into `V`, until the off-diagonal mass is negligible.
    /// `O(n³)` per sweep and typically 6–10 sweeps: meant for tests on small matrices (n ≲ 100).
    /// Reads the whole (assumed symmetric) matrix. Returns eigenvalues descending with eigenvectors
    /// in the same layout as the LAPACK-backed solvers (row k of `vectors` is eigenvector k).
    public static func jacobiReference(_ matrix: [Double], dimension n: Int,
                                       maximumSweeps: Int = 100) -> Decomposition<Double> {
        precondition(matrix.count == n * n, "jacobiReference: expected an n × n matrix")
        var a = matrix
        // v is row-major n × n with the eigenvectors as its columns while rotating.
        var v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { v[i * n + i] = 1 }

        func offDiagonalSquared() -> Double {
            var s = 0.0
            for i in 0..<n { for j in 0..<n where i != j { s += a[i * n + j] * a[i * n + j] } }
            return s
        }
        var total = 0.0
        for x in a { total += x * x }
        let tolerance = 1e-30 * max(total, .leastNormalMagnitude)

        var sweep = 0
        while sweep < maximumSweeps && offDiagonalSquared() > tolerance {
            sweep += 1
            for p in 0..<n {
                for q in (p + 1)..<max(p + 1, n) {
                    let apq = a[p * n + q]
                    if apq == 0 { continue }
                    let app = a[p * n + p], aqq = a[q * n + q]
                    // Rotation angle from the classical formula: tan(2φ) = 2 a_pq / (a_qq − a_pp).
                    let theta = (aqq - app) / (2 * apq)
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot()
                    let s = t * c
                    // A ← Jᵀ A J, touching rows and columns p and q.
                    for k in 0..<n {
                        let akp = a[k * n + p], akq = a[k * n + q]
                        a[k * n + p] = c * akp - s * akq
                        a[k * n + q] = s * akp + c * akq
                    }
                    for k in 0..<n {
                        let apk = a[p * n + k], aqk = a[q * n + k]
                        a[p * n + k] = c * apk - s * aqk
                        a[q * n + k] = s * apk + c * aqk
                    }
                    for k in 0..<n {
                        let vkp = v[k * n + p], vkq = v[k * n + q]
                        v[k * n + p] = c * vkp - s * vkq
                        v[k * n + q] = s * vkp + c * vkq
                    }
                }
            }
        }

        let order = (0..<n).sorted { a[$0 * n + $0] > a[$1 * n + $1] }
        let values = order.map { a[$0 * n + $0] }
        var vectors = [Double](repeating: 0, count: n * n)
        for (row, column) in order.enumerated() {
            for i in 0..<n { vectors[row * n + i] = v[i * n + column] }
        }
        return Decomposition(dimension: n, values: values, vectors: vectors)
    }
}
