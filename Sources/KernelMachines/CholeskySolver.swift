import CLAPACKE
import Kernels

/// Solves Θ A = Y for a symmetric positive-definite Θ by Cholesky factorisation in Float64 (LAPACK
/// `dpotrf` and `dpotrs`, OpenBLAS threads on).
///
/// Θ = UᵀU is accepted only when every pivot U_kk² exceeds the rounding threshold n·ε·max_k Θ_kk: a
/// smaller pivot means Θ is singular to working precision (duplicate inputs, a kernel without a bias
/// on too many samples) and the solve would return noise. The error names the failing pivot and its
/// index; a successful solve reports its smallest pivot, a cheap lower bound on how well conditioned
/// the solve was (every pivot is at least the smallest eigenvalue).
public enum CholeskySolver {
    /// A pivot U_kk² of the factorisation and its index k.
    public struct Pivot: Sendable, Equatable {
        /// The row (and training sample) k.
        public let index: Int
        /// U_kk², the k-th Schur complement's leading entry.
        public let value: Double
    }

    /// The solution A (`n × k`) of Θ A = Y and the smallest pivot, for a symmetric `n × n` matrix
    /// (only its lower triangle is read) to which `ridge`·I is added.
    /// - Throws: ``KernelPredictorError/notPositiveDefinite(index:pivot:threshold:ridge:)``, or
    ///   ``KernelMachineError`` when the shapes do not fit or an entry is not finite.
    public static func solve(_ matrix: Float64Matrix, _ rhs: Float64Matrix, ridge: Double = 0) throws
        -> (solution: Float64Matrix, smallestPivot: Pivot) {
        var values = matrix.values
        return try solve(values: &values, dimension: matrix.rows, rhs, ridge: ridge, columns: matrix.columns)
    }

    /// The same on a row-major buffer that is overwritten by the factor (no copy of the matrix).
    static func solve(values a: inout [Double], dimension n: Int, _ rhs: Float64Matrix, ridge: Double,
                      columns: Int? = nil) throws -> (solution: Float64Matrix, smallestPivot: Pivot) {
        guard (columns ?? n) == n, a.count == n * n else {
            throw KernelMachineError.matrixShape(argument: "Gram", expected: [n, n], got: [n, columns ?? a.count / max(n, 1)])
        }
        try KernelInputs.checkMatrix(rhs, "right-hand side", rows: n, columns: rhs.columns)
        guard ridge.isFinite, ridge >= 0 else {
            throw KernelPredictorError.invalidSetting(name: "ridge", value: ridge, requirement: "finite and not negative")
        }
        guard let n32 = Int32(exactly: n), let k32 = Int32(exactly: rhs.columns) else {
            throw KernelMachineError.matrixShape(argument: "Gram", expected: [Int(Int32.max), Int(Int32.max)], got: [n, rhs.columns])
        }
        try checkFinite(a, n)
        guard n > 0 else { return (Float64Matrix(rows: 0, columns: rhs.columns), Pivot(index: 0, value: .infinity)) }
        var diagonal = [Double](repeating: 0, count: n)
        for k in 0..<n {
            a[k * n + k] += ridge
            diagonal[k] = a[k * n + k]
        }
        let threshold = Double(n) * Double.ulpOfOne * max(diagonal.max() ?? 0, 0)
        BLASThreads.set(ProcessInfoCores.count)
        // Column-major "U" is the row-major lower triangle: row k of the buffer holds column k of U.
        let info = a.withUnsafeMutableBufferPointer { p in
            LAPACKE_dpotrf_work(Int32(LAPACK_COL_MAJOR), CChar(UInt8(ascii: "U")), n32, p.baseAddress, n32)
        }
        if info < 0 { throw KernelPredictorError.lapack(routine: "LAPACKE_dpotrf_work", info: Int(info)) }
        // Pivots 0..<k are final once the factorisation has passed them.
        func smallestPivot(below k: Int) -> Pivot {
            var smallest = Pivot(index: 0, value: .infinity)
            for m in 0..<k where a[m * n + m] * a[m * n + m] < smallest.value {
                smallest = Pivot(index: m, value: a[m * n + m] * a[m * n + m])
            }
            return smallest
        }
        if info > 0 {
            // The leading block of order `info` failed; its pivot is Θ_kk − Σ_{m<k} U_mk² from final
            // rows. An earlier pivot within rounding of zero is the real cause (it blew up later rows).
            let k = Int(info) - 1
            let earlier = smallestPivot(below: k)
            if earlier.value <= threshold {
                throw KernelPredictorError.notPositiveDefinite(index: earlier.index, pivot: earlier.value,
                                                               threshold: threshold, ridge: ridge)
            }
            var pivot = diagonal[k]
            for m in 0..<k { pivot -= a[k * n + m] * a[k * n + m] }
            throw KernelPredictorError.notPositiveDefinite(index: k, pivot: pivot, threshold: threshold, ridge: ridge)
        }
        let smallest = smallestPivot(below: n)
        guard smallest.value > threshold else {
            throw KernelPredictorError.notPositiveDefinite(index: smallest.index, pivot: smallest.value,
                                                           threshold: threshold, ridge: ridge)
        }
        // dpotrs wants Y column-major: that is Yᵀ row-major.
        var b = rhs.transposed
        let solveInfo = a.withUnsafeBufferPointer { p in
            b.values.withUnsafeMutableBufferPointer { bp in
                LAPACKE_dpotrs_work(Int32(LAPACK_COL_MAJOR), CChar(UInt8(ascii: "U")), n32, k32,
                                    p.baseAddress, n32, bp.baseAddress, n32)
            }
        }
        guard solveInfo == 0 else { throw KernelPredictorError.lapack(routine: "LAPACKE_dpotrs_work", info: Int(solveInfo)) }
        return (b.transposed, smallest)
    }

    /// Refuses NaN and ±∞ in the lower triangle (the part LAPACK reads).
    static func checkFinite(_ a: [Double], _ n: Int) throws {
        for i in 0..<n {
            for j in 0...i where !a[i * n + j].isFinite {
                throw KernelMachineError.nonFiniteMatrix(argument: "Gram", row: i, column: j, value: a[i * n + j])
            }
        }
    }
}
