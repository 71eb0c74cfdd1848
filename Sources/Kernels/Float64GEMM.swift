import CBLAS

/// Double-precision products on row-major buffers through OpenBLAS `dgemm`, in blocks of C spread over
/// Tangent's workers. As for ``sgemm(transposeA:transposeB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:threads:)``,
/// OpenBLAS stays single-threaded and the blocks depend on the shape alone (never on the thread count,
/// and the summed dimension is never cut), so results do not depend on the number of threads.
public enum Float64GEMM {
    /// At most this many blocks: each block packs the other operand again, so few large blocks are cheapest.
    static let maximumBlocks = 8
    /// Blocks have at least this many rows (or columns) of C.
    static let minimumBlockRows = 64

    /// `C = alpha · op(A) · op(B) + beta · C` with op(A) `m × k` (A stored `k × m` when `transposeA`),
    /// op(B) `k × n` (B stored `n × k` when `transposeB`) and C `m × n`, all row-major and densely
    /// packed. C is split along its longer side. With `beta = 0`, C is only written (it may hold
    /// anything, NaN included). Null pointers are accepted only when the matching dimension product is zero.
    public static func multiply(m: Int, n: Int, k: Int, alpha: Double = 1, a: UnsafePointer<Double>?,
                                b: UnsafePointer<Double>?, transposeA: Bool = false, transposeB: Bool,
                                beta: Double = 0, c: UnsafeMutablePointer<Double>?) {
        guard m > 0, n > 0, let c else { return }
        guard k > 0, let a, let b else {
            if beta == 0 {
                c.initialize(repeating: 0, count: m * n)
            } else {
                for i in 0..<(m * n) { c[i] *= beta }
            }
            return
        }
        BLASThreads.set(1)
        let splitRows = m >= n
        let length = splitRows ? m : n
        let blocks = min(maximumBlocks, max(1, length / minimumBlockRows))
        let blockLength = (length + blocks - 1) / blocks
        let minimumBlocks = max(1, (1 << 22) / max(blockLength * (splitRows ? n : m) * k, 1))
        func block(rows: Range<Int>, columns: Range<Int>) {
            // Row i of op(A) starts at row i of A, or at column i of the stored transpose; likewise
            // column j of op(B) at column j of B, or at row j of the stored transpose.
            let pa = transposeA ? a + rows.lowerBound : a + rows.lowerBound * k
            let pb = transposeB ? b + columns.lowerBound * k : b + columns.lowerBound
            cblas_dgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                        Int32(rows.count), Int32(columns.count), Int32(k), alpha, pa, Int32(transposeA ? m : k),
                        pb, Int32(transposeB ? k : n), beta, c + rows.lowerBound * n + columns.lowerBound, Int32(n))
        }
        parallelChunks(blocks, minimumPerChunk: minimumBlocks) { range in
            for part in range {
                let lo = part * blockLength, hi = min(length, lo + blockLength)
                guard lo < hi else { continue }
                if splitRows { block(rows: lo..<hi, columns: 0..<n) } else { block(rows: 0..<m, columns: lo..<hi) }
            }
        }
    }
}
