import Autodiff
import Datasets
import Foundation
import Kernels
import NN
import Robustness
import Training
import Workbench
import XCTest

final class RegressionRobustnessTests: XCTestCase {
    private let w: [Float] = [0.5, -2, 1, 0.25]

    /// f(x) = w·x on two samples with targets: residual r = w·x − y.
    private func linearProblem() throws -> (Dense, SyntheticSamples, [Double]) {
        let x: [Float] = [0.2, 0.1, -0.3, 0.5, -0.4, 0.6, 0.1, 0.0]
        let y: [Float] = [0.1, -1]
        let model = Dense(weight: Tensor(shape: [1, 4], scalars: w), bias: nil)
        let samples = try SyntheticSamples(dimension: 4, inputs: x, targets: y, cleanTargets: y, labels: [1, 0])
        let residuals = (0..<2).map { i in (0..<4).reduce(0.0) { $0 + Double(w[$1]) * Double(x[i * 4 + $1]) } - Double(y[i]) }
        return (model, samples, residuals)
    }

    /// For a linear f the worst squared error in the ε-ball is (|r| + ε‖w‖_*)², ‖·‖_* the dual norm:
    /// ℓ2 for the ℓ2 ball, ℓ1 for the ℓ∞ ball. One PGD step of size ε reaches it.
    func testAdversarialRiskOfALinearModelHasItsClosedForm() throws {
        let (model, samples, r) = try linearProblem()
        let epsilon: Float = 0.3
        let l2 = w.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot(), l1 = w.reduce(0.0) { $0 + Double(abs($1)) }
        for (norm, dual) in [(RegressionRobustness.Norm.l2, l2), (.linf, l1)] {
            var rng = Xoshiro256(seed: 1)
            let report = try RegressionRobustness.evaluate(model, samples: samples, attack: PGDConfiguration(epsilon: epsilon, stepSize: epsilon, steps: 3),
                                                           norm: norm, rng: &rng)
            let clean = r.reduce(0) { $0 + $1 * $1 } / 2
            let worst = r.reduce(0) { $0 + pow(abs($1) + Double(epsilon) * dual, 2) } / 2
            XCTAssertEqual(report.cleanRisk, clean, accuracy: 1e-6, "\(norm)")
            XCTAssertEqual(report.adversarialRisk, worst, accuracy: 1e-5 * worst, "\(norm)")
            XCTAssertEqual(report.cleanSignAccuracy, 0.5)  // sample 0: f = −0.275 against +0.1
        }
        // Inputs are not clipped to [0, 1]: an ε larger than the inputs still acts in full.
        var rng = Xoshiro256(seed: 1)
        let big = try RegressionRobustness.evaluate(model, samples: samples, attack: PGDConfiguration(epsilon: 5, stepSize: 5, steps: 1),
                                                    norm: .l2, rng: &rng)
        XCTAssertEqual(big.adversarialRisk, r.reduce(0) { $0 + pow(abs($1) + 5 * l2, 2) } / 2, accuracy: 1e-3)
    }

    func testInputGradientNormOfALinearModelIsItsWeightNorm() throws {
        let (model, samples, _) = try linearProblem()
        let expected = w.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        XCTAssertEqual(try RegressionRobustness.meanInputGradientNorm(model, samples: samples, batchSize: 1), expected, accuracy: 1e-6)
    }

    func testInputGradientNormOfATwoLayerNetwork() throws {
        var rng = Xoshiro256(seed: 5)
        let net = try TwoLayerNetwork(inputs: 3, width: 5, activation: .tanh, regime: .full(alpha: 1.5), rng: &rng)
        let x: [Float] = [0.2, -0.4, 0.9]
        let samples = try SyntheticSamples(dimension: 3, inputs: x, targets: [0], cleanTargets: [0], labels: [0])
        // ∇f = (α/√m) Σ_r a_r (1 − tanh²(w_r·x)) w_r
        let W = net.hidden.weight.value.scalars, a = net.output.weight.value.scalars
        var g = [Double](repeating: 0, count: 3)
        for r in 0..<5 {
            let z = (0..<3).reduce(0.0) { $0 + Double(W[r * 3 + $1]) * Double(x[$1]) }
            for j in 0..<3 { g[j] += Double(a[r]) * (1 - tanh(z) * tanh(z)) * Double(W[r * 3 + j]) }
        }
        let expected = g.reduce(0) { $0 + $1 * $1 }.squareRoot() * 1.5 / 5.0.squareRoot()
        XCTAssertEqual(try RegressionRobustness.meanInputGradientNorm(net, samples: samples), expected, accuracy: 1e-5)
    }

    func testParameterDistance() throws {
        let model = Dense(weight: Tensor(shape: [1, 2], scalars: [3, 4]), bias: Tensor(shape: [1], scalars: [0]))
        let start = ParameterDistance.snapshot(model)
        model.weight.value = Tensor(shape: [1, 2], scalars: [3, 1])
        model.bias!.value = Tensor(shape: [1], scalars: [4])
        XCTAssertEqual(try ParameterDistance.relative(model, from: start), 1, accuracy: 1e-12)  // ‖(0, −3, 4)‖ / ‖(3, 4, 0)‖
        XCTAssertThrowsError(try ParameterDistance.relative(model, from: ["weight": start["weight"]!])) {
            XCTAssertTrue("\($0)".contains("'bias'"), "\($0)")
        }
    }

    func testBadAttackSettingsAreRefused() throws {
        let (model, samples, _) = try linearProblem()
        var rng = Xoshiro256(seed: 1)
        XCTAssertThrowsError(try RegressionRobustness.evaluate(model, samples: samples, attack: PGDConfiguration(epsilon: -1, stepSize: 0.1),
                                                               norm: .l2, rng: &rng)) { XCTAssertTrue("\($0)".contains("epsilon"), "\($0)") }
        XCTAssertThrowsError(try RegressionRobustness.evaluate(model, samples: samples, targets: [1], attack: PGDConfiguration(epsilon: 1, stepSize: 0.1),
                                                               norm: .l2, rng: &rng))
    }
}
