import Kernels

/// Symmetric test matrices with known spectra, and checks of eigenpairs, shared by the eigensolver tests.
enum SymmetricTestMatrices {
    /// A random symmetric matrix with N(0, 1) entries.
    static func randomSymmetric(_ n: Int, seed: UInt64) -> [Double] {
        var rng = Xoshiro256(seed: seed)
        var a = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0...i {
                let x = rng.nextNormal()
                a[i * n + j] = x
                a[j * n + i] = x
            }
        }
        return a
    }

    /// A random orthogonal matrix (row-major, orthonormal columns) by Gram–Schmidt on Gaussian columns.
    static func randomOrthogonal(_ n: Int, seed: UInt64) -> [Double] {
        var rng = Xoshiro256(seed: seed)
        var columns: [[Double]] = []
        while columns.count < n {
            var v = (0..<n).map { _ in rng.nextNormal() }
            // Twice is enough (re-orthogonalisation keeps the basis orthonormal to rounding).
            for _ in 0..<2 {
                for q in columns {
                    let d = zip(q, v).reduce(0) { $0 + $1.0 * $1.1 }
                    for i in 0..<n { v[i] -= d * q[i] }
                }
            }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            if norm < 1e-8 { continue }
            columns.append(v.map { $0 / norm })
        }
        var q = [Double](repeating: 0, count: n * n)
        for j in 0..<n { for i in 0..<n { q[i * n + j] = columns[j][i] } }
        return q
    }

    /// Q diag(λ) Qᵀ.
    static func withSpectrum(_ lambda: [Double], seed: UInt64) -> [Double] {
        let n = lambda.count
        let q = randomOrthogonal(n, seed: seed)
        var a = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0..<n {
                var s = 0.0
                for k in 0..<n { s += q[i * n + k] * lambda[k] * q[j * n + k] }
                a[i * n + j] = s
            }
        }
        return a
    }

    /// max_k ‖A v_k − λ_k v_k‖ / ‖A‖_F over the returned eigenpairs.
    static func residual<S: BinaryFloatingPoint>(_ a: [Double], _ d: SymmetricEigen.Decomposition<S>) -> Double {
        let n = d.dimension
        let normA = a.reduce(0) { $0 + $1 * $1 }.squareRoot()
        var worst = 0.0
        for k in 0..<d.count {
            let v = d.vector(k).map { Double($0) }
            let lambda = Double(d.values[k])
            var r = 0.0
            for i in 0..<n {
                var s = 0.0
                for j in 0..<n { s += a[i * n + j] * v[j] }
                r += (s - lambda * v[i]) * (s - lambda * v[i])
            }
            worst = max(worst, r.squareRoot() / normA)
        }
        return worst
    }

    /// max |vᵢ·vⱼ − δᵢⱼ|.
    static func orthonormalityError<S: BinaryFloatingPoint>(_ d: SymmetricEigen.Decomposition<S>) -> Double {
        var worst = 0.0
        for p in 0..<d.count {
            for q in p..<d.count {
                let dot = zip(d.vector(p), d.vector(q)).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
                worst = max(worst, abs(dot - (p == q ? 1 : 0)))
            }
        }
        return worst
    }
}
