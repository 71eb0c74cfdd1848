import Autodiff
import Foundation
import Kernels
import KernelMachines
import NN
import NTK
import XCTest

/// The two-layer frozen-output kernel against the empirical NTK of a finite wide net built from NN layers:
/// f(x) = (1/√m) Σ_r a_r relu(w_r·x) with w_r ~ N(0, I) trained and a_r = ±1 frozen (EmpiricalNTK counts
/// trainable parameters only).
final class WideNetworkTests: XCTestCase {
    func wideNet(inputs d: Int, width m: Int, seed: UInt64) -> Sequential {
        var rng = Xoshiro256(seed: seed)
        let first = Dense(weight: Initializers.normal([m, d], rng: &rng), bias: nil)
        let signs = Initializers.randomSigns([1, m], rng: &rng).scalars.map { $0 / Float(m).squareRoot() }
        let readout = Dense(weight: Tensor(shape: [1, m], scalars: signs), bias: nil, trainable: false)
        return Sequential([first, ReLU(), readout])
    }

    func relativeDifference(width: Int, seed: UInt64) throws -> Double {
        // Pixel-like inputs: every pair has a positive dot product, so every entry is well away from 0.
        let x = randomTensor([6, 8], seed: 50) { $0.nextUniformDouble() }
        let empirical = try EmpiricalNTK.compute(wideNet(inputs: 8, width: width, seed: seed), inputs: x,
                                                 options: EmpiricalNTK.Options(kind: .traced))
        let analytic = try TwoLayerFrozenOutputKernel().matrix(x, x)
        return zip(empirical.values, analytic.values).map { abs(Double($0) - $1) / abs($1) }.max() ?? .infinity
    }

    /// Width 2²⁰ (≈ 10⁶): every entry within 1 % (the Monte Carlo error per entry is ≈ 0.1 %).
    func testTwoLayerKernelMatchesAWideNetwork() throws {
        let difference = try relativeDifference(width: 1 << 20, seed: 51)
        print(String(format: "two-layer kernel vs empirical NTK at width 2^20: max relative difference %.2e", difference))
        XCTAssertLessThan(difference, 0.01)
    }

    /// The comparison can fail: a narrow net is far from the limit.
    func testANarrowNetworkIsFarFromTheLimit() throws {
        XCTAssertGreaterThan(try relativeDifference(width: 16, seed: 52), 0.01)
    }
}
