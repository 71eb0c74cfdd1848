import Foundation
import Kernels
import NTK
import XCTest

/// Kernel metrics of PAPER.md Section 5 on hand-computed cases and matrices with a known spectrum.
final class KernelMetricsTests: XCTestCase {
    // MARK: Helpers

    private func kernel(_ rows: [[Float]]) -> KernelMatrix {
        KernelMatrix(n: rows.count, values: rows.flatMap { $0 })
    }

    /// Q diag(λ) Qᵀ with Q a random orthogonal matrix from Gram–Schmidt on Gaussian columns.
    private func withSpectrum(_ lambda: [Double], seed: UInt64) -> KernelMatrix {
        let n = lambda.count
        var rng = Xoshiro256(seed: seed)
        var columns: [[Double]] = []
        while columns.count < n {
            var v = (0..<n).map { _ in rng.nextNormal() }
            for _ in 0..<2 {
                for q in columns {
                    let d = zip(q, v).reduce(0) { $0 + $1.0 * $1.1 }
                    for i in 0..<n { v[i] -= d * q[i] }
                }
            }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            if norm > 1e-8 { columns.append(v.map { $0 / norm }) }
        }
        var values = [Float](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0..<n {
                var s = 0.0
                for k in 0..<n { s += columns[k][i] * lambda[k] * columns[k][j] }
                values[i * n + j] = Float(s)
            }
        }
        return KernelMatrix(n: n, values: values)
    }

    private func randomPSD(_ n: Int, rank: Int, seed: UInt64) -> KernelMatrix {
        var rng = Xoshiro256(seed: seed)
        let g = (0..<(n * rank)).map { _ in rng.nextNormal() }
        var values = [Float](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<rank { s += g[i * rank + p] * g[j * rank + p] }
                values[i * n + j] = Float(s)
            }
        }
        return KernelMatrix(n: n, values: values)
    }

    private func assertClose(_ a: KernelMatrix, _ b: KernelMatrix, relative: Double,
                             file: StaticString = #filePath, line: UInt = #line) throws {
        let error = try KernelMetrics.differenceNorm(a, b) / max(b.frobeniusNorm, 1e-30)
        XCTAssertLessThan(error, relative, file: file, line: line)
    }

    // MARK: KernelMatrix

    func testKernelMatrixBasics() throws {
        // A = [[1, 2], [2, 3]]: trace 1 + 3 = 4; ‖A‖² = 1 + 4 + 4 + 9 = 18, ‖A‖ = 3√2 ≈ 4.2426406871.
        var a = kernel([[1, 2], [2, 3]])
        XCTAssertEqual(a.n, 2)
        XCTAssertEqual(a[0, 1], 2)
        XCTAssertEqual(a.trace, 4)
        XCTAssertEqual(a.squaredFrobeniusNorm, 18)
        XCTAssertEqual(a.frobeniusNorm, 4.2426406871, accuracy: 1e-9)
        XCTAssertEqual(a.relativeAsymmetry, 0)
        a[0, 1] = 2.3
        XCTAssertEqual(a.relativeAsymmetry, 0.1, accuracy: 1e-6)

        // Full kernel, N = 2 samples, C = 2 classes, sample-major: row i·C + c.
        let full = KernelMatrix(full: (0..<16).map { Float($0) }, samples: 2, classes: 2)
        XCTAssertTrue(full.isFull)
        XCTAssertEqual(full.n, 4)
        // (sample 1, class 0) is row 2; (sample 0, class 1) is column 1 → 2·4 + 1 = 9.
        XCTAssertEqual(full[sample: 1, class: 0, sample: 0, class: 1], 9)
        let traced = KernelMatrix(traced: [1, 0, 0, 1], samples: 2)
        XCTAssertFalse(traced.isFull)
        XCTAssertEqual(traced.sampleCount, 2)
    }

    func testNormAccumulatesInDouble() throws {
        // 10⁷ entries of 0.1f: Float accumulation would drift by percents; Double stays within ~1e-9 of n²·(0.1f)².
        let n = 3163
        let k = KernelMatrix(n: n, values: [Float](repeating: 0.1, count: n * n))
        let exact = Double(n * n) * Double(Float(0.1)) * Double(Float(0.1))
        XCTAssertEqual(k.squaredFrobeniusNorm / exact, 1, accuracy: 1e-9)
        XCTAssertEqual(k.trace, Double(n) * Double(Float(0.1)), accuracy: 1e-9)
    }

    // MARK: Similarity and distance

    func testHandComputedSimilarity2x2() throws {
        // A = [[1, 2], [2, 3]], B = [[2, 0], [0, 1]].
        // ⟨A, B⟩ = 1·2 + 3·1 = 5; ‖A‖ = √18, ‖B‖ = √5;
        // sim = 5 / √90 = 5 / (3√10) ≈ 0.5270462767; d = 1 − sim ≈ 0.4729537233.
        let a = kernel([[1, 2], [2, 3]]), b = kernel([[2, 0], [0, 1]])
        XCTAssertEqual(try KernelMetrics.innerProduct(a, b), 5)
        XCTAssertEqual(try KernelMetrics.similarity(a, b), 0.5270462767, accuracy: 1e-9)
        XCTAssertEqual(try KernelMetrics.distance(a, b), 0.4729537233, accuracy: 1e-9)
        XCTAssertEqual(KernelMetrics.magnitude(a), 4.2426406871, accuracy: 1e-9)
    }

    func testHandComputedSimilarity3x3() throws {
        // I₃ and J₃ (all ones): ⟨I, J⟩ = 3, ‖I‖ = √3, ‖J‖ = 3 → sim = 1/√3 ≈ 0.5773502692,
        // angle = arccos(1/√3) ≈ 0.9553166181 rad; ‖J − I‖ = √6 ≈ 2.4494897428.
        let i3 = kernel([[1, 0, 0], [0, 1, 0], [0, 0, 1]])
        let j3 = kernel([[1, 1, 1], [1, 1, 1], [1, 1, 1]])
        XCTAssertEqual(try KernelMetrics.similarity(i3, j3), 0.5773502692, accuracy: 1e-9)
        XCTAssertEqual(try KernelMetrics.angle(j3, i3), 0.9553166181, accuracy: 1e-9)
        XCTAssertEqual(try KernelMetrics.differenceNorm(j3, i3), 2.4494897428, accuracy: 1e-9)
    }

    func testSimilarityIsScaleInvariantAndDistanceSymmetric() throws {
        let a = randomPSD(12, rank: 5, seed: 1), b = randomPSD(12, rank: 7, seed: 2)
        var scaled = a
        scaled.values = a.values.map { $0 * 37.5 }
        XCTAssertEqual(try KernelMetrics.similarity(a, scaled), 1, accuracy: 1e-7)
        XCTAssertEqual(try KernelMetrics.distance(a, scaled), 0, accuracy: 1e-7)
        XCTAssertEqual(try KernelMetrics.angle(a, a), 0, accuracy: 1e-3)
        XCTAssertEqual(try KernelMetrics.distance(a, b), try KernelMetrics.distance(b, a))
        XCTAssertGreaterThan(try KernelMetrics.distance(a, b), 0)
        XCTAssertTrue(try KernelMetrics.similarity(a, KernelMatrix(n: 12, values: .init(repeating: 0, count: 144))).isNaN)
    }

    /// Kernels of different sizes (one read from a damaged file, say) are an error naming both sizes,
    /// from every metric that compares two kernels.
    func testKernelsOfDifferentSizesAreAnErrorNotATrap() throws {
        let a = randomPSD(4, rank: 2, seed: 3), b = randomPSD(5, rank: 2, seed: 4)
        let comparisons: [(String, () throws -> Any)] = [
            ("innerProduct", { try KernelMetrics.innerProduct(a, b) }), ("similarity", { try KernelMetrics.similarity(a, b) }),
            ("distance", { try KernelMetrics.distance(a, b) }), ("angle", { try KernelMetrics.angle(a, b) }),
            ("differenceNorm", { try KernelMetrics.differenceNorm(a, b) }),
            ("allPairsDistance", { try KernelMetrics.allPairsDistance([a, a, b]) }),
            ("polarDynamics", { try KernelMetrics.polarDynamics([a, b]) }),
        ]
        for (name, compare) in comparisons {
            XCTAssertThrowsError(try compare(), name) { error in
                guard case .kernelSizesDiffer(let n, let m)? = error as? NTKError else { return XCTFail("\(name): \(error)") }
                XCTAssertEqual(Set([n, m]), [4, 5], name)
                XCTAssertTrue("\(error)".contains("4×4") && "\(error)".contains("5×5"), "\(error)")
            }
        }
    }

    func testAllPairsDistanceInMemoryAndStreamingAgree() throws {
        let kernels = (0..<7).map { randomPSD(10, rank: 3 + $0 % 3, seed: UInt64(10 + $0)) }
        let d = try KernelMetrics.allPairsDistance(kernels)
        XCTAssertEqual(d.count, 7)
        for s in 0..<7 {
            XCTAssertEqual(d[s][s], 0)
            for t in 0..<7 {
                XCTAssertEqual(d[s][t], d[t][s])
                XCTAssertEqual(d[s][t], try KernelMetrics.distance(kernels[s], kernels[t]), accuracy: 1e-12)
            }
        }
        for blockSize in [1, 2, 3, 7, 20] {
            var loads = [Int](repeating: 0, count: 7)
            let streamed = try KernelMetrics.allPairsDistance(count: 7, blockSize: blockSize) { t in
                loads[t] += 1
                return kernels[t]
            }
            XCTAssertEqual(streamed, d, "blockSize \(blockSize)")
            let blocks = (7 + blockSize - 1) / blockSize
            XCTAssertLessThanOrEqual(loads.max()!, blocks)
        }
        XCTAssertEqual(try KernelMetrics.allPairsDistance([]), [])
    }

    // MARK: Polar dynamics

    func testHandComputedPolarDynamics() throws {
        // K₀ = I₂, K₁ = J₂ (all ones), K₂ = 2J₂.
        // ‖K₁ − K₀‖ = ‖[[0,1],[1,0]]‖ = √2; ‖K₂ − K₀‖ = ‖[[1,2],[2,1]]‖ = √10 → radius₁ = 1/√5 ≈ 0.4472135955.
        // sim(J, I) = 2 / (2·√2) = 1/√2 → angle π/4 ≈ 0.7853981634; 2J has the same angle.
        let k0 = kernel([[1, 0], [0, 1]]), k1 = kernel([[1, 1], [1, 1]]), k2 = kernel([[2, 2], [2, 2]])
        let polar = try KernelMetrics.polarDynamics([k0, k1, k2])
        XCTAssertEqual(polar.count, 3)
        XCTAssertEqual(polar[0].radius, 0)
        XCTAssertEqual(polar[0].angle, 0, accuracy: 1e-7)
        XCTAssertEqual(polar[1].radius, 0.4472135955, accuracy: 1e-9)
        XCTAssertEqual(polar[1].angle, 0.7853981634, accuracy: 1e-9)
        XCTAssertEqual(polar[2].radius, 1)
        XCTAssertEqual(polar[2].angle, 0.7853981634, accuracy: 1e-9)
    }

    func testPolarEndpointsOnRandomKernels() throws {
        let kernels = (0..<6).map { randomPSD(15, rank: 6, seed: UInt64(100 + $0)) }
        let polar = try KernelMetrics.polarDynamics(kernels)
        XCTAssertEqual(polar.first!.radius, 0)
        XCTAssertEqual(polar.first!.angle, 0, accuracy: 1e-3) // arccos near 1 amplifies rounding: √(2·1e-7)
        XCTAssertEqual(polar.last!.radius, 1)
        for p in polar { XCTAssertTrue(p.radius.isFinite && p.angle >= 0 && p.angle <= .pi) }

        // Streaming loads K₀ and K_T once each, the rest once.
        var loads = [Int](repeating: 0, count: 6)
        let streamed = try KernelMetrics.polarDynamics(count: 6) { t in loads[t] += 1; return kernels[t] }
        XCTAssertEqual(streamed, polar)
        XCTAssertEqual(loads, [1, 1, 1, 1, 1, 1])

        // From recorded displacements and angles.
        let recorded = KernelMetrics.polarDynamics(
            displacements: try kernels.map { try KernelMetrics.differenceNorm($0, kernels[0]) },
            angles: try kernels.map { try KernelMetrics.angle($0, kernels[0]) })
        XCTAssertEqual(recorded, polar)

        // A kernel that never moves.
        let still = try KernelMetrics.polarDynamics([kernels[0], kernels[0]])
        XCTAssertEqual(still.map(\.radius), [0, 0])
    }

    // MARK: Spectral truncation

    func testHandComputedTruncation() throws {
        // [[2, 1], [1, 2]] = 3·u uᵀ + 1·w wᵀ with u = (1, 1)/√2, w = (1, −1)/√2:
        // top(1) = 3/2 · [[1, 1], [1, 1]], bottom(1) = 1/2 · [[1, −1], [−1, 1]].
        let a = kernel([[2, 1], [1, 2]])
        try assertClose(try KernelMetrics.truncate(a, to: .top(1)), kernel([[1.5, 1.5], [1.5, 1.5]]), relative: 1e-6)
        try assertClose(try KernelMetrics.truncate(a, to: .bottom(1)), kernel([[0.5, -0.5], [-0.5, 0.5]]), relative: 1e-6)
        XCTAssertEqual(try KernelMetrics.truncate(a, to: .top(2)), a)
        XCTAssertEqual(try KernelMetrics.truncate(a, to: .top(0)).frobeniusNorm, 0)
        XCTAssertThrowsError(try KernelMetrics.truncate(a, to: .top(3)))
    }

    func testTruncationOfLowRankMatrixReturnsTheMatrix() throws {
        let n = 24, r = 5
        let low = randomPSD(n, rank: r, seed: 7)
        for k in [r, r + 3, 13, 20] {
            try assertClose(try KernelMetrics.truncate(low, to: .top(k)), low, relative: 1e-5)
        }
        // The complement of the top r is (numerically) zero.
        let bottom = try KernelMetrics.truncate(low, to: .bottom(n - r))
        XCTAssertLessThan(bottom.frobeniusNorm / low.frobeniusNorm, 1e-5)
    }

    func testTopAndBottomPartsAddUpAndMatchTheSpectrum() throws {
        let lambda: [Double] = (0..<16).map { 10 * pow(0.6, Double($0)) }
        let k = withSpectrum(lambda, seed: 3)
        for split in [1, 4, 8, 11, 15] {
            let top = try KernelMetrics.truncate(k, to: .top(split))
            let bottom = try KernelMetrics.truncate(k, to: .bottom(16 - split))
            var sum = top
            for i in 0..<sum.values.count { sum.values[i] += bottom.values[i] }
            try assertClose(sum, k, relative: 1e-5)
            // ‖top(k)‖² = Σ_{i<k} λ_i².
            let expected = lambda.prefix(split).reduce(0) { $0 + $1 * $1 }.squareRoot()
            XCTAssertEqual(top.frobeniusNorm / expected, 1, accuracy: 1e-5)
        }
        // Truncated polar dynamics: endpoints still 0 and 1.
        let kernels = (0..<4).map { randomPSD(16, rank: 8, seed: UInt64(50 + $0)) }
        for part in [KernelMetrics.SpectralPart.top(3), .bottom(13)] {
            let polar = try KernelMetrics.polarDynamics(kernels, truncation: part)
            XCTAssertEqual(polar.first!.radius, 0)
            XCTAssertEqual(polar.last!.radius, 1)
            let truncated = try kernels.map { try KernelMetrics.truncate($0, to: part) }
            let direct = try KernelMetrics.polarDynamics(truncated)
            for (p, q) in zip(polar, direct) {
                XCTAssertEqual(p.radius, q.radius, accuracy: 1e-12)
                XCTAssertEqual(p.angle, q.angle, accuracy: 1e-12)
            }
        }
    }

    // MARK: Concentration and summary

    func testConcentrationOnKnownSpectrum() throws {
        // λ = 8, 4, 2, 1, 0.5, …: mass_1 = 64/Σλ², mass_3 = (64 + 16 + 4)/Σλ².
        let lambda: [Double] = (0..<30).map { 8 * pow(0.5, Double($0)) }
        let k = withSpectrum(lambda, seed: 9)
        let total = lambda.reduce(0) { $0 + $1 * $1 }
        let mass = try KernelMetrics.concentration(k, ranks: [1, 3, 10, 20, 40])
        XCTAssertEqual(mass[0], 64 / total, accuracy: 1e-5)
        XCTAssertEqual(mass[1], 84 / total, accuracy: 1e-5)
        XCTAssertEqual(mass[2], lambda.prefix(10).reduce(0) { $0 + $1 * $1 } / total, accuracy: 1e-5)
        XCTAssertEqual(mass[3], lambda.prefix(20).reduce(0) { $0 + $1 * $1 } / total, accuracy: 1e-5)
        XCTAssertEqual(mass[4], 1, accuracy: 1e-5)

        let summary = try KernelMetrics.spectralSummary(k, topCount: 5)
        XCTAssertEqual(summary.ranks, [10, 20])
        XCTAssertEqual(summary.topEigenvalues.count, 5)
        for (x, y) in zip(summary.topEigenvalues, lambda) { XCTAssertEqual(x, y, accuracy: 1e-5) }
        XCTAssertEqual(summary.magnitude, total.squareRoot(), accuracy: 1e-5)
        XCTAssertEqual(summary.mass(at: 10)!, mass[2], accuracy: 1e-5)
        XCTAssertNil(summary.mass(at: 7))

        XCTAssertEqual(KernelMetrics.concentration(topEigenvalues: [3, 1], squaredFrobeniusNorm: 10, ranks: [1, 2]),
                       [0.9, 1.0])
    }

    func testTopEigenspaceReusesOneSolve() throws {
        let lambda: [Double] = (0..<25).map { 6 * pow(0.7, Double($0)) }
        let k = withSpectrum(lambda, seed: 12)
        let space = try KernelMetrics.topEigenspace(k, count: 8)
        XCTAssertEqual(space.count, 8)
        let summary = space.summary(topCount: 5, ranks: [3, 8])
        let direct = try KernelMetrics.spectralSummary(k, topCount: 5, ranks: [3, 8])
        XCTAssertEqual(summary.magnitude, direct.magnitude, accuracy: 1e-9)
        for (a, b) in zip(summary.topEigenvalues + summary.concentration, direct.topEigenvalues + direct.concentration) {
            XCTAssertEqual(a, b, accuracy: 1e-5)
        }
        for part in [KernelMetrics.SpectralPart.top(8), .top(3), .bottom(17), .bottom(22)] {
            let fromSpace = try XCTUnwrap(space.truncation(part))
            try assertClose(fromSpace, try KernelMetrics.truncate(k, to: part), relative: 1e-5)
        }
        XCTAssertNil(space.truncation(.top(9)))
        XCTAssertNil(space.truncation(.bottom(10)))
    }

    /// A kernel of side n with a spectrum like an NTK's: G·Gᵀ with G's columns scaled by `decay^j`
    /// (plus a flat tail when `decay` is 1), built by GEMM.
    private func gramOfScaledColumns(_ n: Int, columns r: Int, decay: Double, seed: UInt64) -> KernelMatrix {
        var rng = Xoshiro256(seed: seed)
        var g = [Float](repeating: 0, count: n * r)
        for i in 0..<n { for j in 0..<r { g[i * r + j] = Float(rng.nextNormal() * pow(decay, Double(j))) } }
        var values = [Float](repeating: 0, count: n * n)
        g.withUnsafeBufferPointer { a in
            values.withUnsafeMutableBufferPointer { c in
                sgemm(transposeB: true, m: n, n: n, k: r, a: a.baseAddress!, lda: r, b: a.baseAddress!, ldb: r,
                      c: c.baseAddress!, ldc: n)
            }
        }
        return KernelMatrix(n: n, values: values)
    }

    /// The tracker's leading eigenvalues of a wide kernel come from block Krylov and agree with the
    /// complete LAPACK decomposition (`ssyevd`) to 1e-4 relative — with a decaying spectrum like an NTK's
    /// and with a nearly flat one (a Wishart matrix, the hardest case for a Krylov search).
    func testTopEigenvaluesOfAWideKernelMatchTheCompleteDecomposition() throws {
        let n = 1200
        XCTAssertTrue(KernelMetrics.usesBlockKrylov(count: 20, dimension: n))
        XCTAssertFalse(KernelMetrics.usesBlockKrylov(count: 20, dimension: 300))
        XCTAssertFalse(KernelMetrics.usesBlockKrylov(count: 100, dimension: n))
        for (decay, columns) in [(0.97, 400), (1.0, 2400)] {
            let k = gramOfScaledColumns(n, columns: columns, decay: decay, seed: 31)
            let krylov = try KernelMetrics.blockKrylovEigenvalues(k, count: 20)
            let top = try KernelMetrics.topEigenvalues(k, count: 20)
            let complete = try SymmetricEigen.eigenvalues(k.values, dimension: n).prefix(20).map { Double($0) }
            XCTAssertEqual(top, krylov, "decay \(decay): topEigenvalues takes the block Krylov result")
            for (i, (a, b)) in zip(krylov, complete).enumerated() {
                XCTAssertEqual(a, b, accuracy: 1e-4 * b, "decay \(decay), eigenvalue \(i + 1)")
            }
        }
    }

    // MARK: Heavy: the paper's size (NC = 3000)

    /// Truncation, concentration and polar dynamics at n = 3000 (the MNIST full kernel, N = 300, C = 10).
    /// Set TANGENT_HEAVY_TESTS=1 and prefer `-c release`.
    func testMetricsAtPaperSize() throws {
        guard ProcessInfo.processInfo.environment["TANGENT_HEAVY_TESTS"] == "1" else {
            throw XCTSkip("set TANGENT_HEAVY_TESTS=1 to run the n = 3000 metrics")
        }
        let n = 3000, rank = 40
        func timed<T>(_ what: String, _ body: () throws -> T) rethrows -> T {
            let start = Date()
            let result = try body()
            print("\(what): \(String(format: "%.3f", Date().timeIntervalSince(start))) s")
            return result
        }
        let k0 = timed("build K0") { randomPSD(n, rank: rank, seed: 1) }
        var k1 = k0
        let extra = randomPSD(n, rank: 4, seed: 2)
        for i in 0..<(n * n) { k1.values[i] = 1.5 * k0.values[i] + extra.values[i] }

        let summary = try timed("spectralSummary (top 20)") { try KernelMetrics.spectralSummary(k0) }
        XCTAssertEqual(summary.topEigenvalues.count, 20)
        XCTAssertGreaterThan(summary.mass(at: 20)!, 0.5)
        let top = try timed("truncate top(20)") { try KernelMetrics.truncate(k0, to: .top(20)) }
        let bottom = try timed("truncate bottom(2980)") { try KernelMetrics.truncate(k0, to: .bottom(n - 20)) }
        // ‖top‖² + ‖bottom‖² = ‖K‖² (orthogonal parts), and ‖top‖²/‖K‖² is mass_20.
        let ratio = top.squaredFrobeniusNorm / k0.squaredFrobeniusNorm
        XCTAssertEqual(ratio, summary.mass(at: 20)!, accuracy: 1e-4)
        XCTAssertEqual((top.squaredFrobeniusNorm + bottom.squaredFrobeniusNorm) / k0.squaredFrobeniusNorm, 1, accuracy: 1e-4)
        let space = try timed("topEigenspace(20) + summary + both truncations") { () throws -> KernelMetrics.TopEigenspace in
            let space = try KernelMetrics.topEigenspace(k0, count: 20)
            _ = space.summary()
            _ = space.truncation(.top(20))
            _ = space.truncation(.bottom(n - 20))
            return space
        }
        XCTAssertEqual(space.summary().mass(at: 20)!, summary.mass(at: 20)!, accuracy: 1e-5)
        let d = try timed("distance") { try KernelMetrics.distance(k0, k1) }
        XCTAssertGreaterThan(d, 0)
        let polar = try timed("polar dynamics on top(20), 3 kernels") {
            try KernelMetrics.polarDynamics([k0, k1, k0], truncation: .top(20))
        }
        XCTAssertEqual(polar[0].radius, 0)
    }
}
