import Autodiff
import Foundation
import Kernels
import KernelMachines
import XCTest

/// Closed forms, structure (symmetry, diagonal, products) and degenerate inputs of the analytic kernels.
final class AnalyticKernelTests: XCTestCase {
    /// Every analytic kernel on its kind of input: (kernel, X₁, X₂).
    func allKernels() throws -> [(KernelFunction, Tensor, Tensor)] {
        let flat1 = randomTensor([5, 7], seed: 1), flat2 = randomTensor([4, 7], seed: 2)
        let images1 = randomTensor([3, 2, 4, 5], seed: 3) { $0.nextUniformDouble() }
        let images2 = randomTensor([2, 2, 4, 5], seed: 4) { $0.nextUniformDouble() }
        var kernels: [(KernelFunction, Tensor, Tensor)] = [(TwoLayerFrozenOutputKernel(), flat1, flat2)]
        for depth in FullyConnectedReLUKernel.depths {
            for output in AnalyticKernelOutput.allCases {
                kernels.append((try FullyConnectedReLUKernel(depth: depth, weightStd: 1.2, biasStd: 0.3, output: output), flat1, flat2))
            }
        }
        for depth in ConvolutionalReLUKernel.depths {
            for output in AnalyticKernelOutput.allCases {
                kernels.append((try ConvolutionalReLUKernel(depth: depth, weightStd: 1.6, biasStd: 0.2, output: output), images1, images2))
            }
        }
        return kernels
    }

    /// The paper's closed form of the notebook kernel, written out independently of the recursion.
    func testNotebookKernelIsThePapersClosedForm() throws {
        let d = 48
        let x1 = randomTensor([6, d], seed: 5) { $0.nextUniformDouble() }, x2 = randomTensor([5, d], seed: 6)
        let a = x1.scalars.map(Double.init), b = x2.scalars.map(Double.init)
        func sigma0(_ i: Int, _ u: [Double], _ j: Int, _ v: [Double]) -> Double {
            2 * (0..<d).reduce(0.0) { $0 + u[i * d + $1] * v[j * d + $1] } / Double(d) + 0.01
        }
        let k = try FullyConnectedReLUKernel.notebook.matrix(x1, x2)
        var expected = [Double]()
        for i in 0..<6 {
            for j in 0..<5 {
                let q = sigma0(i, a, i, a), qp = sigma0(j, b, j, b), c = sigma0(i, a, j, b)
                let root = max(q * qp - c * c, 0).squareRoot()
                let theta = atan2(root, c)
                expected.append((root + 2 * (Double.pi - theta) * c) / Double.pi + 0.01)
            }
        }
        XCTAssertLessThan(maxRelativeDifference(k.values, expected), 1e-13)
        XCTAssertEqual(FullyConnectedReLUKernel.notebook.depth, 1)
        XCTAssertEqual(FullyConnectedReLUKernel.notebook.weightStd * FullyConnectedReLUKernel.notebook.weightStd, 2, accuracy: 1e-15)
        XCTAssertEqual(FullyConnectedReLUKernel.notebook.biasStd, 0.1)
    }

    /// Appendix C's closed form, (x·x′)(π − arccos u)/(2π).
    func testTwoLayerKernelIsAppendixCsClosedForm() throws {
        let d = 9
        let x1 = randomTensor([4, d], seed: 7), x2 = randomTensor([3, d], seed: 8)
        let a = x1.scalars.map(Double.init), b = x2.scalars.map(Double.init)
        func dot(_ u: ArraySlice<Double>, _ v: ArraySlice<Double>) -> Double { zip(u, v).reduce(0) { $0 + $1.0 * $1.1 } }
        var expected = [Double]()
        for i in 0..<4 {
            for j in 0..<3 {
                let u = a[(i * d)..<((i + 1) * d)], v = b[(j * d)..<((j + 1) * d)]
                let c = dot(u, v), cosine = c / (dot(u, u) * dot(v, v)).squareRoot()
                expected.append(c * (Double.pi - acos(cosine)) / (2 * Double.pi))
            }
        }
        XCTAssertLessThan(maxRelativeDifference(try TwoLayerFrozenOutputKernel().matrix(x1, x2).values, expected), 1e-13)
        // Θ(x, x) = ‖x‖²/2.
        let diagonal = try TwoLayerFrozenOutputKernel().diagonal(x1)
        for i in 0..<4 { XCTAssertEqual(diagonal[i], dot(a[(i * d)..<((i + 1) * d)], a[(i * d)..<((i + 1) * d)]) / 2, accuracy: 1e-12) }
    }

    /// Θ(X, X) is symmetric and its diagonal is `diagonal(X)`; Θ(X₂, X₁) = Θ(X₁, X₂)ᵀ.
    func testSymmetryAndDiagonal() throws {
        for (k, x1, x2) in try allKernels() {
            let square = try k.matrix(x1, x1)
            let diagonal = try k.diagonal(x1)
            XCTAssertEqual(diagonal.count, square.rows)
            for i in 0..<square.rows {
                XCTAssertEqual(diagonal[i], square[i, i], accuracy: 1e-12 * abs(square[i, i]), "\(k)")
                for j in 0..<i { XCTAssertEqual(square[i, j], square[j, i], accuracy: 1e-13 * abs(square[i, i]), "\(k)") }
            }
            let forward = try k.matrix(x1, x2), backward = try k.matrix(x2, x1)
            XCTAssertLessThan(maxRelativeDifference(backward.transposed.values, forward.values), 1e-13, "\(k)")
        }
    }

    /// The default products: Θ·W and the gradient with cotangent G Wᵀ.
    func testProductsAreTheMatrixTimesWeights() throws {
        for (k, x1, x2) in try allKernels() {
            let n1 = x1.shape[0], n2 = x2.shape[0]
            let weights = randomMatrix(rows: n2, columns: 3, seed: 9), g = randomMatrix(rows: n1, columns: 3, seed: 10)
            let predictions = try k.product(x1, x2, weights: weights)
            let expected = try k.matrix(x1, x2).multiplied(by: weights)
            XCTAssertLessThan(maxRelativeDifference(predictions.values, expected.values), 1e-14, "\(k)")
            let viaProduct = try k.productInputGradient(x1, x2, weights: weights, cotangent: g)
            let direct = try k.inputGradient(x1, x2, cotangent: try g.multiplied(by: weights.transposed))
            XCTAssertEqual(viaProduct.scalars, direct.scalars, "\(k)")
        }
    }

    /// A zero input (no bias: zero variance) and duplicated inputs (the arc-cosine cone) give finite kernels
    /// and gradients; at a zero-variance input the ReLU derivative is 0, as in a finite network.
    func testDegenerateInputsGiveFiniteValues() throws {
        var rows = randomTensor([3, 6], seed: 11).scalars
        for k in 0..<6 { rows[k] = 0 }  // sample 0 is zero
        let x1 = Tensor(shape: [3, 6], scalars: rows)
        let x2 = Tensor(shape: [4, 6], scalars: rows + Array(rows[6..<12]))  // repeats sample 1
        let kernels: [KernelFunction] = [TwoLayerFrozenOutputKernel(),
                                         try FullyConnectedReLUKernel(depth: 3, weightStd: 1.4, biasStd: 0),
                                         try FullyConnectedReLUKernel(depth: 2, weightStd: 1.4, biasStd: 0.1)]
        for k in kernels {
            let m = try k.matrix(x1, x2)
            XCTAssertTrue(m.values.allSatisfy(\.isFinite), "\(k)")
            let gradient = try k.inputGradient(x1, x2, cotangent: randomMatrix(rows: 3, columns: 4, seed: 12))
            XCTAssertTrue(gradient.scalars.allSatisfy(\.isFinite), "\(k)")
            XCTAssertEqual(m[1, 1], m[1, 3], "\(k)")
        }
        XCTAssertEqual(try TwoLayerFrozenOutputKernel().matrix(x1, x2)[0, 1], 0)
        // With b = 0 and a zero input, every layer's output is 0: the NTK is 0 too.
        XCTAssertEqual(try FullyConnectedReLUKernel(depth: 3, weightStd: 1.4, biasStd: 0).matrix(x1, x2)[0, 2], 0)
        let images = Tensor(shape: [2, 1, 3, 3], scalars: [Float](repeating: 0, count: 9) + (0..<9).map { Float($0) / 9 })
        let conv = try ConvolutionalReLUKernel(depth: 2, weightStd: 1.4, biasStd: 0)
        XCTAssertTrue(try conv.matrix(images, images).values.allSatisfy(\.isFinite))
        XCTAssertTrue(try conv.inputGradient(images, images, cotangent: randomMatrix(rows: 2, columns: 2, seed: 13))
            .scalars.allSatisfy(\.isFinite))
    }

    /// Large batches go through blocked GEMMs and parallel row chunks; every row equals the row computed alone.
    func testLargeBatchesEqualRowByRow() throws {
        let x1 = randomTensor([300, 20], seed: 15), x2 = randomTensor([140, 20], seed: 16)
        let g = randomMatrix(rows: 300, columns: 140, seed: 17)
        let k = try FullyConnectedReLUKernel(depth: 2, weightStd: 1.3, biasStd: 0.1)
        let whole = try k.matrix(x1, x2)
        let gradient = try k.inputGradient(x1, x2, cotangent: g).scalars
        for i in [0, 63, 64, 150, 299] {
            let row = Tensor(shape: [1, 20], scalars: Array(x1.scalars[(i * 20)..<((i + 1) * 20)]))
            XCTAssertLessThan(maxRelativeDifference(Array(whole.row(i)), try k.matrix(row, x2).values), 1e-13)
            let gi = try Float64Matrix(rows: 1, columns: 140, values: Array(g.row(i)))
            XCTAssertLessThan(maxRelativeDifference(Array(gradient[(i * 20)..<((i + 1) * 20)]).map(Double.init),
                                                    try k.inputGradient(row, x2, cotangent: gi).scalars.map(Double.init)), 1e-6)
        }
    }

    /// Empty batches give empty matrices and gradients, not errors.
    func testEmptyBatches() throws {
        let none = Tensor(shape: [0, 7], scalars: []), some = randomTensor([3, 7], seed: 14)
        let k = try FullyConnectedReLUKernel(depth: 2, weightStd: 1, biasStd: 0.1)
        let m = try k.matrix(none, some)
        XCTAssertEqual([m.rows, m.columns], [0, 3])
        XCTAssertEqual(try k.inputGradient(some, none, cotangent: Float64Matrix(rows: 3, columns: 0)).scalars,
                       [Float](repeating: 0, count: 21))
    }
}
