import XCTest
import Autodiff
import Datasets
import Kernels
import NN
import Robustness

/// Attack invariants on a small model trained for a few epochs on the embedded MNIST sample.
final class AttackTests: XCTestCase {
    /// A small MLP trained on 2,000 embedded MNIST images (fast in debug builds), and 200 test images.
    nonisolated(unsafe) static let fixture: (model: Sequential, x: Tensor, y: [Int32]) = {
        let splits = try! MNISTLoader.embeddedSample()
        var rng = Xoshiro256(seed: 9)
        let model = Sequential([("flatten", Flatten()), ("fc1", Dense(inputs: 784, outputs: 64, rng: &rng)),
                                ("relu", ReLU()), ("fc2", Dense(inputs: 64, outputs: 10, rng: &rng))])
        let sgd = SGD(learningRate: 0.1)
        let train = splits.train.firstSubset(2000)
        for _ in 0..<3 {
            for start in stride(from: 0, to: 2000, by: 100) {
                let (x, y) = train.batch(indices: start..<(start + 100))
                let xt = Tensor(shape: [100, 1, 28, 28], scalars: x)
                let (_, g) = model.lossAndGradients { softmaxCrossEntropy(logits: model(xt), labels: y) }
                sgd.update(model, gradients: g)
            }
        }
        let (x, y) = splits.test.batch(indices: 0..<200)
        return (model, Tensor(shape: [200, 1, 28, 28], scalars: x), y)
    }()

    func testPerturbationsStayInsideTheBallAndTheImageRange() {
        let (model, x, y) = Self.fixture
        var rng = Xoshiro256(seed: 1)
        for config in [PGDConfiguration(epsilon: 0.1, stepSize: 0.02, steps: 5),
                       PGDConfiguration(epsilon: 0.1, stepSize: 0.02, steps: 5, randomStart: true, clipEveryStep: true)] {
            let adv = Attacks.pgd(model, inputs: x, labels: y, configuration: config, rng: &rng)
            for (a, c) in zip(adv.scalars, x.scalars) {
                XCTAssert(a >= 0 && a <= 1, "outside [0, 1]: \(a)")
                XCTAssertLessThanOrEqual(abs(a - c), 0.1 + 1e-6)
            }
        }
        let fgsm = Attacks.fgsm(model, inputs: x, labels: y, epsilon: 0.2)
        for (a, c) in zip(fgsm.scalars, x.scalars) {
            XCTAssert(a >= 0 && a <= 1)
            XCTAssertLessThanOrEqual(abs(a - c), 0.2 + 1e-6)
        }
    }

    func testLossOrderingCleanFGSMPGD() {
        let (model, x, y) = Self.fixture
        var rng = Xoshiro256(seed: 2)
        let clean = softmaxCrossEntropy(logits: model(x), labels: y).scalar
        let fgsm = softmaxCrossEntropy(logits: model(Attacks.fgsm(model, inputs: x, labels: y, epsilon: 0.1)), labels: y).scalar
        let pgd = softmaxCrossEntropy(logits: model(Attacks.pgd(model, inputs: x, labels: y,
            configuration: PGDConfiguration(epsilon: 0.1, stepSize: 0.01, steps: 20), rng: &rng)), labels: y).scalar
        XCTAssertGreaterThan(fgsm, clean)
        XCTAssertGreaterThanOrEqual(pgd, fgsm)
    }

    func testRobustAccuracyFallsWithEpsilonAndEqualsCleanAtZero() {
        let (model, x, y) = Self.fixture
        var previous = 2.0
        for eps: Float in [0, 0.05, 0.1, 0.2, 0.3] {
            var rng = Xoshiro256(seed: 3)
            let r = RobustEvaluation.evaluate(model, images: x, labels: y,
                                              attack: .pgd(PGDConfiguration(epsilon: eps, stepSize: 0.01, steps: 20)), rng: &rng)
            if eps == 0 { XCTAssertEqual(r.robustAccuracy, r.cleanAccuracy) }
            XCTAssertLessThanOrEqual(r.robustAccuracy, previous, "robust accuracy rose at ε = \(eps)")
            previous = r.robustAccuracy
            XCTAssertNil(r.gradientMaskingWarning)
        }
        XCTAssertGreaterThan(accuracy(logits: model(x), labels: y), 0.7, "the fixture should be trained")
        XCTAssertLessThan(previous, 0.2, "PGD at ε = 0.3 should break an undefended model")
    }

    func testAttacksLeaveParametersUntouched() {
        let (model, x, y) = Self.fixture
        let before = model.namedParameters.map { $0.parameter.value.scalars }
        var rng = Xoshiro256(seed: 4)
        _ = Attacks.pgd(model, inputs: x, labels: y, configuration: .paper(cifar: false), rng: &rng)
        _ = Attacks.fgsm(model, inputs: x, labels: y, epsilon: 0.3)
        XCTAssertEqual(model.namedParameters.map { $0.parameter.value.scalars }, before)
        XCTAssertFalse(model.namedParameters.contains { $0.parameter.value.requiresGradient })
    }

    func testGradientMaskingIsReported() {
        // A network whose ReLU layer is dead everywhere has zero input gradients.
        let dead = Sequential([("flatten", Flatten()),
                               ("fc1", Dense(weight: Tensor.zeros([8, 784]), bias: Tensor(repeating: -1, shape: [8]))),
                               ("relu", ReLU()),
                               ("fc2", Dense(weight: Tensor(repeating: 0.1, shape: [10, 8]), bias: Tensor.zeros([10])))])
        let (_, x, y) = Self.fixture
        var rng = Xoshiro256(seed: 5)
        let r = RobustEvaluation.evaluate(dead, images: x, labels: y, attack: .pgd(.paper(cifar: false)), rng: &rng)
        XCTAssertEqual(r.zeroGradientFraction, 1)
        XCTAssertNotNil(r.gradientMaskingWarning)
        XCTAssertEqual(r.robustAccuracy, r.cleanAccuracy)  // the attack could not move
    }
}
