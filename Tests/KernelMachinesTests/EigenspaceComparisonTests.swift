import Autodiff
import Foundation
import Kernels
import KernelMachines
import XCTest

/// Principal angles between subspaces on hand-made cases, and between kernels' top eigenspaces.
final class EigenspaceComparisonTests: XCTestCase {
    /// Rows of the n × n identity picked by `rows`.
    func unitRows(_ rows: [Int], n: Int) throws -> Float64Matrix {
        try Float64Matrix(rows: rows.count, columns: n, values: rows.flatMap { r in (0..<n).map { $0 == r ? 1.0 : 0 } })
    }

    func testIdenticalSpacesHaveCosinesOneAndOrthogonalSpacesZero() throws {
        let a = try unitRows([0, 1, 2], n: 6)
        let same = try EigenspaceComparison(basis: a, basis: a)
        XCTAssertEqual(same.cosines, [1, 1, 1])
        XCTAssertEqual(same.similarity, 1)
        XCTAssertEqual(same.featureAlignment, [1, 1, 1])
        let orthogonal = try EigenspaceComparison(basis: a, basis: try unitRows([3, 4, 5], n: 6))
        for c in orthogonal.cosines { XCTAssertEqual(c, 0, accuracy: 1e-12) }
        XCTAssertEqual(orthogonal.similarity, 0, accuracy: 1e-12)
    }

    func testARotatedBasisOfTheSameSpaceIsTheSameSpaceButNotTheSameFeatures() throws {
        // Rotate e₀, e₁ by 30° inside their plane: the space is unchanged, vector by vector it is not.
        let c = cos(Double.pi / 6), s = sin(Double.pi / 6)
        let rotated = try Float64Matrix(rows: 2, columns: 4, values: [c, s, 0, 0, -s, c, 0, 0])
        let comparison = try EigenspaceComparison(basis: try unitRows([0, 1], n: 4), basis: rotated)
        for cosine in comparison.cosines { XCTAssertEqual(cosine, 1, accuracy: 1e-12) }
        XCTAssertEqual(comparison.featureAlignment[0], c, accuracy: 1e-12)
        XCTAssertEqual(comparison.featureAlignment[1], c, accuracy: 1e-12)
    }

    func testKnownAnglesAndSpacesOfDifferentDimensions() throws {
        // span(e₀, e₁) against span(cos θ e₀ + sin θ e₂, e₃): angles θ and 90°.
        let theta = 0.4
        let b = try Float64Matrix(rows: 2, columns: 4, values: [cos(theta), 0, sin(theta), 0, 0, 0, 0, 1])
        let comparison = try EigenspaceComparison(basis: try unitRows([0, 1], n: 4), basis: b)
        XCTAssertEqual(comparison.cosines[0], cos(theta), accuracy: 1e-12)
        XCTAssertEqual(comparison.cosines[1], 0, accuracy: 1e-7)
        XCTAssertEqual(comparison.similarity, cos(theta) * cos(theta) / 2, accuracy: 1e-12)
        // A line inside a plane: one angle, cosine 1, whichever side is the smaller.
        let line = try Float64Matrix(rows: 1, columns: 4, values: [0.6, 0.8, 0, 0])
        XCTAssertEqual(try EigenspaceComparison(basis: line, basis: try unitRows([0, 1], n: 4)).cosines.count, 1)
        XCTAssertEqual(try EigenspaceComparison(basis: try unitRows([0, 1], n: 4), basis: line).cosines[0], 1, accuracy: 1e-12)
    }

    func testBadBasesAreRefused() throws {
        let a = try unitRows([0, 1], n: 4)
        let notOrthonormal = try Float64Matrix(rows: 2, columns: 4, values: [1, 0, 0, 0, 1, 1, 0, 0])
        assertFeatureError(try EigenspaceComparison(basis: a, basis: notOrthonormal),
                           .basisNotOrthonormal(argument: "B", deviation: 1), mentions: ["not orthonormal"])
        assertFeatureError(try EigenspaceComparison(basis: a, basis: try unitRows([0, 1], n: 5)),
                           .basisShape(argument: "B", rows: 2, columns: 5, expected: "1 to 4 orthonormal rows of 4 values, as the other basis"))
        assertFeatureError(try EigenspaceComparison(basis: Float64Matrix(rows: 0, columns: 4), basis: a),
                           .basisShape(argument: "A", rows: 0, columns: 4, expected: "1 to 4 orthonormal rows of 4 values, as the other basis"))
    }

    func testTopEigenspacesOfTwoKernelsOnTheSameInputs() throws {
        let x = uniformInputs([20, 6], seed: 91)
        let labels: [Int32] = (0..<20).map { Int32($0 % 2) }
        let task = KernelTask.binary(negative: 0, positive: 1)
        let fc1 = try EigenFeatures.decompose(kernel: FullyConnectedReLUKernel.notebook, inputs: x, labels: labels, task: task)
        let fc3 = try EigenFeatures.decompose(kernel: try FullyConnectedReLUKernel(depth: 3, weightStd: 2.0.squareRoot(), biasStd: 0.1),
                                              inputs: x, labels: labels, task: task)
        let itself = try EigenspaceComparison(fc1, fc1, top: 5)
        for c in itself.cosines { XCTAssertEqual(c, 1, accuracy: 1e-9) }
        let across = try EigenspaceComparison(fc1, fc3, top: 5)
        XCTAssertEqual(across.cosines.count, 5)
        XCTAssertEqual(across.cosines, across.cosines.sorted(by: >))
        // The top eigenvector (nearly the constant direction for both) is shared; the spaces are not identical.
        XCTAssertGreaterThan(across.featureAlignment[0], 0.99)
        XCTAssertLessThan(across.cosines.last ?? 1, 1 - 1e-6)
        // The whole space of all N eigenvectors is R^N for any two kernels.
        for c in try EigenspaceComparison(fc1, fc3, top: 20).cosines { XCTAssertEqual(c, 1, accuracy: 1e-7) }

        assertFeatureError(try EigenspaceComparison(fc1, fc3, top: 21),
                           .countOutOfRange(name: "number of eigenvectors compared", value: 21, allowed: 1...20))
        var moved = x.scalars
        moved[13] += 0.5
        let other = try EigenFeatures.decompose(kernel: FullyConnectedReLUKernel.notebook, inputs: Tensor(shape: x.shape, scalars: moved),
                                                labels: labels, task: task)
        assertFeatureError(try EigenspaceComparison(fc1, other, top: 3),
                           .differentTrainingInputs(detail: "sample 2 differs at position 1 (\(x.scalars[13]) against \(moved[13]))"))
    }
}
