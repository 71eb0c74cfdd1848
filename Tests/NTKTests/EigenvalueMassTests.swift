import Foundation
import NTK
import XCTest

/// The eigenvalue-based concentration `Σ_{i≤k} λ_i / trace K` beside the paper's `Σ_{i≤k} λ_i² / ‖K‖²`,
/// on matrices whose spectra are known by hand.
final class EigenvalueMassTests: XCTestCase {
    /// [[2, 1], [1, 2]] ⊕ [0.5]: eigenvalues 3, 1, 0.5; trace 4.5; ‖K‖² = 4 + 1 + 1 + 4 + 0.25 = 10.25.
    private let blockKernel = KernelMatrix(n: 3, values: [2, 1, 0,
                                                          1, 2, 0,
                                                          0, 0, 0.5])

    func testHandComputedMassOfAKnownSpectrum() throws {
        let summary = try KernelMetrics.spectralSummary(blockKernel, topCount: 3, ranks: [1, 2, 3, 10])
        XCTAssertEqual(summary.trace, 4.5, accuracy: 1e-12)
        for (x, y) in zip(summary.topEigenvalues, [3.0, 1, 0.5]) { XCTAssertEqual(x, y, accuracy: 1e-6) }
        // By eigenvalues: 3 / 4.5, 4 / 4.5, 4.5 / 4.5, and a rank past n takes them all.
        let byEigenvalue = [2.0 / 3, 8.0 / 9, 1, 1]
        for (x, y) in zip(summary.eigenvalueMass, byEigenvalue) { XCTAssertEqual(x, y, accuracy: 1e-6) }
        // The paper's (squared): 9 / 10.25, 10 / 10.25, 1, 1 — larger at every rank below n.
        let bySquare = [9 / 10.25, 10 / 10.25, 1, 1]
        for (x, y) in zip(summary.concentration, bySquare) { XCTAssertEqual(x, y, accuracy: 1e-6) }
        XCTAssertEqual(summary.eigenvalueMass(at: 2)!, 8.0 / 9, accuracy: 1e-6)
        XCTAssertNil(summary.eigenvalueMass(at: 4))
    }

    func testTheOneSolveSummaryAgrees() throws {
        let space = try KernelMetrics.topEigenspace(blockKernel, count: 2)
        let summary = space.summary(topCount: 2, ranks: [1, 2])
        XCTAssertEqual(summary.trace, 4.5, accuracy: 1e-12)
        XCTAssertEqual(summary.eigenvalueMass[0], 2.0 / 3, accuracy: 1e-6)
        XCTAssertEqual(summary.eigenvalueMass[1], 8.0 / 9, accuracy: 1e-6)
    }

    func testFromKnownEigenvalues() {
        XCTAssertEqual(KernelMetrics.eigenvalueMass(topEigenvalues: [6, 3], trace: 12, ranks: [1, 2, 5, 0]), [0.5, 0.75, 0.75, 0])
        XCTAssertTrue(KernelMetrics.eigenvalueMass(topEigenvalues: [1], trace: 0, ranks: [1])[0].isNaN,
                      "a zero kernel has no share to measure")
    }
}
