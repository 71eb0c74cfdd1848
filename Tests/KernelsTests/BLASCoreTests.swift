import Kernels
import XCTest

/// The OpenBLAS kernel-set repair: tier classification, the choice on this processor, and GEMM
/// results after a switch.
final class BLASCoreTests: XCTestCase {
    func testTiersFromCoreNamesAndFlags() {
        XCTAssertEqual(BLASCore.Tier(coreName: "Prescott"), .sse)
        XCTAssertEqual(BLASCore.Tier(coreName: "SandyBridge"), .avx)
        XCTAssertEqual(BLASCore.Tier(coreName: "Haswell"), .avx2)
        XCTAssertEqual(BLASCore.Tier(coreName: "Zen"), .avx2)
        XCTAssertEqual(BLASCore.Tier(coreName: "Cooperlake"), .avx512)
        XCTAssertEqual(BLASCore.Tier(cpuFlags: ["sse2", "sse3"]), .sse)
        XCTAssertEqual(BLASCore.Tier(cpuFlags: ["avx", "sse2"]), .avx)
        XCTAssertEqual(BLASCore.Tier(cpuFlags: ["avx", "avx2", "fma"]), .avx2)
        // AVX-512 foundation alone (Knights Landing) is not SkylakeX's instruction set.
        XCTAssertEqual(BLASCore.Tier(cpuFlags: ["avx2", "fma", "avx512f"]), .avx2)
        XCTAssertEqual(BLASCore.Tier(cpuFlags: ["avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512dq"]), .avx512)
        XCTAssertEqual(BLASCore.Tier.avx512.coreName, "SkylakeX")
        XCTAssertNil(BLASCore.Tier.avx.coreName)
    }

    /// Unless the user chose a kernel set, the active one is at least as wide as the processor's
    /// widest forced tier (AVX2 or AVX-512) — the repair for an OpenBLAS that does not know the CPU.
    func testActiveKernelSetMatchesTheProcessor() throws {
        let selection = BLASCore.selectOnce
        XCTAssertFalse(selection.active.isEmpty)
        XCTAssertEqual(selection.active, BLASCore.current)
        guard getenv("OPENBLAS_CORETYPE") == nil, getenv("TANGENT_BLAS_CORE") == nil else {
            throw XCTSkip("OPENBLAS_CORETYPE or TANGENT_BLAS_CORE is set: the user's choice stands")
        }
        guard let flags = BLASCore.cpuFlags() else { throw XCTSkip("no /proc/cpuinfo flags on this system") }
        let supported = BLASCore.Tier(cpuFlags: flags)
        guard supported.coreName != nil else { throw XCTSkip("no AVX2: nothing to repair") }
        XCTAssertGreaterThanOrEqual(BLASCore.Tier(coreName: selection.active), supported,
                                    "OpenBLAS runs \(selection.active) (detected \(selection.detected)) on a \(supported) processor")
    }

    /// A GEMM large enough for OpenBLAS's blocked, threaded path, against the naive twin, after the
    /// selection has run.
    func testLargeGEMMAfterSelection() {
        _ = BLASCore.selectOnce
        var rng = Xoshiro256(seed: 7)
        let m = 131, n = 257, k = 300
        let a = (0..<(m * k)).map { _ in Float(rng.nextNormal()) }
        let b = (0..<(k * n)).map { _ in Float(rng.nextNormal()) }
        for (ta, tb) in [(false, false), (true, false), (false, true)] {
            var c = [Float](repeating: 0, count: m * n)
            sgemm(transposeA: ta, transposeB: tb, m: m, n: n, k: k, a: a, lda: ta ? m : k, b: b, ldb: tb ? k : n,
                  c: &c, ldc: n, threads: 2)
            let expected = Reference.matmul(a, b, m: m, n: n, k: k, transposeA: ta, transposeB: tb)
            var worst: Float = 0
            for (x, y) in zip(c, expected) { worst = max(worst, abs(x - y) / max(1, abs(y))) }
            XCTAssertLessThan(worst, 1e-4, "transposeA \(ta) transposeB \(tb)")
        }
    }
}
