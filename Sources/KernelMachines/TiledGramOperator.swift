import Foundation
import Kernels

/// The operations Sections 3–4 need on a Gram matrix held in a ``TiledGramStore``, out of core: products
/// with blocks of vectors (each tile read once per product, used for itself and its mirror), the top
/// eigenpairs by block Krylov iteration on those products, and kernel regression's solve
/// (Θ + λI) A = Y by conjugate gradients.
///
/// Decoded tiles are kept in memory up to `cacheBytes` (the first tiles read), the others are read
/// and verified again on every product: a budget at or above 8·N² bytes makes every product after the
/// first an in-memory one. Products run on Float64 GEMMs split by shape, so results do not depend on
/// the number of threads.
public final class TiledGramOperator: @unchecked Sendable {
    /// The store multiplied by.
    public let store: TiledGramStore
    /// The most memory decoded tiles may keep.
    public let cacheBytes: Int
    private var cache: [TiledGramStore.Tile: [Double]] = [:]
    private var cachedBytes = 0
    private let lock = NSLock()
    /// Products computed so far, and the vectors multiplied in all.
    public private(set) var products = 0, productColumns = 0

    /// The operator of `store`, whose every tile must be present and verified (checked here by reading
    /// each once, which also fills the cache).
    /// - Throws: ``TiledGramError/incomplete(directory:missing:corrupt:)``;
    ///   ``TiledGramError/invalidSetting(name:value:requirement:)`` for a negative cache budget.
    public init(store: TiledGramStore, cacheBytes: Int = 1 << 30) throws {
        guard cacheBytes >= 0 else {
            throw TiledGramError.invalidSetting(name: "cache budget", value: Double(cacheBytes), requirement: "at least 0 bytes")
        }
        self.store = store
        self.cacheBytes = cacheBytes
        var missing = 0, corrupt = 0
        for tile in store.tiles {
            do { _ = try values(of: tile) }
            catch TiledGramError.missingTile { missing += 1 }
            catch { corrupt += 1 }
        }
        guard missing == 0, corrupt == 0 else {
            throw TiledGramError.incomplete(directory: store.directory, missing: missing, corrupt: corrupt)
        }
    }

    /// N.
    public var dimension: Int { store.samples }

    /// A tile's values, from the cache or read (and verified) from disk.
    private func values(of tile: TiledGramStore.Tile) throws -> [Double] {
        lock.lock()
        if let cached = cache[tile] { lock.unlock(); return cached }
        lock.unlock()
        let values = try store.readTile(tile).values
        lock.lock()
        if cachedBytes + 8 * values.count <= cacheBytes {
            cache[tile] = values
            cachedBytes += 8 * values.count
        }
        lock.unlock()
        return values
    }

    /// Θ·X for X `N × columns`, row-major; returns `N × columns`.
    /// - Throws: ``TiledGramError/vectorShape(expected:got:)`` for a block of the wrong size or with
    ///   non-finite values; tile errors.
    public func multiply(_ x: [Double], columns: Int) throws -> [Double] {
        let n = store.samples
        guard columns >= 1, x.count == n * columns, x.allSatisfy(\.isFinite) else {
            throw TiledGramError.vectorShape(expected: n, got: x.count)
        }
        var y = [Double](repeating: 0, count: n * columns)
        try x.withUnsafeBufferPointer { xp in
            try y.withUnsafeMutableBufferPointer { yp in
                for tile in store.tiles {
                    let rows = store.range(ofBlock: tile.row), cols = store.range(ofBlock: tile.column)
                    let t = try values(of: tile)
                    t.withUnsafeBufferPointer { tp in
                        // y_R += T x_C
                        Float64GEMM.multiply(m: rows.count, n: columns, k: cols.count, a: tp.baseAddress,
                                             b: xp.baseAddress! + cols.lowerBound * columns, transposeB: false,
                                             beta: 1, c: yp.baseAddress! + rows.lowerBound * columns)
                        guard tile.row != tile.column else { return }
                        // y_C += Tᵀ x_R
                        Float64GEMM.multiply(m: cols.count, n: columns, k: rows.count, a: tp.baseAddress,
                                             b: xp.baseAddress! + rows.lowerBound * columns, transposeA: true,
                                             transposeB: false, beta: 1, c: yp.baseAddress! + cols.lowerBound * columns)
                    }
                }
            }
        }
        products += 1
        productColumns += columns
        return y
    }

    /// The `count` largest eigenpairs by `SymmetricEigen.blockKrylov(largest:dimension:settings:product:)`
    /// on ``multiply(_:columns:)``.
    /// - Parameters:
    ///   - count: how many, 1…N.
    ///   - settings: the block Krylov search's settings.
    public func topEigenpairs(_ count: Int, settings: BlockKrylovSettings = BlockKrylovSettings()) throws -> SymmetricEigen.BlockKrylovResult {
        try SymmetricEigen.blockKrylov(largest: count, dimension: store.samples, settings: settings) { block, columns in
            try multiply(block, columns: columns)
        }
    }

    /// How a conjugate-gradient solve went.
    public struct SolveResult: Sendable {
        /// A, `N × k`: (Θ + λI) A = Y.
        public let solution: Float64Matrix
        /// Iterations (products with Θ) taken.
        public let iterations: Int
        /// ‖Y − (Θ + λI) A‖ / ‖Y‖ per column at the end.
        public let relativeResiduals: [Double]
    }

    /// What ``solve(_:ridge:tolerance:maximumIterations:)`` keeps besides the tiles, in bytes: about eight
    /// `samples × columns` blocks of doubles (iterate, residual, direction, the product's input and output,
    /// the solution and its check).
    public static func solveWorkingBytes(samples: Int, columns: Int) -> Int {
        let doubles = 8 * Double(samples) * Double(columns)
        return doubles * 8 >= Double(Int.max) ? Int.max : Int(doubles * 8)
    }

    /// Solves (Θ + `ridge`·I) A = Y for every column of Y at once by conjugate gradients (one product
    /// with all unconverged columns per iteration), from A = 0, until each column's relative residual is
    /// at most `tolerance`. Θ must be positive definite (a Gram matrix of distinct inputs, or any Gram
    /// matrix with a ridge above 0).
    /// - Throws: ``TiledGramError/notConverged(iterations:worstResidual:tolerance:)`` after
    ///   `maximumIterations`; ``TiledGramError/invalidSetting(name:value:requirement:)``;
    ///   ``TiledGramError/vectorShape(expected:got:)`` for Y without N rows or with non-finite values.
    public func solve(_ y: Float64Matrix, ridge: Double = 0, tolerance: Double = 1e-10,
                      maximumIterations: Int = 10_000) throws -> SolveResult {
        let n = store.samples, k = y.columns
        guard y.rows == n, k >= 1, y.values.allSatisfy(\.isFinite) else { throw TiledGramError.vectorShape(expected: n, got: y.values.count) }
        guard ridge.isFinite, ridge >= 0 else { throw TiledGramError.invalidSetting(name: "ridge", value: ridge, requirement: "finite and at least 0") }
        guard tolerance > 0, tolerance < 1 else { throw TiledGramError.invalidSetting(name: "tolerance", value: tolerance, requirement: "in (0, 1)") }
        guard maximumIterations >= 1 else {
            throw TiledGramError.invalidSetting(name: "iteration limit", value: Double(maximumIterations), requirement: "at least 1")
        }
        func column(_ m: [Double], _ c: Int) -> [Double] { (0..<n).map { m[$0 * k + c] } }
        func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
        var x = [[Double]](repeating: [Double](repeating: 0, count: n), count: k)
        var r = (0..<k).map { column(y.values, $0) }
        let norms = r.map { dot($0, $0).squareRoot() }
        var p = r
        var rr = r.map { dot($0, $0) }
        var active = (0..<k).filter { norms[$0] > 0 }
        var iterations = 0
        while !active.isEmpty {
            guard iterations < maximumIterations else {
                let worst = active.map { rr[$0].squareRoot() / norms[$0] }.max() ?? 0
                throw TiledGramError.notConverged(iterations: iterations, worstResidual: worst, tolerance: tolerance)
            }
            iterations += 1
            var block = [Double](repeating: 0, count: n * active.count)
            for (a, c) in active.enumerated() { for i in 0..<n { block[i * active.count + a] = p[c][i] } }
            let product = try multiply(block, columns: active.count)
            for (a, c) in active.enumerated() {
                let ap = (0..<n).map { product[$0 * active.count + a] + ridge * p[c][$0] }
                let alpha = rr[c] / dot(p[c], ap)
                for i in 0..<n {
                    x[c][i] += alpha * p[c][i]
                    r[c][i] -= alpha * ap[i]
                }
                let next = dot(r[c], r[c])
                let beta = next / rr[c]
                rr[c] = next
                for i in 0..<n { p[c][i] = r[c][i] + beta * p[c][i] }
            }
            active = active.filter { rr[$0].squareRoot() > tolerance * norms[$0] }
        }
        // The true residuals of the result (the recurrence drifts slightly from them).
        var solution = Float64Matrix(rows: n, columns: k)
        for c in 0..<k { for i in 0..<n { solution[i, c] = x[c][i] } }
        let applied = try multiply(solution.values, columns: k)
        let residuals = (0..<k).map { c -> Double in
            guard norms[c] > 0 else { return 0 }
            let difference = (0..<n).map { y[$0, c] - applied[$0 * k + c] - ridge * x[c][$0] }
            return dot(difference, difference).squareRoot() / norms[c]
        }
        return SolveResult(solution: solution, iterations: iterations, relativeResiduals: residuals)
    }
}
