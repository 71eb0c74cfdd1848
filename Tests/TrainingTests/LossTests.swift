import XCTest
import Tangent

/// Losses as values: the squared loss (one-hot and ±1 targets) and binary cross-entropy train the paper's
/// MNIST CNN, and everything in the loop that evaluates or attacks uses the run's loss.
final class LossTests: XCTestCase {
    /// Trains the MNIST CNN with `loss` (Adam, 300 sample images, batch 50, two epochs) and checks that its
    /// loss on the training images falls clearly and that accuracy rises well above chance (10%).
    func checkTrains(_ loss: Loss, file: StaticString = #filePath, line: UInt = #line) throws {
        let run = try TestRuns.mnistCNN(TestRuns.settings(epochs: 2), train: 300, test: 100, optimizer: try Adam(learningRate: 1e-3), loss: loss)
        let dir = TestRuns.folder(for: self)
        let loop = try TrainingSession.start(run, runDirectory: dir, callbacks: TestRuns.callbacks())
        let before = try Evaluation.evaluate(run.model, on: run.data.train, loss: loss)
        try loop.fit()
        let after = try Evaluation.evaluate(run.model, on: run.data.train, loss: loss)
        XCTAssertLessThan(after.loss, 0.6 * before.loss, "\(loss.name): loss \(before.loss) → \(after.loss)", file: file, line: line)
        XCTAssertGreaterThan(after.accuracy, 0.4, "\(loss.name): accuracy \(before.accuracy) → \(after.accuracy)", file: file, line: line)
        let epochLosses = try TestRuns.values(dir, "train_loss")
        XCTAssertEqual(epochLosses.count, 2, file: file, line: line)
        XCTAssertLessThan(epochLosses[1], epochLosses[0], "\(loss.name): train_loss \(epochLosses)", file: file, line: line)

        // The logged test loss is the run's loss, not cross-entropy.
        let logged = try XCTUnwrap(try TestRuns.values(dir, "test_loss").last, file: file, line: line)
        XCTAssertEqual(logged, try Evaluation.evaluate(run.model, on: run.data.test, loss: loss).loss, file: file, line: line)
        XCTAssertNotEqual(logged, try Evaluation.evaluate(run.model, on: run.data.test).loss, file: file, line: line)
    }

    func testMeanSquaredErrorWithOneHotTargetsTrains() throws { try checkTrains(.meanSquared()) }
    func testMeanSquaredErrorWithPlusMinusOneTargetsTrains() throws { try checkTrains(.meanSquared(plusMinusOne: true)) }
    func testBinaryCrossEntropyTrains() throws { try checkTrains(.binaryCrossEntropy) }

    func testBuiltInLossValuesOnAHandExample() throws {
        let outputs = Tensor(shape: [2, 3], scalars: [0.5, -1, 2, 0, 1, 0])
        let labels: [Int32] = [2, 1]
        // One-hot targets [0, 0, 1], [0, 1, 0]: squared errors 0.25 + 1 + 1, 0 + 0 + 0, over 6 elements.
        XCTAssertEqual(try Loss.meanSquared()(outputs, labels: labels).scalar, 2.25 / 6, accuracy: 1e-6)
        // ±1 targets [−1, −1, 1], [−1, 1, −1]: 2.25 + 0 + 1, 1 + 0 + 1.
        XCTAssertEqual(try Loss.meanSquared(plusMinusOne: true)(outputs, labels: labels).scalar, 5.25 / 6, accuracy: 1e-6)
        func bce(_ z: Double, _ t: Double) -> Double { max(z, 0) - z * t + log1p(exp(-abs(z))) }
        let expected = [bce(0.5, 0), bce(-1, 0), bce(2, 1), bce(0, 0), bce(1, 1), bce(0, 0)].reduce(0, +) / 6
        XCTAssertEqual(Double(try Loss.binaryCrossEntropy(outputs, labels: labels).scalar), expected, accuracy: 1e-6)
        // A user's loss is any closure; a label outside the outputs is refused by the built-in ones.
        let total = Loss(name: "sum") { outputs, _ in outputs.sum() }
        XCTAssertEqual(try total(outputs, labels: labels).scalar, 2.5, accuracy: 1e-6)
        XCTAssertThrowsError(try Loss.meanSquared()(outputs, labels: [3, 0]))
        XCTAssertThrowsError(try Loss.crossEntropy(outputs, labels: [0]))
    }

    /// Records the loss each batch transform is handed, and leaves the batch unchanged.
    final class LossRecorder: BatchTransform {
        var names: [String] = []
        func transform(_ inputs: Tensor, labels: [Int32], model: Module, loss: Loss, rng: inout Xoshiro256) throws -> Tensor {
            names.append(loss.name)
            return inputs
        }
    }

    func testAdversarialTrainingAttacksTheRunsLoss() throws {
        // The loop hands its loss to the batch transform.
        let run = try TestRuns.mnistCNN(TestRuns.settings(epochs: 1), train: 100, test: 20, loss: .meanSquared(plusMinusOne: true))
        let loop = try TestRuns.loop(run, in: TestRuns.folder(for: self))
        let recorder = LossRecorder()
        loop.batchTransform = recorder
        try loop.fit()
        XCTAssertEqual(recorder.names, ["mse-pm1", "mse-pm1"])

        // Adversarial training's transform is PGD on that loss, which differs from PGD on cross-entropy.
        let (x, y) = BatchAssembly.batch(run.data.train, indices: 0..<20)
        let attack = AttackKind.pgd(PGDConfiguration(epsilon: 0.3, stepSize: 0.05, steps: 5))
        var a = Xoshiro256(seed: 1), b = Xoshiro256(seed: 1), c = Xoshiro256(seed: 1)
        let trained = try AdversarialTraining(attack: attack).transform(x, labels: y, model: run.model, loss: run.loss, rng: &a)
        let direct = try Attacks.pgd(run.model, inputs: x, labels: y, configuration: PGDConfiguration(epsilon: 0.3, stepSize: 0.05, steps: 5),
                                     loss: .meanSquared(plusMinusOne: true), rng: &b)
        let crossEntropy = try attack.perturb(run.model, inputs: x, labels: y, rng: &c)
        XCTAssertEqual(trained.scalars, direct.scalars)
        XCTAssertNotEqual(trained.scalars, crossEntropy.scalars)
    }
}
