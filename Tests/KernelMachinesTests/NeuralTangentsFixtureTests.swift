import Autodiff
import Foundation
import KernelMachines
import XCTest

/// Every analytic kernel against neural-tangents' `kernel_fn` (float64) on the same inputs, and every input
/// gradient against `jax.grad` through it: Tests/Fixtures/kernel_machines_nt.json, written by
/// Benchmarks/kernel_machines/analytic_vs_nt.py.
final class NeuralTangentsFixtureTests: XCTestCase {
    struct StoredTensor: Decodable {
        let shape: [Int]
        let values: [Double]
        var tensor: Tensor { Tensor(shape: shape, scalars: values.map { Float($0) }) }
    }

    struct Case: Decodable {
        let kind: String
        let depth: Int?
        let weight_std: Double?
        let bias_std: Double?
        let output: String?
        let inputs: String
        let kernel: StoredTensor
        let cotangent: StoredTensor
        let gradient: StoredTensor
    }

    struct Fixture: Decodable {
        let neural_tangents: String
        let inputs: [String: StoredTensor]
        let cases: [Case]
    }

    func loadFixture() throws -> Fixture {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/kernel_machines_nt.json")
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }

    func kernel(for c: Case) throws -> KernelFunction {
        let output = try XCTUnwrap(c.output.flatMap(AnalyticKernelOutput.init(rawValue:)) ?? (c.kind == "two-layer" ? .ntk : nil))
        switch c.kind {
        case "fc":
            return try FullyConnectedReLUKernel(depth: try XCTUnwrap(c.depth), weightStd: try XCTUnwrap(c.weight_std),
                                                biasStd: try XCTUnwrap(c.bias_std), output: output)
        case "conv":
            return try ConvolutionalReLUKernel(depth: try XCTUnwrap(c.depth), weightStd: try XCTUnwrap(c.weight_std),
                                               biasStd: try XCTUnwrap(c.bias_std), output: output)
        case "two-layer":
            return TwoLayerFrozenOutputKernel()
        default:
            throw XCTSkip("unknown kernel kind \(c.kind)")
        }
    }

    func testKernelsAndInputGradientsMatchNeuralTangents() throws {
        let fixture = try loadFixture()
        XCTAssertEqual(fixture.cases.count, 29)
        var worstKernel: [String: Double] = [:], worstGradient: [String: Double] = [:]
        for c in fixture.cases {
            let k = try kernel(for: c)
            let x1 = try XCTUnwrap(fixture.inputs[c.inputs + "1"]).tensor
            let x2 = try XCTUnwrap(fixture.inputs[c.inputs + "2"]).tensor
            let matrix = try k.matrix(x1, x2)
            XCTAssertEqual([matrix.rows, matrix.columns], c.kernel.shape, "\(k)")
            let kernelDifference = maxRelativeDifference(matrix.values, c.kernel.values)
            XCTAssertLessThan(kernelDifference, 1e-5, "\(k)")

            let g = try Float64Matrix(rows: matrix.rows, columns: matrix.columns, values: c.cotangent.values)
            let gradient = try k.inputGradient(x1, x2, cotangent: g)
            XCTAssertEqual(gradient.shape, c.gradient.shape, "\(k)")
            let gradientDifference = maxRelativeDifference(gradient.scalars.map(Double.init), c.gradient.values)
            XCTAssertLessThan(gradientDifference, 1e-5, "\(k)")

            worstKernel[c.kind] = max(worstKernel[c.kind] ?? 0, kernelDifference)
            worstGradient[c.kind] = max(worstGradient[c.kind] ?? 0, gradientDifference)
        }
        for kind in worstKernel.keys.sorted() {
            print(String(format: "neural-tangents %@ vs Tangent, %@: kernel max relative difference %.2e, input gradient %.2e",
                         fixture.neural_tangents, kind, worstKernel[kind]!, worstGradient[kind]!))
        }
    }

    /// The notebook preset is the fixture's depth-1, W_std = √2, b_std = 0.1 NTK.
    func testNotebookPresetIsTheFixturesNotebookCase() throws {
        let fixture = try loadFixture()
        let c = try XCTUnwrap(fixture.cases.first {
            $0.kind == "fc" && $0.depth == 1 && $0.output == "ntk" && abs(($0.weight_std ?? 0) - 2.0.squareRoot()) < 1e-12
                && $0.bias_std == 0.1
        })
        let x1 = try XCTUnwrap(fixture.inputs["flat1"]).tensor, x2 = try XCTUnwrap(fixture.inputs["flat2"]).tensor
        XCTAssertLessThan(maxRelativeDifference(try FullyConnectedReLUKernel.notebook.matrix(x1, x2).values, c.kernel.values), 1e-12)
    }
}
