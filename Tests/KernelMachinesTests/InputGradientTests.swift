import Autodiff
import Kernels
import KernelMachines
import XCTest

/// Every kernel's input gradient against central differences of Σ_ij G_ij Θ(X₁, X₂)_ij.
final class InputGradientTests: XCTestCase {
    func check(_ kernel: KernelFunction, _ x1: Tensor, _ x2: Tensor, seed: UInt64,
               file: StaticString = #filePath, line: UInt = #line) throws {
        let g = randomMatrix(rows: x1.shape[0], columns: x2.shape[0], seed: seed)
        let analytic = try kernel.inputGradient(x1, x2, cotangent: g).scalars.map(Double.init)
        let numeric = try centralDifferences(kernel, x1, x2, g)
        let difference = maxRelativeDifference(analytic, numeric)
        XCTAssertLessThan(difference, 1e-4, "\(kernel)", file: file, line: line)
        XCTAssertGreaterThan(numeric.map(abs).max() ?? 0, 0, "\(kernel): a zero gradient checks nothing", file: file, line: line)
    }

    func testFullyConnectedKernels() throws {
        let x1 = randomTensor([4, 6], seed: 21), x2 = randomTensor([3, 6], seed: 22)
        for depth in FullyConnectedReLUKernel.depths {
            for output in AnalyticKernelOutput.allCases {
                for (w, b) in [(2.0.squareRoot(), 0.1), (0.9, 0.0)] {
                    try check(FullyConnectedReLUKernel(depth: depth, weightStd: w, biasStd: b, output: output), x1, x2,
                              seed: UInt64(depth))
                }
            }
        }
        try check(FullyConnectedReLUKernel.notebook, x1, x2, seed: 23)
    }

    func testTwoLayerFrozenOutputKernel() throws {
        try check(TwoLayerFrozenOutputKernel(), randomTensor([4, 6], seed: 24), randomTensor([5, 6], seed: 25), seed: 26)
        // Inputs with more than one axis per sample are flattened.
        try check(TwoLayerFrozenOutputKernel(), randomTensor([2, 2, 3], seed: 27), randomTensor([3, 2, 3], seed: 28), seed: 29)
    }

    func testConvolutionalKernels() throws {
        let x1 = randomTensor([2, 2, 4, 5], seed: 30) { $0.nextUniformDouble() }
        let x2 = randomTensor([3, 2, 4, 5], seed: 31) { $0.nextNormal() }
        for depth in ConvolutionalReLUKernel.depths {
            for output in AnalyticKernelOutput.allCases {
                try check(ConvolutionalReLUKernel(depth: depth, weightStd: 1.5, biasStd: 0.2, output: output), x1, x2,
                          seed: UInt64(40 + depth))
            }
        }
        // One channel, no bias, a single row of pixels.
        try check(ConvolutionalReLUKernel(depth: 2, weightStd: 1.1, biasStd: 0), randomTensor([2, 1, 1, 6], seed: 32),
                  randomTensor([2, 1, 1, 6], seed: 33), seed: 34)
    }
}
