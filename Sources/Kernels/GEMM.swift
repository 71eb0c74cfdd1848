import CBLAS

/// Single-precision matrix multiply on row-major buffers through OpenBLAS:
/// `C = alpha · op(A) · op(B) + beta · C`, with `op(A)` of shape m×k and `op(B)` of shape k×n.
///
/// OpenBLAS itself always runs single-threaded here; a large product is split into `threads`
/// blocks of rows (or columns) of C computed side by side on Tangent's own workers. OpenBLAS's own
/// thread pool busy-waits (`sched_yield`) between calls and so steals the cores from Tangent's
/// parallel kernels; never waking it keeps them free. The split never cuts the k dimension, so
/// every element is summed in the same order whatever the thread count (bit-identical results).
///
/// `threads` caps the split (default: by size; thin products, k ≲ 16, such as the first conv
/// layer's, are memory-bound and stay on one thread).
@inlinable
public func sgemm(transposeA: Bool = false, transposeB: Bool = false,
                  m: Int, n: Int, k: Int,
                  alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                  b: UnsafePointer<Float>, ldb: Int,
                  beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int,
                  threads: Int? = nil) {
    if m == 0 || n == 0 { return }
    BLASThreads.set(1)
    let workers = threads ?? BLASThreads.preferred(m: m, n: n, k: k)
    func block(rows: Range<Int>, columns: Range<Int>) {
        // Row i of op(A) starts at a + i·lda (not transposed) or a + i (transposed); likewise columns of op(B).
        let pa = transposeA ? a + rows.lowerBound : a + rows.lowerBound * lda
        let pb = transposeB ? b + columns.lowerBound * ldb : b + columns.lowerBound
        cblas_sgemm(CblasRowMajor,
                    transposeA ? CblasTrans : CblasNoTrans,
                    transposeB ? CblasTrans : CblasNoTrans,
                    Int32(rows.count), Int32(columns.count), Int32(k), alpha, pa, Int32(lda), pb, Int32(ldb),
                    beta, c + rows.lowerBound * ldc + columns.lowerBound, Int32(ldc))
    }
    if workers <= 1 { block(rows: 0..<m, columns: 0..<n); return }
    // Split the longer side of C into blocks that are multiples of 16 (whole SIMD tiles).
    let splitRows = m >= n
    let length = splitRows ? m : n
    let parts = min(workers, max(1, length / 16))
    let step = ((length + parts - 1) / parts + 15) / 16 * 16
    parallelChunks(parts, minimumPerChunk: 1) { range in
        for part in range {
            let lo = part * step, hi = min(length, lo + step)
            guard lo < hi else { continue }
            if splitRows { block(rows: lo..<hi, columns: 0..<n) } else { block(rows: 0..<m, columns: lo..<hi) }
        }
    }
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

/// OpenBLAS thread-count control. GEMMs keep OpenBLAS at one thread (see `sgemm`); SYRK and LAPACK
/// calls may use more. Setting the count is cheap but not free, so it is only changed when it
/// differs from the last value set through here.
public enum BLASThreads {
    nonisolated(unsafe) private static var current: Int = -1

    /// The number of workers to split an m×k by k×n product over.
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
