import Autodiff
import KernelMachines
import XCTest

/// Bad inputs and settings are refused with errors naming the argument and value.
final class KernelErrorTests: XCTestCase {
    let fc = FullyConnectedReLUKernel.notebook

    func testIncompatibleShapes() throws {
        let a = randomTensor([2, 12], seed: 1)
        assertThrows(.incompatibleShapes(first: [2, 12], second: [3, 10]), mentions: ["[2, 12]", "[3, 10]"],
                     try fc.matrix(a, randomTensor([3, 10], seed: 2)))
        assertThrows(.incompatibleShapes(first: [2, 12], second: [3, 3, 4]),
                     try fc.inputGradient(a, randomTensor([3, 3, 4], seed: 3), cotangent: Float64Matrix(rows: 2, columns: 3)))
        let conv = try ConvolutionalReLUKernel(depth: 1, weightStd: 1, biasStd: 0)
        assertThrows(.incompatibleShapes(first: [1, 3, 4, 4], second: [1, 3, 4, 5]),
                     try conv.matrix(randomTensor([1, 3, 4, 4], seed: 4), randomTensor([1, 3, 4, 5], seed: 5)))
    }

    func testInputLayouts() throws {
        assertThrows(.inputLayout(argument: "X₁", shape: [12], expected: "[N, features…] with at least one feature"),
                     mentions: ["X₁", "[12]"], try fc.matrix(randomTensor([12], seed: 1), randomTensor([2, 12], seed: 2)))
        assertThrows(.inputLayout(argument: "X₂", shape: [2, 0], expected: "[N, features…] with at least one feature"),
                     try fc.matrix(randomTensor([2, 1], seed: 1), Tensor(shape: [2, 0], scalars: [])))
        let conv = try ConvolutionalReLUKernel(depth: 2, weightStd: 1, biasStd: 0)
        assertThrows(.inputLayout(argument: "X₁", shape: [2, 48], expected: "NCHW images [N, channels, height, width]"),
                     mentions: ["NCHW"], try conv.matrix(randomTensor([2, 48], seed: 1), randomTensor([2, 48], seed: 2)))
        assertThrows(.inputLayout(argument: "x", shape: [2, 3, 4], expected: "NCHW images [N, channels, height, width]"),
                     try conv.diagonal(randomTensor([2, 3, 4], seed: 1)))
    }

    func testNonFiniteInputs() throws {
        var values = randomTensor([3, 4], seed: 1).scalars
        values[9] = .nan
        let bad = Tensor(shape: [3, 4], scalars: values), good = randomTensor([2, 4], seed: 2)
        for k in [fc as KernelFunction, TwoLayerFrozenOutputKernel()] {
            do {
                _ = try k.matrix(bad, good)
                XCTFail("NaN accepted")
            } catch let KernelMachineError.nonFiniteInput(argument, sample, index, value) {
                XCTAssertEqual([argument, String(sample), String(index)], ["X₁", "2", "1"])
                XCTAssertTrue(value.isNaN)
            }
            values[9] = .infinity
            assertThrows(.nonFiniteInput(argument: "X₂", sample: 2, index: 1, value: .infinity), mentions: ["X₂", "inf"],
                         try k.inputGradient(good, Tensor(shape: [3, 4], scalars: values), cotangent: Float64Matrix(rows: 2, columns: 3)))
            values[9] = .nan
        }
        let images = Tensor(shape: [1, 1, 2, 2], scalars: [0, 1, -.infinity, 0])
        assertThrows(.nonFiniteInput(argument: "x", sample: 0, index: 2, value: -.infinity),
                     try ConvolutionalReLUKernel(depth: 1, weightStd: 1, biasStd: 0).diagonal(images))
    }

    func testCotangentsAndWeights() throws {
        let a = randomTensor([2, 5], seed: 1), b = randomTensor([3, 5], seed: 2)
        assertThrows(.matrixShape(argument: "cotangent", expected: [2, 3], got: [3, 2]), mentions: ["cotangent", "3×2", "2×3"],
                     try fc.inputGradient(a, b, cotangent: Float64Matrix(rows: 3, columns: 2)))
        var g = Float64Matrix(rows: 2, columns: 3)
        g[1, 2] = .nan
        do {
            _ = try ConvolutionalReLUKernel(depth: 1, weightStd: 1, biasStd: 0)
                .inputGradient(randomTensor([2, 1, 2, 2], seed: 3), randomTensor([3, 1, 2, 2], seed: 4), cotangent: g)
            XCTFail("NaN cotangent accepted")
        } catch let KernelMachineError.nonFiniteMatrix(argument, row, column, value) {
            XCTAssertEqual([argument, String(row), String(column)], ["cotangent", "1", "2"])
            XCTAssertTrue(value.isNaN)
        }
        assertThrows(.matrixShape(argument: "weights", expected: [3, 4], got: [2, 4]),
                     try fc.product(a, b, weights: Float64Matrix(rows: 2, columns: 4)))
        assertThrows(.matrixShape(argument: "cotangent", expected: [2, 4], got: [2, 3]),
                     try fc.productInputGradient(a, b, weights: Float64Matrix(rows: 3, columns: 4),
                                                 cotangent: Float64Matrix(rows: 2, columns: 3)))
    }

    func testSettings() throws {
        assertThrows(.depthOutOfRange(kernel: "fully connected ReLU", depth: 6, allowed: 1...5), mentions: ["1–5", "6"],
                     try FullyConnectedReLUKernel(depth: 6, weightStd: 1, biasStd: 0))
        assertThrows(.depthOutOfRange(kernel: "fully connected ReLU", depth: 0, allowed: 1...5),
                     try FullyConnectedReLUKernel(depth: 0, weightStd: 1, biasStd: 0))
        assertThrows(.depthOutOfRange(kernel: "convolutional ReLU", depth: 3, allowed: 1...2), mentions: ["convolutional", "3"],
                     try ConvolutionalReLUKernel(depth: 3, weightStd: 1, biasStd: 0))
        assertThrows(.invalidSetting(kernel: "fully connected ReLU", name: "weight standard deviation", value: 0,
                                     requirement: "finite and positive"), mentions: ["weight standard deviation"],
                     try FullyConnectedReLUKernel(depth: 1, weightStd: 0, biasStd: 0))
        assertThrows(.invalidSetting(kernel: "convolutional ReLU", name: "bias standard deviation", value: -0.1,
                                     requirement: "finite and non-negative"), mentions: ["-0.1"],
                     try ConvolutionalReLUKernel(depth: 1, weightStd: 1, biasStd: -0.1))
        do {
            _ = try FullyConnectedReLUKernel(depth: 1, weightStd: .nan, biasStd: 0)
            XCTFail("NaN W_std accepted")
        } catch KernelMachineError.invalidSetting(_, let name, let value, _) {
            XCTAssertEqual(name, "weight standard deviation")
            XCTAssertTrue(value.isNaN)
        }
    }

    func testMatrices() throws {
        assertThrows(.matrixSize(rows: 2, columns: 3, count: 5), mentions: ["2×3", "6", "5"],
                     try Float64Matrix(rows: 2, columns: 3, values: [1, 2, 3, 4, 5]))
        assertThrows(.productShape(left: [2, 3], right: [2, 3]),
                     try Float64Matrix(rows: 2, columns: 3).multiplied(by: Float64Matrix(rows: 2, columns: 3)))
    }
}
