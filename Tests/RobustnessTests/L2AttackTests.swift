import XCTest
import Autodiff
import Kernels
import NN
import Robustness

/// The ℓ2 geometry of the attack loop, and the loop on objectives other than a network and its loss.
final class L2AttackTests: XCTestCase {
    /// Per-sample ℓ2 norms of a batch.
    func norms(_ t: Tensor) -> [Double] {
        let n = t.shape[0], per = t.count / n, v = t.scalars
        return (0..<n).map { i -> Double in
            var sum = 0.0
            for j in (i * per)..<((i + 1) * per) { sum += Double(v[j]) * Double(v[j]) }
            return sum.squareRoot()
        }
    }

    func testProjectionDirectionAndStartArePerSample() throws {
        let ball = L2Ball()
        // Sample 0 has norm 5 (outside a ball of 2), sample 1 norm 1 (inside), sample 2 is zero.
        let delta = Tensor(shape: [3, 2], scalars: [3, 4, 0.6, 0.8, 0, 0])
        XCTAssertEqual(ball.project(delta, epsilon: 2).scalars, [1.2, 1.6, 0.6, 0.8, 0, 0])
        let direction = ball.direction(delta).scalars
        XCTAssertEqual(direction[0], 0.6, accuracy: 1e-7)
        XCTAssertEqual(direction[1], 0.8, accuracy: 1e-7)
        XCTAssertEqual(Array(direction[4...]), [0, 0])
        var rng = Xoshiro256(seed: 1)
        let start = ball.start(shape: [200, 3, 2, 2], epsilon: 0.5, random: true, rng: &rng)
        let sizes = norms(start)
        XCTAssertTrue(sizes.allSatisfy { $0 > 0 && $0 <= 0.5 + 1e-6 })
        // Uniform in a 12-ball: the radius fraction r has P(r < 0.9) = 0.9¹² ≈ 0.28.
        let inner = Double(sizes.filter { $0 < 0.45 }.count) / 200
        XCTAssertEqual(inner, 0.28, accuracy: 0.1)
        XCTAssertEqual(ball.start(shape: [2, 3], epsilon: 0.5, random: false, rng: &rng).scalars, [0, 0, 0, 0, 0, 0])
    }

    func testL2PGDOnANetworkStaysInTheBallAndRaisesTheLoss() throws {
        let (model, allX, allY) = try AttackTests.fixture()
        let x = Tensor(shape: [20, 1, 28, 28], scalars: Array(allX.scalars[0..<(20 * 784)]))
        let y = Array(allY[0..<20])
        var rng = Xoshiro256(seed: 2)
        let config = PGDConfiguration(epsilon: 1.5, stepSize: 0.3, steps: 10, randomStart: true)
        let adversarial = try Attacks.pgd(model, inputs: x, labels: y, configuration: config, norm: L2Ball(), rng: &rng)
        let moved = try adversarial - x
        XCTAssertTrue(norms(moved).allSatisfy { $0 <= 1.5 + 1e-4 })
        XCTAssertTrue(adversarial.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })
        let clean = try softmaxCrossEntropy(logits: try model(x), labels: y).scalar
        XCTAssertGreaterThan(try softmaxCrossEntropy(logits: try model(adversarial), labels: y).scalar, clean)
        // FGM: one normalised-gradient step of length ε (before clipping).
        let fgm = try Attacks.fgsm(ModuleObjective(model), inputs: x, labels: y, epsilon: 1.5, norm: L2Ball())
        XCTAssertTrue(norms(try fgm - x).allSatisfy { $0 <= 1.5 + 1e-4 })
    }

    /// An objective that is not a network: L(x) = mean_i ⟨w, x_i⟩ with a fixed w, classifying by its sign.
    struct LinearObjective: AttackObjective {
        let w: [Float]
        func lossAndInputGradient(at x: Tensor, labels: [Int32]) throws -> (loss: Float, gradient: Tensor) {
            let n = x.shape[0]
            let g = (0..<n).flatMap { _ in w.map { $0 / Float(n) } }
            return (try lossAndAccuracy(at: x, labels: labels).loss, Tensor(shape: x.shape, scalars: g))
        }
        func lossAndAccuracy(at x: Tensor, labels: [Int32]) throws -> (loss: Float, accuracy: Double) {
            let n = x.shape[0], v = x.scalars, d = w.count
            let scores = (0..<n).map { i in (0..<d).reduce(Float(0)) { $0 + w[$1] * v[i * d + $1] } }
            let correct = zip(scores, labels).filter { ($0 > 0 ? 1 : 0) == $1 }.count
            return (scores.reduce(0, +) / Float(n), Double(correct) / Double(n))
        }
    }

    func testTheLoopClimbsAnyObjective() throws {
        let objective = LinearObjective(w: [1, -2, 0.5])
        let x = Tensor(shape: [2, 3], scalars: [0.5, 0.5, 0.5, 0.2, 0.9, 0.4])
        let fgsm = try Attacks.fgsm(objective, inputs: x, labels: [0, 0], epsilon: 0.1)
        for (a, e) in zip(fgsm.scalars, [0.6, 0.4, 0.6, 0.3, 0.8, 0.5]) { XCTAssertEqual(Double(a), e, accuracy: 1e-6, "one signed step of ε") }
        var rng = Xoshiro256(seed: 3)
        let report = try RobustEvaluation.evaluate(objective, images: x, labels: [1, 0],
                                                   attack: .pgd(PGDConfiguration(epsilon: 0.3, stepSize: 0.1, steps: 5)), rng: &rng)
        XCTAssertEqual(report.cleanAccuracy, 0.5)
        XCTAssertGreaterThan(report.adversarialLoss, report.cleanLoss)
        XCTAssertEqual(report.zeroGradientFraction, 0)
    }
}
