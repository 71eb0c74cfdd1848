import Autodiff
import Foundation
import Kernels
import KernelMachines
import XCTest

/// Eigen-features against the kernel-regression predictor they split and a direct computation from a
/// Jacobi eigen-decomposition, and the refusals of bad requests.
final class EigenFeatureTests: XCTestCase {
    let kernel = FullyConnectedReLUKernel.notebook
    let train = uniformInputs([16, 3, 2, 2], seed: 71)
    let test = uniformInputs([6, 3, 2, 2], seed: 72)
    let binaryLabels: [Int32] = [1, 0, 0, 1, 1, 0, 1, 0, 0, 1, 1, 0, 1, 1, 0, 0]
    let classLabels: [Int32] = [0, 1, 2, 2, 1, 0, 0, 2, 1, 1, 2, 0, 1, 2, 0, 1]
    var cases: [(KernelTask, [Int32])] {
        [(.binary(negative: 0, positive: 1), binaryLabels), (.multiclass(classes: 3), classLabels)]
    }

    func testTheFeaturesSumToTheKernelRegressionPredictor() throws {
        for (task, labels) in cases {
            let features = try EigenFeatures.decompose(kernel: kernel, inputs: train, labels: labels, task: task)
            XCTAssertEqual(features.count, 16)
            XCTAssertEqual(features.all, Array(1...16))
            let expected = try KernelRegression.fit(kernel: kernel, inputs: train, labels: labels, task: task).outputs(test)
            var sum = Float64Matrix(rows: test.shape[0], columns: task.outputs)
            for part in try features.outputs(test, features: features.all) {
                for k in sum.values.indices { sum.values[k] += part.values[k] }
            }
            XCTAssertLessThan(maxRelativeDifference(sum.values, expected.values), 1e-5, "\(task)")
            let summed = try features.predictor(features: features.all).outputs(test)
            XCTAssertLessThan(maxRelativeDifference(summed.values, expected.values), 1e-5, "\(task)")
            XCTAssertLessThan(maxRelativeDifference(try features.fullPredictor().outputs(test).values, expected.values), 1e-5)
            // The eigenvalues are descending, and the features are not all the same (the test would be weak).
            XCTAssertEqual(features.eigenvalues, features.eigenvalues.sorted(by: >))
            let first = try features.outputs(test, features: [1])[0], last = try features.outputs(test, features: [16])[0]
            XCTAssertGreaterThan(maxRelativeDifference(first.values, last.values), 0.1)
        }
    }

    /// f_j = g_j Θ(x, X) v_j (v_jᵀ Y) from the kernel matrices and the Jacobi reference eigensolver.
    func directFeature(_ j: Int, task: KernelTask, labels: [Int32], gain: (Double) -> Double) throws -> Float64Matrix {
        let gram = try kernel.matrix(train, train)
        let decomposition = SymmetricEigen.jacobiReference(gram.values, dimension: gram.rows)
        let v = Array(decomposition.vector(j - 1)), lambda = decomposition.values[j - 1]
        let y = try task.targets(for: labels), cross = try kernel.matrix(test, train)
        var out = Float64Matrix(rows: cross.rows, columns: y.columns)
        for c in 0..<y.columns {
            let projection = (0..<y.rows).reduce(0.0) { $0 + v[$1] * y[$1, c] }
            for i in 0..<cross.rows {
                let along = (0..<cross.columns).reduce(0.0) { $0 + cross[i, $1] * v[$1] }
                out[i, c] = gain(lambda) * along * projection
            }
        }
        return out
    }

    func testEachFeatureMatchesADirectComputation() throws {
        for (task, labels) in cases {
            let features = try EigenFeatures.decompose(kernel: kernel, inputs: train, labels: labels, task: task)
            let batched = try features.outputs(test, features: features.all)
            for j in features.all {
                let expected = try directFeature(j, task: task, labels: labels) { 1 / $0 }
                XCTAssertLessThan(maxRelativeDifference(batched[j - 1].values, expected.values), 1e-6, "\(task) feature \(j)")
                let alone = try features.predictor(feature: j).outputs(test)
                XCTAssertLessThan(maxRelativeDifference(alone.values, expected.values), 1e-6, "\(task) feature \(j)")
                XCTAssertEqual(try features.gain(j), 1 / features.eigenvalues[j - 1], accuracy: 1e-12 / features.eigenvalues[j - 1])
            }
        }
    }

    func testFeaturesAtAFiniteTimeUseTheGradientFlowGain() throws {
        let (task, labels) = cases[0]
        let flow = try KernelRegression.gradientFlow(kernel: kernel, inputs: train, labels: labels, task: task, learningRate: 0.5)
        let features = try EigenFeatures(flow, time: 3)
        for j in [1, 7, 16] {
            let expected = try directFeature(j, task: task, labels: labels) { -expm1(-0.5 * $0 * 3) / $0 }
            XCTAssertLessThan(maxRelativeDifference(try features.outputs(test, features: [j])[0].values, expected.values), 1e-6)
        }
        let sum = try features.predictor(features: features.all).outputs(test)
        XCTAssertLessThan(maxRelativeDifference(sum.values, try flow.predictor(atTime: 3).outputs(test).values), 1e-9)
    }

    func testRangesAndSetsAreSumsOfSingleFeatures() throws {
        let (task, labels) = cases[1]
        let features = try EigenFeatures.decompose(kernel: kernel, inputs: train, labels: labels, task: task)
        let singles = try features.outputs(test, features: features.all)
        for set in [Array(3...7), [12, 1, 5], [16]] {
            var expected = Float64Matrix(rows: test.shape[0], columns: 3)
            for j in set { for k in expected.values.indices { expected.values[k] += singles[j - 1].values[k] } }
            XCTAssertLessThan(maxRelativeDifference(try features.predictor(features: set).outputs(test).values, expected.values), 1e-9)
        }
        XCTAssertEqual(try features.predictor(features: 3...7).weights, try features.predictor(features: Array(3...7)).weights)
        // Eigenvectors are unit vectors, and v_jᵀY is their projection of the targets.
        let v = try features.eigenvector(4)
        XCTAssertEqual(v.reduce(0) { $0 + $1 * $1 }, 1, accuracy: 1e-12)
        let y = try task.targets(for: labels)
        XCTAssertEqual(try features.projectedTargets(4)[2], (0..<16).reduce(0.0) { $0 + v[$1] * y[$1, 2] }, accuracy: 1e-12)
    }

    func testBadRequestsAreRefusedNamingTheFeature() throws {
        let (task, labels) = cases[0]
        let features = try EigenFeatures.decompose(kernel: kernel, inputs: train, labels: labels, task: task)
        for j in [0, -1, 17] {
            assertFeatureError(try features.predictor(feature: j), .featureOutOfRange(feature: j, count: 16),
                               mentions: ["feature \(j)", "1…16"])
        }
        assertFeatureError(try features.outputs(test, features: [2, 17]), .featureOutOfRange(feature: 17, count: 16))
        assertFeatureError(try features.eigenvector(17), .featureOutOfRange(feature: 17, count: 16))
        assertFeatureError(try features.predictor(features: [3, 4, 3]), .repeatedFeature(3), mentions: ["feature 3"])
        assertFeatureError(try features.predictor(features: [Int]()), .noFeatures)
        // Inputs of another per-sample shape.
        assertThrows(.incompatibleShapes(first: [2, 12], second: [16, 3, 2, 2]),
                     try features.outputs(uniformInputs([2, 12], seed: 3), features: [1]))
        assertThrows(.incompatibleShapes(first: [2, 4, 3], second: [16, 3, 2, 2]),
                     try features.predictor(feature: 1).outputs(uniformInputs([2, 4, 3], seed: 3)))
        XCTAssertThrowsError(try EigenFeatures(try KernelRegression.gradientFlow(kernel: kernel, inputs: train, labels: labels, task: task),
                                               time: -1))
    }

    func testAZeroEigenvalueIsReportedNotDividedBy() throws {
        // M = u uᵀ + w wᵀ: positive semidefinite of rank 2, so features 3 and 4 have eigenvalue 0.
        let u = [1.0, 2, 0, 1], w = [0.0, 1, 3, -1]
        let m = (0..<4).map { i in (0..<4).map { j in u[i] * u[j] + w[i] * w[j] } }
        let indices = Tensor(shape: [4, 1], scalars: [0, 1, 2, 3])
        let flow = try KernelRegression.gradientFlow(kernel: FixedMatrixKernel(values: m), inputs: indices,
                                                     labels: [0, 1, 1, 0], task: .binary(negative: 0, positive: 1))
        let features = try EigenFeatures(flow)
        XCTAssertNoThrow(try features.predictor(features: [1, 2]))
        for j in [3, 4] {
            do {
                _ = try features.predictor(features: [1, j])
                XCTFail("feature \(j) has eigenvalue 0")
            } catch let EigenFeatureError.nonPositiveEigenvalue(feature, eigenvalue, threshold) {
                XCTAssertEqual(feature, j)
                XCTAssertLessThanOrEqual(eigenvalue, threshold)
                XCTAssertTrue(EigenFeatureError.nonPositiveEigenvalue(feature: feature, eigenvalue: eigenvalue, threshold: threshold)
                    .description.contains("feature \(j) has the eigenvalue"))
            }
        }
        // At a finite time the gain (1 − e^{−ηλt})/λ tends to ηt: nothing is divided by zero.
        let early = try EigenFeatures(flow, time: 2)
        XCTAssertEqual(try early.gain(4), 2, accuracy: 1e-9)
        XCTAssertNoThrow(try early.predictor(features: early.all))
    }
}

/// Asserts that `body` throws `expected`, whose description contains every string of `mentions`.
func assertFeatureError<T>(_ body: @autoclosure () throws -> T, _ expected: EigenFeatureError, mentions: [String] = [],
                           file: StaticString = #filePath, line: UInt = #line) {
    do {
        _ = try body()
        XCTFail("expected \(expected)", file: file, line: line)
    } catch let error as EigenFeatureError {
        XCTAssertEqual(error, expected, file: file, line: line)
        for m in mentions {
            XCTAssertTrue(error.description.contains(m), "'\(error.description)' does not mention '\(m)'", file: file, line: line)
        }
    } catch {
        XCTFail("unexpected error \(error)", file: file, line: line)
    }
}
