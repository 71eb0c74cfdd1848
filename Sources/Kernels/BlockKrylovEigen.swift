import CBLAS
import CLAPACKE
import Dispatch

extension SymmetricEigen {
    /// The largest eigenpairs found by ``blockKrylov(largest:of:dimension:settings:)``, with how the
    /// search went.
    public struct BlockKrylovResult: Sendable {
        /// The eigenvalues, largest first, and their unit eigenvectors (row k: eigenvector k).
        public let decomposition: Decomposition<Double>
        /// The residual of each eigenpair, the cycles and the products the search took.
        public let report: BlockKrylovReport
    }

    /// The `count` largest eigenvalues (descending) and their eigenvectors of a symmetric `n × n`
    /// Double matrix, without a full decomposition: a restarted, randomised block Krylov method whose
    /// work is matrix–block products (GEMMs), ``blockKrylov(largest:dimension:settings:product:)`` on
    /// the row-major matrix. Much cheaper than LAPACK when `count ≪ n` and the spectrum decays.
    /// - Throws: ``SymmetricEigenError/invalidSelection(count:dimension:)`` for a count outside 1…n;
    ///   ``SymmetricEigenError/shapeMismatch(count:dimension:)``;
    ///   ``SymmetricEigenError/nonFiniteEntry(row:column:)``; ``SymmetricEigenError/notSymmetric(row:column:difference:)``
    ///   when an entry differs from its mirror by more than 1e-10 of the largest entry (the LAPACK
    ///   drivers read one triangle; this solver multiplies by the whole matrix);
    ///   ``SymmetricEigenError/invalidSetting(name:value:requirement:)``;
    ///   ``SymmetricEigenError/notConverged(requested:converged:cycles:worstResidual:tolerance:)``.
    public static func blockKrylov(largest count: Int, of matrix: [Double], dimension n: Int,
                                   settings: BlockKrylovSettings = BlockKrylovSettings()) throws -> BlockKrylovResult {
        guard n >= 0, matrix.count == n * n else { throw SymmetricEigenError.shapeMismatch(count: matrix.count, dimension: n) }
        if let bad = matrix.firstIndex(where: { !$0.isFinite }) {
            throw SymmetricEigenError.nonFiniteEntry(row: bad / n, column: bad % n)
        }
        try checkSymmetric(matrix, n)
        return try matrix.withUnsafeBufferPointer { a in
            try blockKrylov(largest: count, dimension: n, settings: settings) { block, columns in
                var out = [Double](repeating: 0, count: n * columns)
                block.withUnsafeBufferPointer { x in
                    out.withUnsafeMutableBufferPointer { y in
                        Float64GEMM.multiply(m: n, n: columns, k: n, a: a.baseAddress, b: x.baseAddress,
                                             transposeB: false, c: y.baseAddress)
                    }
                }
                return out
            }
        }
    }

    /// The `count` largest eigenvalues (descending) and their eigenvectors of a symmetric `n × n`
    /// operator K known only through its products with blocks of vectors — a Gram matrix held in
    /// blocks or on disk, or a kernel applied without storing it.
    ///
    /// Each cycle builds an orthonormal basis of the block Krylov space [Q, KQ, …, K^depth Q] (block
    /// Gram–Schmidt, twice, then Householder QR; directions that a block cannot supply are replaced by
    /// random ones), takes the Ritz pairs of K on it (Rayleigh–Ritz: the eigenpairs of BᵀKB) and
    /// restarts from the `count + oversampling` largest Ritz vectors. The first Q is Gaussian, seeded.
    /// It stops when every wanted Ritz pair has ‖K u − θ u‖ ≤ tolerance·|θ| (or is below the rounding
    /// floor n·ε·‖K‖) — residuals computed on the returned vectors — or when the basis spans all of Rⁿ.
    /// An eigenvalue's error is at most its residual norm, and usually near its square.
    ///
    /// The products and small factorisations run on Tangent's workers with OpenBLAS single-threaded,
    /// split by shape alone, so the result does not depend on the number of threads.
    /// - Parameters:
    ///   - count: how many of the largest eigenpairs, 1…n.
    ///   - n: the dimension.
    ///   - settings: block size, depth, tolerance, cycles, seed.
    ///   - product: K·X for X given `n × columns`, row-major (a column per vector, as kernel weights
    ///     are laid out); returns the `n × columns` result in the same layout.
    /// - Throws: ``SymmetricEigenError/invalidSelection(count:dimension:)``,
    ///   ``SymmetricEigenError/invalidSetting(name:value:requirement:)``,
    ///   ``SymmetricEigenError/tooLarge(dimension:limit:)`` when an n × block panel would overflow LAPACK's
    ///   32-bit sizes, ``SymmetricEigenError/productShape(expected:got:)`` or ``SymmetricEigenError/nonFiniteProduct(row:column:)``
    ///   for a product that returns the wrong count or NaN/infinity,
    ///   ``SymmetricEigenError/notConverged(requested:converged:cycles:worstResidual:tolerance:)``, and
    ///   whatever `product` throws.
    public static func blockKrylov(largest count: Int, dimension n: Int, settings: BlockKrylovSettings = BlockKrylovSettings(),
                                   product: ([Double], Int) throws -> [Double]) throws -> BlockKrylovResult {
        guard n >= 1, count >= 1, count <= n else { throw SymmetricEigenError.invalidSelection(count: count, dimension: n) }
        try settings.check()
        // LAPACK only ever sees the n × block panels (QR) and the basis-sized Rayleigh quotient, never an
        // n × n matrix, so the 32-bit limit is on n × block.
        let largestDimension = Int(Int32.max) / max(settings.blockSize(count: count, dimension: n), 1)
        guard n <= largestDimension else { throw SymmetricEigenError.tooLarge(dimension: n, limit: largestDimension) }
        return try withoutActuallyEscaping(product) { product in
            var search = BlockKrylovSearch(n: n, count: count, settings: settings, product: product)
            return try search.run()
        }
    }

    /// Refuses a matrix whose entries differ from their mirror images by more than 1e-10 of the largest
    /// magnitude (rounding in a Gram matrix's computation stays far below that). Walks tiles, so both
    /// triangles are read with cache-friendly strides.
    static func checkSymmetric(_ a: [Double], _ n: Int) throws(SymmetricEigenError) {
        let scale = a.reduce(0.0) { max($0, abs($1)) }
        let limit = 1e-10 * scale
        let tile = 64
        for i0 in stride(from: 0, to: n, by: tile) {
            for j0 in stride(from: 0, through: i0, by: tile) {
                for i in i0..<min(i0 + tile, n) {
                    for j in j0..<min(j0 + tile, i) {
                        let difference = abs(a[i * n + j] - a[j * n + i])
                        if difference > limit { throw .notSymmetric(row: i, column: j, difference: difference) }
                    }
                }
            }
        }
    }
}

/// One run of the block Krylov search. Blocks and bases are stored "vectors as rows": a block of b
/// vectors of length n is a row-major `b × n` buffer (which LAPACK reads as the column-major `n × b`
/// matrix whose columns are the vectors). The product closure takes and returns `n × b` (vectors as
/// columns), so blocks are transposed at that boundary only.
private struct BlockKrylovSearch {
    let n: Int
    let count: Int
    let settings: BlockKrylovSettings
    let product: ([Double], Int) throws -> [Double]
    var rng: Xoshiro256
    var productColumns = 0

    init(n: Int, count: Int, settings: BlockKrylovSettings, product: @escaping ([Double], Int) throws -> [Double]) {
        self.n = n
        self.count = count
        self.settings = settings
        self.product = product
        rng = Xoshiro256(seed: settings.seed)
    }

    mutating func run() throws -> SymmetricEigen.BlockKrylovResult {
        let startTime = DispatchTime.now().uptimeNanoseconds
        let block = settings.blockSize(count: count, dimension: n)
        let maximumBasis = settings.basisSize(count: count, dimension: n)
        var start = try orthonormalize(gaussian(rows: block), against: [], rows: 0)
        var startImage = try apply(start, rows: block)
        var worst = (residual: Double.infinity, converged: 0)
        for cycle in 1...settings.maximumCycles {
            // Basis B (rows) and KB, grown block by block: the next block is K times the last one,
            // orthonormalised against everything before it.
            var basis = start, image = startImage
            basis.reserveCapacity(maximumBasis * n)
            image.reserveCapacity(maximumBasis * n)
            var blockEnds = [block]
            while blockEnds.last! < maximumBasis {
                let rows = blockEnds.last!, previous = blockEnds.count > 1 ? blockEnds[blockEnds.count - 2] : 0
                let width = min(rows - previous, maximumBasis - rows)
                let next = try orthonormalize(Array(image[(previous * n)..<((previous + width) * n)]), against: basis, rows: rows)
                image += try apply(next, rows: width)
                basis += next
                blockEnds.append(rows + width)
            }
            let basisRows = blockEnds.last!
            // Rayleigh–Ritz on H = B K Bᵀ (symmetric, M × M): its top eigenvectors W give the Ritz
            // vectors U = W B and KU = W KB.
            let h = rayleighQuotient(basis, image, blockEnds: blockEnds)
            let kept = min(block, basisRows)
            let ritz = try SymmetricEigen.decompose(h, dimension: basisRows, selecting: .largest(kept), threads: 1)
            var vectors = [Double](repeating: 0, count: kept * n), images = vectors
            multiply(m: kept, n: n, k: basisRows, ritz.vectors, basis, transposeB: false, into: &vectors)
            multiply(m: kept, n: n, k: basisRows, ritz.vectors, image, transposeB: false, into: &images)
            let theta = ritz.values
            // ‖K‖ ≥ every |θ| and ‖H‖_F/√M: the rounding floor of the residuals.
            let frobenius = h.reduce(0.0) { $0 + $1 * $1 }.squareRoot() / Double(basisRows).squareRoot()
            let floor = Double(n) * Double.ulpOfOne * max(abs(theta[0]), abs(theta[kept - 1]), frobenius)
            var residuals = [Double](repeating: 0, count: count)
            for j in 0..<count {
                var sum = 0.0
                for i in 0..<n {
                    let r = images[j * n + i] - theta[j] * vectors[j * n + i]
                    sum += r * r
                }
                residuals[j] = sum.squareRoot()
            }
            let converged = (0..<count).filter { residuals[$0] <= max(settings.tolerance * abs(theta[$0]), floor) }.count
            let largest = residuals.max() ?? 0
            worst = (largest, converged)
            // A basis spanning all of Rⁿ makes Rayleigh–Ritz exact: nothing is left to find.
            if converged == count || basisRows == n {
                let decomposition = SymmetricEigen.Decomposition(dimension: n, values: Array(theta[0..<count]),
                                                                 vectors: Array(vectors[0..<(count * n)]))
                return SymmetricEigen.BlockKrylovResult(
                    decomposition: decomposition,
                    report: BlockKrylovReport(residualNorms: residuals, cycles: cycle, productColumns: productColumns,
                                              seconds: Double(DispatchTime.now().uptimeNanoseconds - startTime) / 1e9))
            }
            // Restart from the kept Ritz vectors, whose images are already known.
            start = vectors
            startImage = images
        }
        throw SymmetricEigenError.notConverged(requested: count, converged: worst.converged, cycles: settings.maximumCycles,
                                               worstResidual: worst.residual, tolerance: settings.tolerance)
    }

    /// H = (KB) Bᵀ for a basis B whose blocks end at `blockEnds`: only the blocks on and below the
    /// diagonal are multiplied (row block i of KB against blocks 0…i of B, one GEMM each), the rest
    /// mirrored — H is symmetric up to rounding, and this makes it exactly so.
    func rayleighQuotient(_ basis: [Double], _ image: [Double], blockEnds: [Int]) -> [Double] {
        let m = blockEnds.last!
        var h = [Double](repeating: 0, count: m * m)
        var strip = [Double]()
        var lo = 0
        for hi in blockEnds {
            let rows = hi - lo
            strip = [Double](repeating: 0, count: rows * hi)
            image.withUnsafeBufferPointer { ki in
                basis.withUnsafeBufferPointer { b in
                    strip.withUnsafeMutableBufferPointer { c in
                        Float64GEMM.multiply(m: rows, n: hi, k: n, a: ki.baseAddress! + lo * n, b: b.baseAddress,
                                             transposeB: true, c: c.baseAddress)
                    }
                }
            }
            for i in 0..<rows {
                for j in 0..<hi where j <= lo + i {
                    let value = strip[i * hi + j]
                    h[(lo + i) * m + j] = value
                    h[j * m + lo + i] = value
                }
            }
            lo = hi
        }
        return h
    }

    /// A `rows × n` block of standard normal entries.
    mutating func gaussian(rows: Int) -> [Double] {
        (0..<(rows * n)).map { _ in rng.nextNormal() }
    }

    /// K times a block of `rows` vectors (vectors as rows in and out), through the product closure.
    mutating func apply(_ x: [Double], rows: Int) throws -> [Double] {
        let columns = transpose(x, rows: rows, columns: n)
        let result = try product(columns, rows)
        guard result.count == n * rows else {
            throw SymmetricEigenError.productShape(expected: n * rows, got: result.count)
        }
        if let bad = result.firstIndex(where: { !$0.isFinite }) {
            throw SymmetricEigenError.nonFiniteProduct(row: bad / rows, column: bad % rows)
        }
        productColumns += rows
        return transpose(result, rows: n, columns: rows)
    }

    /// An orthonormal block spanning what `x` (rows: vectors) adds to the span of `basis` (`rows`
    /// orthonormal rows), with as many vectors as `x`: block classical Gram–Schmidt, Householder QR, and
    /// Gram–Schmidt again on the orthonormal factor ("twice is enough"). Vectors that lose more than
    /// half their squared length to the second projection (Kahan and Parlett's test: they came from
    /// rounding, not from x) are replaced by random vectors and the block is done again; the rest are
    /// normalised by a last (Cholesky) QR.
    mutating func orthonormalize(_ x: [Double], against basis: [Double], rows: Int) throws -> [Double] {
        let width = x.count / n
        var x = x
        for _ in 0..<8 {
            project(&x, width: width, against: basis, rows: rows)
            var q = try householderQ(x, width: width)
            project(&q, width: width, against: basis, rows: rows)
            let lost = (0..<width).filter { j in
                var sum = 0.0
                for i in (j * n)..<((j + 1) * n) { sum += q[i] * q[i] }
                return sum < 0.5
            }
            if lost.isEmpty { return try choleskyQ(q, width: width) }
            for j in lost {
                for i in (j * n)..<((j + 1) * n) { x[i] = rng.nextNormal() }
            }
        }
        // Eight rounds of fresh random vectors all lying in the span of the basis: the basis fills Rⁿ,
        // which the caller never lets happen.
        throw SymmetricEigenError.basisExhausted(vectors: rows, dimension: n)
    }

    /// x ← x − (x Bᵀ) B: removes from each row of x its components along the `rows` rows of B.
    func project(_ x: inout [Double], width: Int, against basis: [Double], rows: Int) {
        guard rows > 0 else { return }
        var coefficients = [Double](repeating: 0, count: width * rows)
        multiply(m: width, n: rows, k: n, x, basis, transposeB: true, into: &coefficients)
        coefficients.withUnsafeBufferPointer { c in
            basis.withUnsafeBufferPointer { b in
                x.withUnsafeMutableBufferPointer { out in
                    Float64GEMM.multiply(m: width, n: n, k: rows, alpha: -1, a: c.baseAddress, b: b.baseAddress,
                                         transposeB: false, beta: 1, c: out.baseAddress)
                }
            }
        }
    }

    /// The orthonormal factor Q of the Householder QR of the `n × width` matrix whose columns are the
    /// rows of `x` (LAPACK `dgeqrf`, `dorgqr`; single-threaded OpenBLAS).
    func householderQ(_ x: [Double], width: Int) throws -> [Double] {
        BLASThreads.set(1)
        var a = x
        var tau = [Double](repeating: 0, count: max(width, 1))
        let m = LAPACKInt(n), w = LAPACKInt(width), layout = Int32(LAPACK_COL_MAJOR)
        var query = [Double](repeating: 0, count: 1)
        var info = a.withUnsafeMutableBufferPointer { ap in
            tau.withUnsafeMutableBufferPointer { tp in
                query.withUnsafeMutableBufferPointer { qp in
                    LAPACKE_dgeqrf_work(layout, m, w, ap.baseAddress, m, tp.baseAddress, qp.baseAddress, -1)
                }
            }
        }
        guard info == 0 else { throw SymmetricEigenError.lapack(routine: "LAPACKE_dgeqrf_work (workspace query)", info: Int(info)) }
        let lwork = max(Int(query[0].rounded(.up)) + 1, 64 * max(width, 1))
        var work = [Double](repeating: 0, count: lwork)
        info = a.withUnsafeMutableBufferPointer { ap in
            tau.withUnsafeMutableBufferPointer { tp in
                work.withUnsafeMutableBufferPointer { wp in
                    LAPACKE_dgeqrf_work(layout, m, w, ap.baseAddress, m, tp.baseAddress, wp.baseAddress, LAPACKInt(lwork))
                }
            }
        }
        guard info == 0 else { throw SymmetricEigenError.lapack(routine: "LAPACKE_dgeqrf_work", info: Int(info)) }
        info = a.withUnsafeMutableBufferPointer { ap in
            tau.withUnsafeMutableBufferPointer { tp in
                work.withUnsafeMutableBufferPointer { wp in
                    LAPACKE_dorgqr_work(layout, m, w, w, ap.baseAddress, m, tp.baseAddress, wp.baseAddress, LAPACKInt(lwork))
                }
            }
        }
        guard info == 0 else { throw SymmetricEigenError.lapack(routine: "LAPACKE_dorgqr_work", info: Int(info)) }
        return a
    }

    /// The orthonormal factor of a well-conditioned block (rows: vectors) by Cholesky QR: G = x xᵀ = L Lᵀ,
    /// Q = L⁻¹ x — GEMM-speed where Householder QR is not. Used on blocks whose vectors are already
    /// orthonormal up to the small loss of one projection (condition number below √2), where one pass
    /// is as accurate as Householder; falls back to Householder if the factorisation fails.
    func choleskyQ(_ x: [Double], width: Int) throws -> [Double] {
        var g = [Double](repeating: 0, count: width * width)
        multiply(m: width, n: width, k: n, x, x, transposeB: true, into: &g)
        BLASThreads.set(1)
        let w = LAPACKInt(width)
        // Column-major lower L with G = L Lᵀ is, read row-major, the upper triangle Lᵀ.
        let info = g.withUnsafeMutableBufferPointer {
            LAPACKE_dpotrf_work(Int32(LAPACK_COL_MAJOR), CChar(UInt8(ascii: "L")), w, $0.baseAddress, w)
        }
        guard info == 0 else { return try householderQ(x, width: width) }
        var q = x
        g.withUnsafeBufferPointer { l in
            q.withUnsafeMutableBufferPointer { b in
                cblas_dtrsm(CblasRowMajor, CblasLeft, CblasUpper, CblasTrans, CblasNonUnit, w, Int32(n), 1,
                            l.baseAddress, w, b.baseAddress, Int32(n))
            }
        }
        return q
    }

    /// `into = A · op(B)` for dense row-major A (`m × k`) and B (`k × n`, or `n × k` when `transposeB`).
    func multiply(m: Int, n: Int, k: Int, _ a: [Double], _ b: [Double], transposeB: Bool, into c: inout [Double]) {
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    Float64GEMM.multiply(m: m, n: n, k: k, a: pa.baseAddress, b: pb.baseAddress, transposeB: transposeB,
                                         c: pc.baseAddress)
                }
            }
        }
    }

    /// The transpose of a row-major `rows × columns` buffer.
    func transpose(_ x: [Double], rows: Int, columns: Int) -> [Double] {
        var out = [Double](repeating: 0, count: x.count)
        let tile = 32
        for i0 in stride(from: 0, to: rows, by: tile) {
            for j0 in stride(from: 0, to: columns, by: tile) {
                for i in i0..<min(i0 + tile, rows) {
                    for j in j0..<min(j0 + tile, columns) { out[j * rows + i] = x[i * columns + j] }
                }
            }
        }
        return out
    }
}
