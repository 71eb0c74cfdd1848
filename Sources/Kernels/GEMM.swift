import CBLAS

/// Single-precision matrix multiply on row-major buffers through OpenBLAS:
/// `C = alpha · op(A) · op(B) + beta · C`, with `op(A)` of shape m×k and `op(B)` of shape k×n.
///
/// OpenBLAS itself always runs single-threaded here; a large product is split into a fixed number of
/// blocks of rows (or columns) of C, computed side by side on Tangent's own workers. OpenBLAS's own
/// thread pool busy-waits (`sched_yield`) between calls and so steals the cores from Tangent's
/// parallel kernels; never waking it keeps them free. The split depends only on the shapes — never
/// on the thread count — and never cuts the k dimension, so results are bit-identical whatever the
/// number of threads (OpenBLAS's kernels choose their summation order by block shape, so a split that
/// followed the thread count would not be).
///
/// `threads: 1` keeps a product in one piece (thin products, k ≲ 16, such as the first conv layer's,
/// are memory-bound and stay whole anyway).
@inlinable
public func sgemm(transposeA: Bool = false, transposeB: Bool = false,
                  m: Int, n: Int, k: Int,
                  alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                  b: UnsafePointer<Float>, ldb: Int,
                  beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int,
                  threads: Int? = nil) {
    if m == 0 || n == 0 { return }
    BLASThreads.set(1)
    let parts = threads == 1 ? 1 : BLASThreads.blocks(m: m, n: n, k: k)
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
    if parts <= 1 { block(rows: 0..<m, columns: 0..<n); return }
    // Split the longer side of C into blocks that are multiples of 16 (whole SIMD tiles).
    let splitRows = m >= n
    let length = splitRows ? m : n
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
///
/// Like ``sgemm(transposeA:transposeB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:threads:)``, a large update is
/// split by shape alone (two row blocks of the upper triangle with equal work: a SYRK on each diagonal
/// block and a GEMM for the off-diagonal one) on Tangent's workers, with OpenBLAS single-threaded, so the
/// result does not depend on the thread count.
@inlinable
public func ssyrk(transpose: Bool = false, n: Int, k: Int, alpha: Float = 1,
                  a: UnsafePointer<Float>, lda: Int, beta: Float = 0,
                  c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int? = nil) {
    if n == 0 { return }
    BLASThreads.set(1)
    func diagonal(_ rows: Range<Int>) {
        let pa = transpose ? a + rows.lowerBound : a + rows.lowerBound * lda
        cblas_ssyrk(CblasRowMajor, CblasUpper, transpose ? CblasTrans : CblasNoTrans,
                    Int32(rows.count), Int32(k), alpha, pa, Int32(lda), beta, c + rows.lowerBound * (ldc + 1), Int32(ldc))
    }
    let parts = threads == 1 ? 1 : min(2, BLASThreads.blocks(m: n, n: n / 2, k: k))
    if parts <= 1 { diagonal(0..<n); return }
    // Rows [0, h) hold h·n − h²/2 of the triangle's entries; h = n(1 − 1/√2) balances the two blocks.
    let h = max(1, min(n - 1, Int((Double(n) * (1 - 0.5.squareRoot())).rounded())))
    parallelChunks(2, minimumPerChunk: 1) { range in
        for part in range {
            if part == 1 { diagonal(h..<n); continue }
            diagonal(0..<h)
            // C[0..<h, h..<n] = alpha · A[0..<h] · A[h..<n]ᵀ + beta · C
            let pb = transpose ? a + h : a + h * lda
            cblas_sgemm(CblasRowMajor, transpose ? CblasTrans : CblasNoTrans, transpose ? CblasNoTrans : CblasTrans,
                        Int32(h), Int32(n - h), Int32(k), alpha, a, Int32(lda), pb, Int32(lda), beta, c + h, Int32(ldc))
        }
    }
}

/// OpenBLAS thread-count control. GEMMs keep OpenBLAS at one thread (see `sgemm`); SYRK and LAPACK
/// calls may use more. Setting the count is cheap but not free, so it is only changed when it
/// differs from the last value set through here.
public enum BLASThreads {
    nonisolated(unsafe) private static var current: Int = -1

    /// The number of blocks an m×k by k×n product is split into: a function of the shape alone (never
    /// of the thread count), so that results do not depend on how many workers run the blocks.
    @inlinable
    public static func blocks(m: Int, n: Int, k: Int) -> Int {
        let flops = 2 * m * n * k
        if k < 16 || flops < 4_000_000 || max(m, n) < 32 { return 1 }
        // Larger products are cut finer — up to 8 blocks, each at least 128 rows or columns so that
        // repacking the shared operand stays cheap — and the workers take the blocks in turn, so a
        // worker whose core is shared with another process does not hold the others up.
        return max(2, min(8, flops / 16_000_000, max(m, n) / 128))
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
