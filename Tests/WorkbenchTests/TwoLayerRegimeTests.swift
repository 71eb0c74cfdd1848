import Autodiff
import Datasets
import Foundation
import Kernels
import NN
import Workbench
import XCTest

final class TwoLayerRegimeTests: XCTestCase {
    func testForwardMatchesTheFormula() throws {
        for activation in TwoLayerActivation.allCases {
            var rng = Xoshiro256(seed: 1)
            let net = try TwoLayerNetwork(inputs: 3, width: 4, activation: activation, regime: .full(alpha: 2.5), rng: &rng)
            let x: [Float] = [0.3, -0.7, 0.2, 1.1, 0.4, -0.2]
            let out = try net(Tensor(shape: [2, 3], scalars: x)).scalars
            let w = net.hidden.weight.value.scalars, a = net.output.weight.value.scalars
            for i in 0..<2 {
                var expected = 0.0
                for r in 0..<4 {
                    let z = (0..<3).reduce(0.0) { $0 + Double(w[r * 3 + $1]) * Double(x[i * 3 + $1]) }
                    expected += Double(a[r]) * activation(z)
                }
                expected *= 2.5 / 2  // α/√m
                XCTAssertEqual(Double(out[i]), expected, accuracy: 1e-5, "\(activation)")
            }
        }
    }

    func testBadRegimesAreRefused() throws {
        var rng = Xoshiro256(seed: 1)
        for alpha: Float in [0, -1, .nan, .infinity] {
            XCTAssertThrowsError(try TwoLayerModel(inputs: 3, width: 4, activation: .relu, regime: .lazy(alpha: alpha, centred: false), rng: &rng)) {
                XCTAssertTrue("\($0)".contains("alpha"), "\($0)")
            }
        }
        let none = TwoLayerRegime(trainsFirstLayer: false, trainsOutputLayer: false)
        XCTAssertThrowsError(try TwoLayerModel(inputs: 3, width: 4, activation: .relu, regime: none, rng: &rng)) {
            XCTAssertEqual($0 as? WorkbenchError, .nothingTrained)
        }
        XCTAssertThrowsError(try TwoLayerNetwork(inputs: 3, width: 0, activation: .relu, regime: .full(), rng: &rng)) {
            XCTAssertTrue("\($0)".contains("width = 0"), "\($0)")
        }
    }

    func testCentredModelsAreZeroAtInitialisation() throws {
        var rng = Xoshiro256(seed: 2)
        let x = Initializers.normal([5, 4], rng: &rng)
        for regime in [TwoLayerRegime(trainsFirstLayer: true, trainsOutputLayer: true, alpha: 3, centred: true), .lazy(alpha: 8, centred: true)] {
            let model = try TwoLayerModel(inputs: 4, width: 16, activation: .softplus, regime: regime, rng: &rng)
            XCTAssertEqual(try model.trainee(x).scalars, [Float](repeating: 0, count: 5))
            XCTAssertEqual(model.trainee.trainableParameters.map(\.name), ["hidden.weight", "output.weight"])
        }
        let lazy = try TwoLayerModel(inputs: 4, width: 16, activation: .tanh, regime: .lazy(alpha: 2, centred: false), rng: &rng)
        XCTAssertTrue(lazy.trainee is LinearizedModel)
        XCTAssertEqual(try lazy.trainee(x).scalars, try lazy.network(x).scalars)
    }

    /// Trains each regime a few full-batch steps: the frozen layer stays bit-identical, the trained one moves.
    func testFrozenParametersDoNotMove() throws {
        var rng = Xoshiro256(seed: 3)
        let teacher = try SyntheticTeacher.randomLinear(dimension: 5, rng: &rng)
        let task = try SyntheticTask(dimension: 5, inputs: .sphere, teacher: teacher)
        let train = task.sample(count: 40, rng: &rng), test = task.sample(count: 10, rng: &rng)
        let regimes: [(TwoLayerRegime, hiddenMoves: Bool, outputMoves: Bool)] = [
            (.randomFeatures(), false, true), (TwoLayerRegime(trainsFirstLayer: true, trainsOutputLayer: false), true, false),
            (.full(), true, true), (TwoLayerRegime(trainsFirstLayer: true, trainsOutputLayer: false, linearized: true, alpha: 2), true, false),
        ]
        for (regime, hiddenMoves, outputMoves) in regimes {
            var modelRng = Xoshiro256(seed: 4)
            let model = try TwoLayerModel(inputs: 5, width: 8, activation: .relu, regime: regime, rng: &modelRng)
            let hidden0 = model.network.hidden.weight.value.scalars, output0 = model.network.output.weight.value.scalars
            let trainer = try RegressionTrainer(network: model.network, trainee: model.trainee, optimizer: try SGD(learningRate: 0.5),
                                                data: .fixed(train), test: test, settings: RegressionTrainingSettings(epochs: 3))
            try trainer.fit()
            XCTAssertEqual(model.network.hidden.weight.value.scalars != hidden0, hiddenMoves, regime.label)
            XCTAssertEqual(model.network.output.weight.value.scalars != output0, outputMoves, regime.label)
            XCTAssertLessThan(trainer.history.last!.trainRisk!, trainer.history.first!.trainRisk! + 1e-9, regime.label)
        }
    }
}

extension TwoLayerRegimeTests {
    /// The lazy model's input gradient (reverse over its forward-mode tangent) against central differences
    /// of f_lin after θ has moved away from θ₀.
    func testLazyInputGradientMatchesFiniteDifferences() throws {
        for activation in [TwoLayerActivation.tanh, .softplus] {
            var rng = Xoshiro256(seed: 12)
            let model = try TwoLayerModel(inputs: 4, width: 8, activation: activation, regime: .lazy(alpha: 2, centred: true), rng: &rng)
            for (_, p) in model.network.trainableParameters {
                p.value = try p.value + Initializers.normal(p.value.shape, std: 0.3, rng: &rng)
            }
            let x: [Float] = [0.4, -0.3, 0.5, 0.2]
            let samples = try SyntheticSamples(dimension: 4, inputs: x, targets: [0], cleanTargets: [0], labels: [0])
            var squares = 0.0
            for j in 0..<4 {
                var plus = x, minus = x
                plus[j] += 1e-2; minus[j] -= 1e-2
                let fp = try model.trainee(Tensor(shape: [1, 4], scalars: plus)).scalar
                let fm = try model.trainee(Tensor(shape: [1, 4], scalars: minus)).scalar
                let g = Double(fp - fm) / 2e-2
                squares += g * g
            }
            let norm = try RegressionRobustness.meanInputGradientNorm(model.trainee, samples: samples)
            XCTAssertGreaterThan(norm, 0.01, "\(activation)")
            XCTAssertEqual(norm, squares.squareRoot(), accuracy: 2e-3 * max(1, norm), "\(activation)")
        }
    }
}

extension TwoLayerRegimeTests {
    /// The lazy model of a ReLU net is discontinuous in x: its first-layer term (α/√m) a_r 1{w⁰_r·x > 0} Δw_r·x
    /// jumps by (α/√m) a_r Δw_r·x where w⁰_r·x changes sign, while its input gradient (almost everywhere) stays
    /// bounded — so E‖∇ₓf‖ does not see the jumps an ε-ball attack can reach. The jump has this closed form;
    /// the network itself (continuous) does not jump there.
    func testLazyReLUModelJumpsWhereAnInitialUnitChangesSign() throws {
        var rng = Xoshiro256(seed: 21)
        let alpha: Float = 2, width = 4
        let model = try TwoLayerModel(inputs: 3, width: width, activation: .relu, regime: .lazy(alpha: alpha, centred: false), rng: &rng)
        let w0 = model.network.hidden.weight.value.scalars, a = model.network.output.weight.value.scalars
        for (_, p) in model.network.trainableParameters { p.value = try p.value + Initializers.normal(p.value.shape, std: 0.5, rng: &rng) }
        let delta = zip(model.network.hidden.weight.value.scalars, w0).map { Double($0 - $1) }
        // x₀ on unit 0's initial kink (w⁰₀·x₀ = 0; Δw₀ with its w⁰₀ part removed), then a step of ±t along w⁰₀.
        let u = (0..<3).map { Double(w0[$0]) }, unitNorm = u.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let v = Array(delta[0..<3])
        let along = zip(v, u).reduce(0) { $0 + $1.0 * $1.1 } / (unitNorm * unitNorm)
        let x0 = zip(v, u).map { $0 - along * $1 }
        let t = 1e-4
        func point(_ side: Double) -> [Float] { zip(x0, u).map { Float($0 + side * t * $1 / unitNorm) } }
        func value(_ module: Module, _ side: Double) throws -> Double {
            Double(try module(Tensor(shape: [1, 3], scalars: point(side))).scalar)
        }
        let expected = Double(alpha) / Double(width).squareRoot() * Double(a[0]) * (0..<3).reduce(0.0) { $0 + delta[$1] * x0[$1] }
        XCTAssertGreaterThan(abs(expected), 0.05)
        XCTAssertEqual(try value(model.trainee, 1) - value(model.trainee, -1), expected, accuracy: 1e-3)
        XCTAssertEqual(try value(model.network, 1) - value(model.network, -1), 0, accuracy: 1e-3)
        let gradient = try RegressionRobustness.meanInputGradientNorm(
            model.trainee, samples: try SyntheticSamples(dimension: 3, inputs: point(1), targets: [0], cleanTargets: [0], labels: [0]))
        XCTAssertLessThan(gradient * 2 * t, 0.1 * abs(expected), "the a.e. gradient does not account for the jump")
    }
}
