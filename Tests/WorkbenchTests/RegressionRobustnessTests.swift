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

    /// For a linear f and ±1 targets, the ε-ball of x is classified correctly iff y w·x > ε‖w‖_* (ℓ2 for
    /// the ℓ2 ball, ℓ1 for ℓ∞); one sign-margin PGD step of size ε from δ = 0 reaches the worst point,
    /// so the robust sign accuracy is that count exactly. Margins straddle the threshold on both sides.
    func testSignMarginAttackOnALinearModelHasTheClosedFormRobustAccuracy() throws {
        let model = Dense(weight: Tensor(shape: [1, 4], scalars: w), bias: nil)
        let l2 = w.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot(), l1 = w.reduce(0.0) { $0 + Double(abs($1)) }
        let epsilon = 0.2
        // x_i = t_i · w / ‖w‖², so w·x_i = t_i; targets alternate in sign, margins y·t around ε‖w‖_*.
        for (norm, dual) in [(RegressionRobustness.Norm.l2, l2), (.linf, l1)] {
            let threshold = epsilon * dual
            let margins = [-0.5, 0.5 * threshold, 0.9 * threshold, 1.1 * threshold, 3 * threshold]
            let y: [Float] = margins.indices.map { $0 % 2 == 0 ? 1 : -1 }
            var x: [Float] = []
            for (m, t) in zip(margins, y) { x += w.map { Float(m * Double(t) * Double($0) / (l2 * l2)) } }
            let samples = try SyntheticSamples(dimension: 4, inputs: x, targets: y, cleanTargets: y, labels: y.map { $0 > 0 ? 1 : 0 })
            var rng = Xoshiro256(seed: 3)
            let report = try RegressionRobustness.evaluate(model, samples: samples, attack: PGDConfiguration(epsilon: Float(epsilon), stepSize: Float(epsilon), steps: 2),
                                                           norm: norm, attackedLoss: .signMargin, rng: &rng)
            XCTAssertEqual(report.cleanSignAccuracy, 4.0 / 5, "\(norm)")
            XCTAssertEqual(report.robustSignAccuracy, 2.0 / 5, "\(norm): margins 1.1 and 3 × ε‖w‖_* survive")
            // The squared error at the attacked inputs: each output moved by ε‖w‖_* against its target.
            let expected = zip(margins, y).reduce(0.0) { $0 + pow($1.0 - threshold - 1, 2) } / 5
            XCTAssertEqual(report.adversarialRisk, expected, accuracy: 1e-4, "\(norm)")
        }
    }

    /// An output that overshoots its target (f = 1.2 against y = 1) with a flip within reach (ε‖w‖ = 1.5):
    /// the squared error's attack pushes it further up and finds no flip; the sign-margin attack flips it.
    func testSignMarginAttackFindsAFlipTheSquaredErrorAttackMisses() throws {
        let model = Dense(weight: Tensor(shape: [1, 2], scalars: [3, 4]), bias: nil)
        let samples = try SyntheticSamples(dimension: 2, inputs: [0.144, 0.192], targets: [1], cleanTargets: [1], labels: [1])  // w·x = 1.2
        let attack = PGDConfiguration(epsilon: 0.3, stepSize: 0.1, steps: 10)
        var rng = Xoshiro256(seed: 1)
        let squared = try RegressionRobustness.evaluate(model, samples: samples, attack: attack, norm: .l2, rng: &rng)
        let margin = try RegressionRobustness.evaluate(model, samples: samples, attack: attack, norm: .l2, attackedLoss: .signMargin, rng: &rng)
        XCTAssertEqual(squared.robustSignAccuracy, 1)
        XCTAssertEqual(squared.adversarialRisk, pow(2.7 - 1, 2), accuracy: 1e-4)
        XCTAssertEqual(margin.robustSignAccuracy, 0)
        XCTAssertEqual(margin.adversarialRisk, pow(-0.3 - 1, 2), accuracy: 1e-4)
    }

    /// The sign-margin objective's input gradient against central differences on a smooth two-layer net.
    func testSignMarginGradientMatchesFiniteDifferences() throws {
        var rng = Xoshiro256(seed: 8)
        let net = try TwoLayerNetwork(inputs: 3, width: 6, activation: .tanh, regime: .full(alpha: 1.3), rng: &rng)
        let x: [Float] = [0.3, -0.2, 0.5, -0.6, 0.1, 0.4]
        let y: [Float] = [1, -1]
        let objective = SignMarginObjective(net, targets: y)
        let (loss, g) = try objective.lossAndInputGradient(at: Tensor(shape: [2, 3], scalars: x), labels: [0, 0])
        func value(_ v: [Float]) throws -> Double {
            let f = try net(Tensor(shape: [2, 3], scalars: v)).scalars
            return -(Double(f[0]) * 1 - Double(f[1])) / 2
        }
        XCTAssertEqual(Double(loss), try value(x), accuracy: 1e-6)
        let h: Float = 1e-2
        for j in 0..<6 {
            var plus = x, minus = x
            plus[j] += h; minus[j] -= h
            let numeric = (try value(plus) - value(minus)) / Double(2 * h)
            XCTAssertEqual(Double(g.scalars[j]), numeric, accuracy: 1e-3, "input \(j)")
        }
        XCTAssertThrowsError(try SignMarginObjective(net, targets: [1, 1, 1]).lossAndAccuracy(at: Tensor(shape: [2, 3], scalars: x), labels: [0, 0])) {
            XCTAssertTrue("\($0)".contains("[3, 1]"), "\($0)")
        }
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
