import Foundation
import XCTest

/// `tangent bench --task tracking` reports every part of a kernel-tracking event, and its block Krylov
/// eigenvalues agree with LAPACK's.
final class BenchTrackingTests: XCTestCase {
    func testTheTrackingBenchReportsEveryPart() throws {
        let result = try TangentProcess.run(["bench", "--task", "tracking", "--batch-size", "6", "--reps", "1", "--warmup", "0"])
        XCTAssertEqual(result.status, 0, result.output)
        let records = try result.output.split(separator: "\n").filter { $0.hasPrefix("{") }.map {
            try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        let parts = Dictionary(uniqueKeysWithValues: records.compactMap { r in (r["part"] as? String).map { ($0, r) } })
        XCTAssertEqual(Set(parts.keys), ["ntk", "top_20_eigenvalues_block_krylov", "top_20_eigenvalues_lapack_ssyevr",
                                         "distances_and_norms", "kernel_file_with_checksum", "tracking_total",
                                         "checkpoint_embedding_two_kernels_before"])
        XCTAssertEqual(parts["ntk"]?["side"] as? Int, 60)
        let difference = try XCTUnwrap(parts["top_20_eigenvalues_block_krylov"]?["worst_relative_difference_to_lapack"] as? Double)
        XCTAssertLessThan(difference, 1e-4)
        for (name, record) in parts {
            XCTAssertGreaterThan(try XCTUnwrap(record["median_ms"] as? Double), 0, name)
        }
    }
}
