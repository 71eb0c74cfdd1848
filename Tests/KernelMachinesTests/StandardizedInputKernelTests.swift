import Autodiff
import Foundation
import Kernels
import KernelMachines
import XCTest

/// The standardized-input kernel against the base kernel on standardized inputs, its gradient against
/// central differences, its statistics and refusals.
final class StandardizedInputKernelTests: XCTestCase {
    let x1 = uniformInputs([4, 3, 2, 2], seed: 111), x2 = uniformInputs([5, 3, 2, 2], seed: 112)
    let mean = [0.4, 0.5, 0.45], std = [0.25, 0.2, 0.3]

    /// x standardized by hand, channel by channel.
    func standardizedByHand(_ x: Tensor) -> Tensor {
        Tensor(shape: x.shape, scalars: x.scalars.enumerated().map { k, v in
            let c = (k % 12) / 4
            return Float((Double(v) - mean[c]) / std[c])
        })
    }

    func testTheKernelIsTheBaseKernelOfStandardizedInputs() throws {
        let kernel = try StandardizedInputKernel(base: FullyConnectedReLUKernel.notebook, mean: mean, standardDeviation: std)
        let expected = try FullyConnectedReLUKernel.notebook.matrix(standardizedByHand(x1), standardizedByHand(x2))
        XCTAssertLessThan(maxRelativeDifference(try kernel.matrix(x1, x2).values, expected.values), 1e-12)
        XCTAssertLessThan(maxRelativeDifference(try kernel.diagonal(x1),
                                                try FullyConnectedReLUKernel.notebook.diagonal(standardizedByHand(x1))), 1e-12)
        XCTAssertTrue(kernel.description.contains("standardized inputs (3 channels)"))
    }

    func testTheInputGradientMatchesCentralDifferences() throws {
        let kernel = try StandardizedInputKernel(base: FullyConnectedReLUKernel.notebook, mean: mean, standardDeviation: std)
        let g = randomMatrix(rows: 4, columns: 5, seed: 113)
        let analytic = try kernel.inputGradient(x1, x2, cotangent: g).scalars.map(Double.init)
        XCTAssertLessThan(maxRelativeDifference(analytic, try centralDifferences(kernel, x1, x2, g)), 1e-4)
    }

    func testChannelStatisticsAndRefusals() throws {
        let (m, s) = try StandardizedInputKernel.channelStatistics(x1)
        for c in 0..<3 {
            let values = (0..<4).flatMap { i in (0..<4).map { Double(x1.scalars[i * 12 + c * 4 + $0]) } }
            let mu = values.reduce(0, +) / 16
            XCTAssertEqual(m[c], mu, accuracy: 1e-12)
            XCTAssertEqual(s[c], (values.reduce(0) { $0 + ($1 - mu) * ($1 - mu) } / 16).squareRoot(), accuracy: 1e-9)
        }
        XCTAssertThrowsError(try StandardizedInputKernel(base: FullyConnectedReLUKernel.notebook, mean: [0.5], standardDeviation: [0]))
        XCTAssertThrowsError(try StandardizedInputKernel(base: FullyConnectedReLUKernel.notebook, mean: [0.5, 0.5], standardDeviation: [1]))
        let kernel = try StandardizedInputKernel(base: FullyConnectedReLUKernel.notebook, mean: mean, standardDeviation: std)
        assertThrows(.inputLayout(argument: "X₁", shape: [2, 4, 3], expected: "[N, 3, …] (one mean and standard deviation per channel)"),
                     try kernel.matrix(uniformInputs([2, 4, 3], seed: 1), uniformInputs([2, 4, 3], seed: 2)))
    }
}
