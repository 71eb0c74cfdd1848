import Foundation
import Kernels
import XCTest

/// The block Krylov top-k eigensolver against LAPACK's full decomposition: eigenvalues, eigenspaces
/// (principal angles), the residuals it reports, the edge cases of the sizes, and its refusals.
final class BlockKrylovEigenTests: XCTestCase {
    /// A symmetric matrix with the spectrum `lambda` and a random eigenbasis (the eigenvectors of a
    /// random symmetric matrix, from LAPACK: O(n³) in BLAS rather than in Swift loops).
    func matrix(spectrum lambda: [Double], seed: UInt64) throws -> [Double] {
        let n = lambda.count
        let q = try SymmetricEigen.decompose(SymmetricTestMatrices.randomSymmetric(n, seed: seed), dimension: n).vectors
        var scaled = q
        for k in 0..<n { for i in 0..<n { scaled[k * n + i] *= lambda[k] } }
        // A = Σ_k λ_k q_k q_kᵀ = Qᵀ_rows · (Λ Q)_rows.
        var a = [Double](repeating: 0, count: n * n)
        q.withUnsafeBufferPointer { pq in
            scaled.withUnsafeBufferPointer { ps in
                a.withUnsafeMutableBufferPointer { pa in
                    Float64GEMM.multiply(m: n, n: n, k: n, a: pq.baseAddress, b: ps.baseAddress, transposeA: true,
                                         transposeB: false, c: pa.baseAddress)
                }
            }
        }
        // Exactly symmetric, as a Gram matrix would be up to rounding.
        for i in 0..<n { for j in 0..<i { a[j * n + i] = a[i * n + j] } }
        return a
    }

    /// ‖A v − λ v‖ for each eigenpair, computed directly.
    func residuals(_ a: [Double], _ d: SymmetricEigen.Decomposition<Double>) -> [Double] {
        let n = d.dimension
        return (0..<d.count).map { k in
            let v = Array(d.vector(k))
            var sum = 0.0
            for i in 0..<n {
                var s = 0.0
                for j in 0..<n { s += a[i * n + j] * v[j] }
                sum += (s - d.values[k] * v[i]) * (s - d.values[k] * v[i])
            }
            return sum.squareRoot()
        }
    }

    /// The sine of the largest principal angle between the spans of the first k rows of two
    /// orthonormal blocks (rows of length n): √(1 − σ_min²) of the k × k overlap.
    func largestAngleSine(_ a: [Double], _ b: [Double], k: Int, n: Int) throws -> Double {
        var overlap = [Double](repeating: 0, count: k * k)
        for p in 0..<k {
            for q in 0..<k {
                var s = 0.0
                for i in 0..<n { s += a[p * n + i] * b[q * n + i] }
                overlap[p * k + q] = s
            }
        }
        var gram = [Double](repeating: 0, count: k * k)
        for p in 0..<k {
            for q in 0..<k { gram[p * k + q] = (0..<k).reduce(0.0) { $0 + overlap[p * k + $1] * overlap[q * k + $1] } }
        }
        let smallest = try SymmetricEigen.eigenvalues(gram, dimension: k).last ?? 0
        return max(0, 1 - smallest).squareRoot()
    }

    /// Checks a result against LAPACK's full decomposition of the same matrix: eigenvalues to
    /// `valueTolerance` relative, the top-k eigenspace to `angleTolerance` (when the k-th eigenvalue is
    /// separated from the next), the reported residuals equal to direct ones and within the tolerance.
    func check(_ result: SymmetricEigen.BlockKrylovResult, _ a: [Double], k: Int, settings: BlockKrylovSettings,
               valueTolerance: Double = 1e-6, angleTolerance: Double? = 1e-4, _ label: String,
               file: StaticString = #filePath, line: UInt = #line) throws {
        let n = result.decomposition.dimension
        let full = try SymmetricEigen.decompose(a, dimension: n)
        let found = result.decomposition
        XCTAssertEqual(found.count, k, label, file: file, line: line)
        let scale = abs(full.values[0])
        for j in 0..<k {
            XCTAssertLessThanOrEqual(abs(found.values[j] - full.values[j]), valueTolerance * abs(full.values[j]) + 1e-12 * scale,
                                     "\(label): eigenvalue \(j + 1): \(found.values[j]) against LAPACK's \(full.values[j])",
                                     file: file, line: line)
        }
        XCTAssertEqual(found.values, found.values.sorted(by: >), label, file: file, line: line)
        let direct = residuals(a, found)
        for j in 0..<k {
            XCTAssertEqual(result.report.residualNorms[j], direct[j], accuracy: 1e-9 * scale + 1e-6 * direct[j], label, file: file, line: line)
            XCTAssertLessThanOrEqual(direct[j], max(settings.tolerance * abs(found.values[j]), 2 * Double(n) * .ulpOfOne * scale),
                                     "\(label): residual of eigenpair \(j + 1)", file: file, line: line)
        }
        XCTAssertLessThan(SymmetricTestMatrices.orthonormalityError(found), 1e-10, label, file: file, line: line)
        if let angleTolerance {
            XCTAssertLessThan(try largestAngleSine(found.vectors, full.vectors, k: k, n: n), angleTolerance,
                              "\(label): top-\(k) eigenspace", file: file, line: line)
        }
    }

    func testDecayingSpectraMatchLAPACK() throws {
        // Sizes that are not multiples of the block; exponential and power-law decay (a kernel's).
        let cases: [(n: Int, k: Int, spectrum: (Int) -> Double)] = [
            (300, 10, { exp(-Double($0) / 10) }),
            (257, 37, { pow(Double($0 + 1), -1.5) }),
            (173, 1, { 1 / Double($0 + 1) }),
        ]
        for (index, c) in cases.enumerated() {
            let a = try matrix(spectrum: (0..<c.n).map(c.spectrum), seed: UInt64(10 + index))
            for settings in [BlockKrylovSettings(), BlockKrylovSettings(oversampling: 3, depth: 1),
                             BlockKrylovSettings(oversampling: 7, depth: 2, tolerance: 1e-9)] {
                let result = try SymmetricEigen.blockKrylov(largest: c.k, of: a, dimension: c.n, settings: settings)
                try check(result, a, k: c.k, settings: settings, "n \(c.n), k \(c.k), \(settings)")
                // Far fewer products than a dense solve's n vectors, and more than one cycle's worth
                // for a slow spectrum (the restarts are exercised).
                XCTAssertLessThan(result.report.productColumns, 20 * c.n, "n \(c.n), k \(c.k), \(settings)")
            }
        }
    }

    func testTheClosureAndTheMatrixGiveTheSameBits() throws {
        let n = 211, k = 12
        let a = try matrix(spectrum: (0..<n).map { pow(Double($0 + 1), -1.2) }, seed: 3)
        let direct = try SymmetricEigen.blockKrylov(largest: k, of: a, dimension: n)
        var calls = 0
        let viaClosure = try SymmetricEigen.blockKrylov(largest: k, dimension: n) { block, columns in
            calls += 1
            // A product computed by hand, row by row: a stand-in for a kernel applied in blocks.
            var out = [Double](repeating: 0, count: n * columns)
            a.withUnsafeBufferPointer { pa in
                block.withUnsafeBufferPointer { pb in
                    out.withUnsafeMutableBufferPointer { po in
                        Float64GEMM.multiply(m: n, n: columns, k: n, a: pa.baseAddress, b: pb.baseAddress,
                                             transposeB: false, c: po.baseAddress)
                    }
                }
            }
            return out
        }
        XCTAssertEqual(direct.decomposition.values, viaClosure.decomposition.values)
        XCTAssertEqual(direct.decomposition.vectors, viaClosure.decomposition.vectors)
        XCTAssertEqual(direct.report.productColumns, viaClosure.report.productColumns)
        XCTAssertGreaterThan(calls, 1)
        // Another seed: a different start, the same eigenpairs to the tolerance.
        let other = try SymmetricEigen.blockKrylov(largest: k, of: a, dimension: n, settings: BlockKrylovSettings(seed: 99))
        XCTAssertNotEqual(other.decomposition.vectors, direct.decomposition.vectors)
        try check(other, a, k: k, settings: BlockKrylovSettings(), "seed 99")
    }

    func testEdgeCasesOfTheSizes() throws {
        // 1 × 1.
        let one = try SymmetricEigen.blockKrylov(largest: 1, of: [-2.5], dimension: 1)
        XCTAssertEqual(one.decomposition.values, [-2.5])
        XCTAssertEqual(abs(one.decomposition.vectors[0]), 1, accuracy: 1e-15)
        // k = n: the block is all of Rⁿ, one exact Rayleigh–Ritz step.
        let n = 23
        let a = try matrix(spectrum: (0..<n).map { 3 - Double($0) * 0.25 }, seed: 5)
        let all = try SymmetricEigen.blockKrylov(largest: n, of: a, dimension: n)
        try check(all, a, k: n, settings: BlockKrylovSettings(), valueTolerance: 1e-12, angleTolerance: nil, "k = n")
        XCTAssertEqual(all.report.cycles, 1)
        XCTAssertEqual(all.report.productColumns, n)
        // A basis that would outgrow n: capped at n, the last Krylov block cut short.
        let b = try matrix(spectrum: (0..<50).map { pow(0.8, Double($0)) }, seed: 6)
        let settings = BlockKrylovSettings(oversampling: 10, depth: 4)
        XCTAssertEqual(settings.basisSize(count: 7, dimension: 50), 50)
        let capped = try SymmetricEigen.blockKrylov(largest: 7, of: b, dimension: 50, settings: settings)
        try check(capped, b, k: 7, settings: settings, valueTolerance: 1e-12, "basis capped at n")
        XCTAssertEqual(capped.report.productColumns, 50)
        // A block that does not divide the basis: 8 vectors, depth 2, n = 97.
        let c = try matrix(spectrum: (0..<97).map { 1 / Double($0 + 1) }, seed: 7)
        let odd = BlockKrylovSettings(oversampling: 3, depth: 2)
        try check(try SymmetricEigen.blockKrylov(largest: 5, of: c, dimension: 97, settings: odd), c, k: 5,
                  settings: odd, "block 8, depth 2")
    }

    func testAnOperatorLargerThanADenseDecompositionCanTakeIsSolved() throws {
        // n = 60,000 (the MNIST training set) is beyond a dense LAPACK solve (32,000), but the search only
        // hands LAPACK n × block panels. A diagonal operator: its largest eigenvalues are known exactly.
        let n = 60_000
        let diagonal = (0..<n).map { i in i < 3 ? 10 - Double(i) : 1 / Double(i) }
        let result = try SymmetricEigen.blockKrylov(largest: 3, dimension: n) { x, columns in
            var y = x
            for row in 0..<n { for column in 0..<columns { y[row * columns + column] *= diagonal[row] } }
            return y
        }
        for (value, expected) in zip(result.decomposition.values, [10.0, 9, 8]) {
            XCTAssertEqual(value, expected, accuracy: 1e-9)
        }
        // Beyond n × block > 2³¹ − 1 it is refused up front, naming the limit.
        XCTAssertThrowsError(try SymmetricEigen.blockKrylov(largest: 3, dimension: 1 << 28) { x, _ in x }) { error in
            XCTAssertTrue("\(error)".contains("exceeds the supported maximum"), "\(error)")
        }
    }

    func testIndefiniteMatricesGiveTheAlgebraicallyLargest() throws {
        // Large negative eigenvalues dominate |λ|; the solver must still return the largest λ.
        var spectrum = [-50.0, -40, -30, 10, 9, 8]
        spectrum += (0..<114).map { 0.5 * sin(Double($0)) }
        let a = try matrix(spectrum: spectrum, seed: 8)
        for settings in [BlockKrylovSettings(), BlockKrylovSettings(depth: 1)] {
            let result = try SymmetricEigen.blockKrylov(largest: 3, of: a, dimension: spectrum.count, settings: settings)
            XCTAssertEqual(result.decomposition.values[0], 10, accuracy: 1e-8)
            XCTAssertEqual(result.decomposition.values[2], 8, accuracy: 1e-8)
            try check(result, a, k: 3, settings: settings, "indefinite, \(settings)")
        }
    }

    func testRepeatedRankDeficientAndZeroMatrices() throws {
        // A triple top eigenvalue: any two vectors of its eigenspace are right.
        let repeated = try matrix(spectrum: [4, 4, 4, 2] + (0..<56).map { 1 / Double($0 + 2) }, seed: 9)
        let top = try SymmetricEigen.blockKrylov(largest: 2, of: repeated, dimension: 60)
        try check(top, repeated, k: 2, settings: BlockKrylovSettings(), angleTolerance: nil, "repeated")
        XCTAssertEqual(top.decomposition.values[1], 4, accuracy: 1e-9)
        // Rank 2 with k = 5 and blocks of 15: the Krylov blocks run out of directions after the first
        // product, and random ones fill in; the zero eigenvalues come out at rounding level.
        let lowRank = try matrix(spectrum: [6, 1.5] + [Double](repeating: 0, count: 98), seed: 10)
        let low = try SymmetricEigen.blockKrylov(largest: 5, of: lowRank, dimension: 100)
        try check(low, lowRank, k: 5, settings: BlockKrylovSettings(), angleTolerance: nil, "rank 2")
        XCTAssertLessThan(abs(low.decomposition.values[4]), 1e-12)
        let zero = try SymmetricEigen.blockKrylov(largest: 3, of: [Double](repeating: 0, count: 40 * 40), dimension: 40)
        XCTAssertEqual(zero.decomposition.values, [0, 0, 0])
        XCTAssertLessThan(SymmetricTestMatrices.orthonormalityError(zero.decomposition), 1e-12)
    }

    func testBadInputIsRefusedWithClearErrors() throws {
        let a = try matrix(spectrum: (0..<20).map { 1 / Double($0 + 1) }, seed: 11)
        func expect(_ error: SymmetricEigenError, mentioning text: String, _ body: () throws -> Void, line: UInt = #line) {
            XCTAssertThrowsError(try body(), line: line) { thrown in
                XCTAssertEqual(thrown as? SymmetricEigenError, error, line: line)
                XCTAssertTrue("\(thrown)".contains(text), "\(thrown)", line: line)
            }
        }
        expect(.invalidSelection(count: 0, dimension: 20), mentioning: "cannot select 0") {
            _ = try SymmetricEigen.blockKrylov(largest: 0, of: a, dimension: 20)
        }
        expect(.invalidSelection(count: 21, dimension: 20), mentioning: "20×20") {
            _ = try SymmetricEigen.blockKrylov(largest: 21, of: a, dimension: 20)
        }
        expect(.shapeMismatch(count: 400, dimension: 19), mentioning: "expected 19×19") {
            _ = try SymmetricEigen.blockKrylov(largest: 2, of: a, dimension: 19)
        }
        var bad = a
        bad[3 * 20 + 7] = .nan
        expect(.nonFiniteEntry(row: 3, column: 7), mentioning: "non-finite entry at (3, 7)") {
            _ = try SymmetricEigen.blockKrylov(largest: 2, of: bad, dimension: 20)
        }
        bad = a
        bad[5 * 20 + 2] += 1e-3
        expect(.notSymmetric(row: 5, column: 2, difference: abs(bad[5 * 20 + 2] - bad[2 * 20 + 5])), mentioning: "not symmetric") {
            _ = try SymmetricEigen.blockKrylov(largest: 2, of: bad, dimension: 20)
        }
        expect(.invalidSetting(name: "depth", value: 0, requirement: "at least 1"), mentioning: "depth") {
            _ = try SymmetricEigen.blockKrylov(largest: 2, of: a, dimension: 20, settings: BlockKrylovSettings(depth: 0))
        }
        expect(.invalidSetting(name: "tolerance", value: 0, requirement: "in (0, 1)"), mentioning: "tolerance") {
            _ = try SymmetricEigen.blockKrylov(largest: 2, of: a, dimension: 20, settings: BlockKrylovSettings(tolerance: 0))
        }
        expect(.invalidSetting(name: "oversampling", value: -1, requirement: "at least 0"), mentioning: "oversampling") {
            _ = try SymmetricEigen.blockKrylov(largest: 2, of: a, dimension: 20, settings: BlockKrylovSettings(oversampling: -1))
        }
        expect(.invalidSetting(name: "maximum cycles", value: 0, requirement: "at least 1"), mentioning: "cycles") {
            _ = try SymmetricEigen.blockKrylov(largest: 2, of: a, dimension: 20, settings: BlockKrylovSettings(maximumCycles: 0))
        }
        expect(.productShape(expected: 20 * 12, got: 5), mentioning: "returned 5 values") {
            _ = try SymmetricEigen.blockKrylov(largest: 2, dimension: 20) { _, _ in [1, 2, 3, 4, 5] }
        }
        expect(.nonFiniteProduct(row: 0, column: 0), mentioning: "non-finite value") {
            _ = try SymmetricEigen.blockKrylov(largest: 2, dimension: 20) { x, _ in x.map { _ in .infinity } }
        }
        // The product's own errors pass through unchanged.
        struct Refused: Error, Equatable {}
        XCTAssertThrowsError(try SymmetricEigen.blockKrylov(largest: 2, dimension: 20) { _, _ in throw Refused() }) {
            XCTAssertEqual($0 as? Refused, Refused())
        }
    }

    func testASlowSpectrumWithoutEnoughCyclesIsReportedNotReturned() throws {
        let n = 400
        let a = try matrix(spectrum: (0..<n).map { 1 / Double($0 + 1).squareRoot() }, seed: 12)
        let settings = BlockKrylovSettings(oversampling: 0, depth: 1, tolerance: 1e-10, maximumCycles: 2)
        XCTAssertThrowsError(try SymmetricEigen.blockKrylov(largest: 20, of: a, dimension: n, settings: settings)) { error in
            guard case let .notConverged(requested, converged, cycles, worst, tolerance)? = error as? SymmetricEigenError else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(requested, 20)
            XCTAssertLessThan(converged, 20)
            XCTAssertEqual(cycles, 2)
            XCTAssertGreaterThan(worst, 1e-10)
            XCTAssertEqual(tolerance, 1e-10)
            XCTAssertTrue("\(error)".contains("after 2 cycles"), "\(error)")
        }
    }

    func testFloat64GEMMMatchesTheNaiveProductInEveryLayout() {
        var rng = Xoshiro256(seed: 4)
        // Shapes that split by rows (m ≥ n), by columns (m < n) and not at all, with odd sizes.
        for (m, n, k) in [(5, 3, 4), (300, 17, 33), (9, 700, 130), (130, 129, 1)] {
            for transposeA in [false, true] {
                for transposeB in [false, true] {
                    let a = (0..<(m * k)).map { _ in rng.nextNormal() }, b = (0..<(k * n)).map { _ in rng.nextNormal() }
                    let c0 = (0..<(m * n)).map { _ in rng.nextNormal() }
                    var c = c0
                    a.withUnsafeBufferPointer { pa in
                        b.withUnsafeBufferPointer { pb in
                            c.withUnsafeMutableBufferPointer { pc in
                                Float64GEMM.multiply(m: m, n: n, k: k, alpha: -0.5, a: pa.baseAddress, b: pb.baseAddress,
                                                     transposeA: transposeA, transposeB: transposeB, beta: 2,
                                                     c: pc.baseAddress)
                            }
                        }
                    }
                    var worst = 0.0
                    for i in 0..<m {
                        for j in 0..<n {
                            var s = 0.0
                            for p in 0..<k {
                                s += (transposeA ? a[p * m + i] : a[i * k + p]) * (transposeB ? b[j * k + p] : b[p * n + j])
                            }
                            worst = max(worst, abs(c[i * n + j] - (-0.5 * s + 2 * c0[i * n + j])))
                        }
                    }
                    XCTAssertLessThan(worst, 1e-11, "m \(m) n \(n) k \(k) transposeA \(transposeA) transposeB \(transposeB)")
                }
            }
        }
    }
}
