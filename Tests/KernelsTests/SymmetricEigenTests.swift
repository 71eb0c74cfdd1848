import Foundation
import XCTest
import Kernels

/// The LAPACKE eigensolvers against the cyclic Jacobi twin and against matrices with a known spectrum.
final class SymmetricEigenTests: XCTestCase {
    private func assertClose(_ a: [Double], _ b: [Double], tolerance: Double,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, file: file, line: line)
        for (x, y) in zip(a, b) {
            XCTAssertEqual(x, y, accuracy: tolerance, file: file, line: line)
        }
    }

    // MARK: Reference twin

    func testJacobiReferenceOnHandComputedMatrix() {
        // [[2, 1], [1, 2]] has eigenvalues 3 (vector (1, 1)/√2) and 1 (vector (1, −1)/√2).
        let d = SymmetricEigen.jacobiReference([2, 1, 1, 2], dimension: 2)
        assertClose(d.values, [3, 1], tolerance: 1e-14)
        XCTAssertEqual(abs(d[component: 0, vector: 0]), 1 / 2.0.squareRoot(), accuracy: 1e-14)
        XCTAssertEqual(d[component: 0, vector: 0] * d[component: 1, vector: 0], 0.5, accuracy: 1e-14)
        XCTAssertEqual(d[component: 0, vector: 1] * d[component: 1, vector: 1], -0.5, accuracy: 1e-14)
    }

    func testJacobiReferenceRecoversKnownSpectrum() {
        let lambda: [Double] = [9, 4, 2.5, 1, 0.5, 0.1, -0.3, -2]
        let d = SymmetricEigen.jacobiReference(SymmetricTestMatrices.withSpectrum(lambda, seed: 7), dimension: lambda.count)
        assertClose(d.values, lambda, tolerance: 1e-12)
        XCTAssertLessThan(SymmetricTestMatrices.orthonormalityError(d), 1e-12)
    }

    // MARK: Full solve

    func testFullDecompositionMatchesJacobiFloatAndDouble() throws {
        for (n, seed) in [(1, 1 as UInt64), (2, 2), (5, 3), (17, 4), (40, 5)] {
            let a = SymmetricTestMatrices.randomSymmetric(n, seed: seed)
            let reference = SymmetricEigen.jacobiReference(a, dimension: n)

            let double = try SymmetricEigen.decompose(a, dimension: n)
            assertClose(double.values, reference.values, tolerance: 1e-10)
            XCTAssertLessThan(SymmetricTestMatrices.residual(a, double), 1e-12)
            XCTAssertLessThan(SymmetricTestMatrices.orthonormalityError(double), 1e-12)
            // Eigenvectors agree with the twin up to sign (the random spectrum has no repeated eigenvalue).
            for k in 0..<n {
                let dot = zip(double.vector(k), reference.vector(k)).reduce(0) { $0 + $1.0 * $1.1 }
                XCTAssertEqual(abs(dot), 1, accuracy: 1e-8, "n = \(n), vector \(k)")
            }

            let float = try SymmetricEigen.decompose(a.map { Float($0) }, dimension: n)
            assertClose(float.values.map { Double($0) }, reference.values, tolerance: 1e-4 * Double(n))
            XCTAssertLessThan(SymmetricTestMatrices.residual(a, float), 1e-5)
            XCTAssertLessThan(SymmetricTestMatrices.orthonormalityError(float), 1e-5)
        }
    }

    func testValuesOnlyMatchFullSolve() throws {
        let n = 33
        let a = SymmetricTestMatrices.randomSymmetric(n, seed: 11)
        let full = try SymmetricEigen.decompose(a, dimension: n)
        assertClose(try SymmetricEigen.eigenvalues(a, dimension: n), full.values, tolerance: 1e-12)
        let fa = a.map { Float($0) }
        let ffull = try SymmetricEigen.decompose(fa, dimension: n)
        assertClose(try SymmetricEigen.eigenvalues(fa, dimension: n).map { Double($0) },
                    ffull.values.map { Double($0) }, tolerance: 1e-4)
    }

    func testPSDWithKnownSpectrumIsRecovered() throws {
        let n = 30
        // λ_i = 100 · 0.7^i: a decaying, strictly positive spectrum like a kernel's.
        let lambda = (0..<n).map { 100 * pow(0.7, Double($0)) }
        let a = SymmetricTestMatrices.withSpectrum(lambda, seed: 21)
        let d = try SymmetricEigen.decompose(a, dimension: n)
        assertClose(d.values, lambda, tolerance: 1e-11)
        let f = try SymmetricEigen.decompose(a.map { Float($0) }, dimension: n)
        assertClose(f.values.map { Double($0) }, lambda, tolerance: 1e-4)
    }

    func testOnlyOneTriangleIsRead() throws {
        // The row-major lower triangle holds [[2, ·], [1, 2]]; garbage above the diagonal is ignored.
        let d = try SymmetricEigen.decompose([2, 999, 1, 2] as [Double], dimension: 2)
        assertClose(d.values, [3, 1], tolerance: 1e-14)
    }

    // MARK: Partial solve

    func testTopAndBottomKEqualTheEndsOfTheFullSolve() throws {
        let n = 50
        let a = SymmetricTestMatrices.randomSymmetric(n, seed: 31)
        let full = try SymmetricEigen.decompose(a, dimension: n)
        for k in [1, 5, 20, n] {
            let top = try SymmetricEigen.decompose(a, dimension: n, selecting: .largest(k))
            XCTAssertEqual(top.count, k)
            assertClose(top.values, Array(full.values.prefix(k)), tolerance: 1e-11)
            XCTAssertLessThan(SymmetricTestMatrices.residual(a, top), 1e-12)
            for j in 0..<k {
                let dot = zip(top.vector(j), full.vector(j)).reduce(0) { $0 + $1.0 * $1.1 }
                XCTAssertEqual(abs(dot), 1, accuracy: 1e-8)
            }
            let bottom = try SymmetricEigen.decompose(a, dimension: n, selecting: .smallest(k))
            assertClose(bottom.values, Array(full.values.suffix(k)), tolerance: 1e-11)
            XCTAssertLessThan(SymmetricTestMatrices.residual(a, bottom), 1e-12)

            assertClose(try SymmetricEigen.eigenvalues(a, dimension: n, selecting: .largest(k)),
                        Array(full.values.prefix(k)), tolerance: 1e-11)
        }

        let fa = a.map { Float($0) }
        let ffull = try SymmetricEigen.decompose(fa, dimension: n)
        let ftop = try SymmetricEigen.decompose(fa, dimension: n, selecting: .largest(10))
        assertClose(ftop.values.map { Double($0) }, ffull.values.prefix(10).map { Double($0) }, tolerance: 1e-4)
        XCTAssertLessThan(SymmetricTestMatrices.residual(a, ftop), 1e-5)
        XCTAssertLessThan(SymmetricTestMatrices.orthonormalityError(ftop), 1e-5)
        let fbottomValues = try SymmetricEigen.eigenvalues(fa, dimension: n, selecting: .smallest(3))
        assertClose(fbottomValues.map { Double($0) }, ffull.values.suffix(3).map { Double($0) }, tolerance: 1e-4)
    }

    func testZeroSelectionIsEmpty() throws {
        let d = try SymmetricEigen.decompose([Float](repeating: 1, count: 9), dimension: 3, selecting: .largest(0))
        XCTAssertEqual(d.count, 0)
        XCTAssertTrue(d.vectors.isEmpty)
    }

    // MARK: Errors

    func testErrorsAreThrownWithClearMessages() {
        XCTAssertThrowsError(try SymmetricEigen.decompose([Float](repeating: 0, count: 5), dimension: 2)) { error in
            XCTAssertEqual(error as? SymmetricEigenError, .shapeMismatch(count: 5, dimension: 2))
            XCTAssertTrue("\(error)".contains("expected 2×2 = 4 entries, got 5"))
        }
        XCTAssertThrowsError(try SymmetricEigen.decompose([Float](repeating: 0, count: 4), dimension: 2,
                                                          selecting: .largest(3))) { error in
            XCTAssertEqual(error as? SymmetricEigenError, .invalidSelection(count: 3, dimension: 2))
        }
        // NaN would let LAPACK return finite garbage; it is refused with the position named.
        XCTAssertThrowsError(try SymmetricEigen.decompose([1, 1, 1, .nan] as [Float], dimension: 2)) { error in
            XCTAssertEqual(error as? SymmetricEigenError, .nonFiniteEntry(row: 1, column: 1))
            XCTAssertTrue("\(error)".contains("non-finite entry at (1, 1)"), "\(error)")
        }
        XCTAssertTrue("\(SymmetricEigenError.lapack(routine: "LAPACKE_ssyevd_work", info: 7))"
            .contains("LAPACKE_ssyevd_work failed to converge"))
    }

    // MARK: Heavy: the workspace trap at n = 3000

    /// `LAPACKE_ssyevd`'s own workspace query rounds 1 + 6n + 2n² down through a Float at n = 3000
    /// and the solve fails; the explicit `_work` sizes must not. Set TANGENT_HEAVY_TESTS=1 (and
    /// prefer `-c release`) to run it: a few seconds in release, much longer in debug.
    func testFullDecompositionAtDimension3000() throws {
        guard ProcessInfo.processInfo.environment["TANGENT_HEAVY_TESTS"] == "1" else {
            throw XCTSkip("set TANGENT_HEAVY_TESTS=1 to run the n = 3000 eigensolve")
        }
        let n = 3000
        // A Gram matrix G Gᵀ / n: PSD like a kernel; its trace equals Σλ and ‖·‖² equals Σλ².
        var rng = Xoshiro256(seed: 3000)
        let g = (0..<(n * 64)).map { _ in Float(rng.nextNormal()) }
        var a = [Float](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0...i {
                var s: Float = 0
                for p in 0..<64 { s += g[i * 64 + p] * g[j * 64 + p] }
                a[i * n + j] = s / 64
                a[j * n + i] = s / 64
            }
        }
        for i in 0..<n { a[i * n + i] += 1 }
        let start = Date()
        let d = try SymmetricEigen.decompose(a, dimension: n)
        let elapsed = Date().timeIntervalSince(start)
        print("ssyevd_work n = 3000 with vectors: \(String(format: "%.2f", elapsed)) s")
        XCTAssertEqual(d.count, n)
        var trace = 0.0, squared = 0.0
        for i in 0..<n { trace += Double(a[i * n + i]) }
        for x in a { squared += Double(x) * Double(x) }
        let sumValues = d.values.reduce(0.0) { $0 + Double($1) }
        let sumSquares = d.values.reduce(0.0) { $0 + Double($1) * Double($1) }
        XCTAssertEqual(sumValues / trace, 1, accuracy: 1e-4)
        XCTAssertEqual(sumSquares / squared, 1, accuracy: 1e-4)
        for k in 1..<n { XCTAssertGreaterThanOrEqual(d.values[k - 1], d.values[k]) }
        // Spot-check a few eigenpairs: ‖A v − λ v‖ small relative to λ_max.
        for k in [0, 1, 63, 64, n - 1] {
            let v = Array(d.vector(k))
            var r = 0.0
            for i in 0..<n {
                var s = 0.0
                for j in 0..<n { s += Double(a[i * n + j]) * Double(v[j]) }
                r += (s - Double(d.values[k]) * Double(v[i])) * (s - Double(d.values[k]) * Double(v[i]))
            }
            XCTAssertLessThan(r.squareRoot() / Double(d.values[0]), 1e-4, "eigenpair \(k)")
        }
        let top = try SymmetricEigen.decompose(a, dimension: n, selecting: .largest(20))
        for k in 0..<20 {
            XCTAssertEqual(top.values[k], d.values[k], accuracy: 1e-4 * d.values[0])
        }
    }
}
