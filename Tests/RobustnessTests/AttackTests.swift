import XCTest
import Autodiff
import Datasets
import Kernels
import NN
import Robustness

/// Attack invariants on a small model trained for a few epochs on the embedded MNIST sample.
final class AttackTests: XCTestCase {
    /// A small MLP trained on 2,000 embedded MNIST images (fast in debug builds), and 200 test images.
    /// Built once; a failure is reported by every test that uses it.
    nonisolated(unsafe) static let fixtureResult = Result<(model: Sequential, x: Tensor, y: [Int32]), Error> {
        let splits = try MNISTLoader.embeddedSample()
        var rng = Xoshiro256(seed: 9)
        let model = Sequential([("flatten", Flatten()), ("fc1", Dense(inputs: 784, outputs: 64, rng: &rng)),
                                ("relu", ReLU()), ("fc2", Dense(inputs: 64, outputs: 10, rng: &rng))])
        let sgd = try SGD(learningRate: 0.1)
        let train = splits.train.firstSubset(2000)
        for _ in 0..<3 {
            for start in stride(from: 0, to: 2000, by: 100) {
                let (x, y) = train.batch(indices: start..<(start + 100))
                let xt = Tensor(shape: [100, 1, 28, 28], scalars: x)
                let (_, g) = try model.lossAndGradients { try softmaxCrossEntropy(logits: try model(xt), labels: y) }
                try sgd.update(model, gradients: g)
            }
        }
        let (x, y) = splits.test.batch(indices: 0..<200)
        return (model, Tensor(shape: [200, 1, 28, 28], scalars: x), y)
    }

    static func fixture() throws -> (model: Sequential, x: Tensor, y: [Int32]) { try fixtureResult.get() }

    func testPerturbationsStayInsideTheBallAndTheImageRange() throws {
        let (model, x, y) = try Self.fixture()
        var rng = Xoshiro256(seed: 1)
        for config in [PGDConfiguration(epsilon: 0.1, stepSize: 0.02, steps: 5),
                       PGDConfiguration(epsilon: 0.1, stepSize: 0.02, steps: 5, randomStart: true, clipEveryStep: true)] {
            let adv = try Attacks.pgd(model, inputs: x, labels: y, configuration: config, rng: &rng)
            for (a, c) in zip(adv.scalars, x.scalars) {
                XCTAssert(a >= 0 && a <= 1, "outside [0, 1]: \(a)")
                XCTAssertLessThanOrEqual(abs(a - c), 0.1 + 1e-6)
            }
        }
        let fgsm = try Attacks.fgsm(model, inputs: x, labels: y, epsilon: 0.2)
        for (a, c) in zip(fgsm.scalars, x.scalars) {
            XCTAssert(a >= 0 && a <= 1)
            XCTAssertLessThanOrEqual(abs(a - c), 0.2 + 1e-6)
        }
    }

    func testLossOrderingCleanFGSMPGD() throws {
        let (model, x, y) = try Self.fixture()
        var rng = Xoshiro256(seed: 2)
        let clean = try softmaxCrossEntropy(logits: try model(x), labels: y).scalar
        let fgsm = try softmaxCrossEntropy(logits: try model(try Attacks.fgsm(model, inputs: x, labels: y, epsilon: 0.1)), labels: y).scalar
        let pgd = try softmaxCrossEntropy(logits: try model(try Attacks.pgd(model, inputs: x, labels: y,
            configuration: PGDConfiguration(epsilon: 0.1, stepSize: 0.01, steps: 20), rng: &rng)), labels: y).scalar
        XCTAssertGreaterThan(fgsm, clean)
        XCTAssertGreaterThanOrEqual(pgd, fgsm)
    }

    func testRobustAccuracyFallsWithEpsilonAndEqualsCleanAtZero() throws {
        let (model, x, y) = try Self.fixture()
        var previous = 2.0
        for eps: Float in [0, 0.05, 0.1, 0.2, 0.3] {
            var rng = Xoshiro256(seed: 3)
            let r = try RobustEvaluation.evaluate(model, images: x, labels: y,
                                              attack: .pgd(PGDConfiguration(epsilon: eps, stepSize: 0.01, steps: 20)), rng: &rng)
            if eps == 0 { XCTAssertEqual(r.robustAccuracy, r.cleanAccuracy) }
            XCTAssertLessThanOrEqual(r.robustAccuracy, previous, "robust accuracy rose at ε = \(eps)")
            previous = r.robustAccuracy
            XCTAssertNil(r.gradientMaskingWarning)
        }
        XCTAssertGreaterThan(accuracy(logits: try model(x), labels: y), 0.7, "the fixture should be trained")
        XCTAssertLessThan(previous, 0.2, "PGD at ε = 0.3 should break an undefended model")
    }

    func testAttacksLeaveParametersUntouched() throws {
        let (model, x, y) = try Self.fixture()
        let before = model.namedParameters.map { $0.parameter.value.scalars }
        var rng = Xoshiro256(seed: 4)
        _ = try Attacks.pgd(model, inputs: x, labels: y, configuration: .paper(cifar: false), rng: &rng)
        _ = try Attacks.fgsm(model, inputs: x, labels: y, epsilon: 0.3)
        XCTAssertEqual(model.namedParameters.map { $0.parameter.value.scalars }, before)
        XCTAssertFalse(model.namedParameters.contains { $0.parameter.value.requiresGradient })
    }

    func testGradientMaskingIsReported() throws {
        // A network whose ReLU layer is dead everywhere has zero input gradients.
        let dead = Sequential([("flatten", Flatten()),
                               ("fc1", Dense(weight: Tensor.zeros([8, 784]), bias: Tensor(repeating: -1, shape: [8]))),
                               ("relu", ReLU()),
                               ("fc2", Dense(weight: Tensor(repeating: 0.1, shape: [10, 8]), bias: Tensor.zeros([10])))])
        let (_, x, y) = try Self.fixture()
        var rng = Xoshiro256(seed: 5)
        let r = try RobustEvaluation.evaluate(dead, images: x, labels: y, attack: .pgd(.paper(cifar: false)), rng: &rng)
        XCTAssertEqual(r.zeroGradientFraction, 1)
        XCTAssertNotNil(r.gradientMaskingWarning)
        XCTAssertEqual(r.robustAccuracy, r.cleanAccuracy)  // the attack could not move
    }

    func testInputsThatDoNotFitTheModelThrowAShapeErrorNamingTheLayer() throws {
        let (model, _, _) = try Self.fixture()
        // 20×20 images flatten to 400 features where fc1 takes 784.
        let small = Tensor.zeros([4, 1, 20, 20])
        let labels: [Int32] = [0, 1, 2, 3]
        var rng = Xoshiro256(seed: 6)
        for attack in [AttackKind.pgd(.paper(cifar: false)), .fgsm(epsilon: 0.1)] {
            XCTAssertThrowsError(try attack.perturb(model, inputs: small, labels: labels, rng: &rng)) { error in
                let shapeError = error as? ShapeError
                XCTAssertEqual(shapeError?.modulePath, ["fc1"], "\(error)")
                XCTAssertTrue("\(error)".contains("fc1"), "\(error)")
            }
        }
        XCTAssertThrowsError(try RobustEvaluation.evaluate(model, images: small, labels: labels,
                                                           attack: .fgsm(epsilon: 0.1), rng: &rng)) { error in
            XCTAssertTrue(error is ShapeError, "\(error)")
        }
        // Labels that do not match the batch are refused by the loss.
        XCTAssertThrowsError(try Attacks.inputGradient(of: model, at: Tensor.zeros([4, 1, 28, 28]), labels: [0, 1]))
    }
    /// Attacks differentiate the loss they are given: the squared loss's input gradient matches its own
    /// finite difference (and not cross-entropy's gradient), PGD on it raises the squared loss, and robust
    /// evaluation reports it.
    func testAttacksUseTheLossTheyAreGiven() throws {
        let (model, allX, allY) = try Self.fixture()
        let x = Tensor(shape: [4, 1, 28, 28], scalars: Array(allX.scalars[0..<(4 * 784)]))
        let y = Array(allY[0..<4])
        let mse = Loss.meanSquared()
        let (value, gradient) = try Attacks.inputGradient(of: model, at: x, labels: y, loss: mse)
        let (ceValue, ceGradient) = try Attacks.inputGradient(of: model, at: x, labels: y)
        XCTAssertEqual(value, try mse(try model(x), labels: y).scalar)
        XCTAssertEqual(ceValue, try softmaxCrossEntropy(logits: try model(x), labels: y).scalar)
        XCTAssertNotEqual(gradient.scalars, ceGradient.scalars)

        // Central difference of the squared loss on the coordinate with the largest gradient.
        let j = gradient.scalars.indices.max { abs(gradient.scalars[$0]) < abs(gradient.scalars[$1]) }!
        func loss(shiftedBy h: Float) throws -> Double {
            var shifted = x
            shifted.withUnsafeMutablePointer { $0[j] += h }
            return Double(try mse(try model(shifted), labels: y).scalar)
        }
        let h: Float = 1e-2
        let difference = (try loss(shiftedBy: h) - loss(shiftedBy: -h)) / Double(2 * h)
        XCTAssertEqual(Double(gradient.scalars[j]), difference, accuracy: 0.02 * abs(difference))
        XCTAssertGreaterThan(abs(Double(ceGradient.scalars[j]) - difference), 0.1 * abs(difference),
                             "cross-entropy's gradient should not match the squared loss's")

        // PGD through the squared loss: raises it, and differs from PGD through cross-entropy.
        let c = PGDConfiguration(epsilon: 0.1, stepSize: 0.02, steps: 5)
        var r1 = Xoshiro256(seed: 7), r2 = Xoshiro256(seed: 7), r3 = Xoshiro256(seed: 7)
        let onMSE = try Attacks.pgd(model, inputs: allX, labels: allY, configuration: c, loss: mse, rng: &r1)
        let onCE = try Attacks.pgd(model, inputs: allX, labels: allY, configuration: c, rng: &r2)
        XCTAssertGreaterThan(try mse(try model(onMSE), labels: allY).scalar, try mse(try model(allX), labels: allY).scalar)
        XCTAssertNotEqual(onMSE.scalars, onCE.scalars)
        XCTAssertEqual(try AttackKind.pgd(c).perturb(model, inputs: allX, labels: allY, loss: mse, rng: &r3).scalars, onMSE.scalars)

        var r4 = Xoshiro256(seed: 7)
        let report = try RobustEvaluation.evaluate(model, images: allX, labels: allY, attack: .pgd(c), loss: mse, rng: &r4)
        XCTAssertEqual(report.cleanLoss, Double(try mse(try model(allX), labels: allY).scalar), accuracy: 1e-6)
        XCTAssertEqual(report.adversarialLoss, Double(try mse(try model(onMSE), labels: allY).scalar), accuracy: 1e-6)
    }
}
