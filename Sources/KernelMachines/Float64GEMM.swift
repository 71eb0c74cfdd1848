import CBLAS
import Kernels

/// Double-precision products on row-major buffers through OpenBLAS `dgemm`, in blocks of rows spread
/// over Tangent's workers. As for the library's `sgemm`, OpenBLAS stays single-threaded and the blocks
/// depend on the shape alone, so results do not depend on the number of threads.
enum Float64GEMM {
    /// At most this many blocks: each block packs op(B) again, so few large blocks are cheapest.
    static let maximumBlocks = 8
    /// Blocks have at least this many rows of C.
    static let minimumBlockRows = 64

    /// `C = A · op(B)` with A `m × k`, op(B) `k × n` (B stored `n × k` when `transposeB`), C `m × n`.
    /// Null pointers are accepted only when the matching dimension product is zero.
    static func multiply(m: Int, n: Int, k: Int, a: UnsafePointer<Double>?, b: UnsafePointer<Double>?,
                         transposeB: Bool, c: UnsafeMutablePointer<Double>?) {
        guard m > 0, n > 0, let c else { return }
        guard k > 0, let a, let b else {
            c.initialize(repeating: 0, count: m * n)
            return
        }
        BLASThreads.set(1)
        let blocks = min(maximumBlocks, max(1, m / minimumBlockRows))
        let blockRows = (m + blocks - 1) / blocks
        let minimumBlocks = max(1, (1 << 22) / max(blockRows * n * k, 1))
        parallelChunks(blocks, minimumPerChunk: minimumBlocks) { range in
            for block in range {
                let lo = block * blockRows, rows = min(blockRows, m - lo)
                guard rows > 0 else { continue }
                cblas_dgemm(CblasRowMajor, CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                            Int32(rows), Int32(n), Int32(k), 1, a + lo * k, Int32(k),
                            b, Int32(transposeB ? k : n), 0, c + lo * n, Int32(n))
            }
        }
    }
}
