import CBLAS

/// Single-precision matrix multiply on row-major buffers through OpenBLAS:
/// `C = alpha · op(A) · op(B) + beta · C`, with `op(A)` of shape m×k and `op(B)` of shape k×n.
///
/// `threads` picks OpenBLAS's thread count for this call: thin products (k ≲ 16, e.g. the first
/// conv layer's im2col with k = 9) are memory-bound and run faster on one thread here.
@inlinable
public func sgemm(transposeA: Bool = false, transposeB: Bool = false,
                  m: Int, n: Int, k: Int,
                  alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                  b: UnsafePointer<Float>, ldb: Int,
                  beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int,
                  threads: Int? = nil) {
    if m == 0 || n == 0 { return }
    BLASThreads.set(threads ?? BLASThreads.preferred(m: m, n: n, k: k))
    cblas_sgemm(CblasRowMajor,
                transposeA ? CblasTrans : CblasNoTrans,
                transposeB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
                beta, c, Int32(ldc))
}

/// Symmetric rank-k update on a row-major n×n buffer: `C = alpha · A·Aᵀ + beta · C` where A is n×k
/// (or `Aᵀ·A` with A k×n when `transpose`). Only the upper triangle of C is written.
@inlinable
public func ssyrk(transpose: Bool = false, n: Int, k: Int, alpha: Float = 1,
                  a: UnsafePointer<Float>, lda: Int, beta: Float = 0,
                  c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int? = nil) {
    if n == 0 { return }
    BLASThreads.set(threads ?? BLASThreads.preferred(m: n, n: n, k: k))
    cblas_ssyrk(CblasRowMajor, CblasUpper, transpose ? CblasTrans : CblasNoTrans,
                Int32(n), Int32(k), alpha, a, Int32(lda), beta, c, Int32(ldc))
}

/// OpenBLAS thread-count control. Setting the count is cheap but not free, so it is only
/// changed when it differs from the last value set through here.
public enum BLASThreads {
    nonisolated(unsafe) private static var current: Int = -1

    /// The number of threads to use for an m×k by k×n product.
    @inlinable
    public static func preferred(m: Int, n: Int, k: Int) -> Int {
        let flops = 2 * m * n * k
        if k < 16 || flops < 4_000_000 { return 1 }
        return ProcessInfoCores.count
    }

    /// Sets OpenBLAS's thread count (no-op when unchanged).
    public static func set(_ threads: Int) {
        _ = BLASCore.selectOnce
        if threads != current {
            openblas_set_num_threads(Int32(threads))
            current = threads
        }
    }
}
