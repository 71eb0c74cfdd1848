import Autodiff
import Foundation
import Kernels
import KernelMachines
import Robustness
import XCTest

/// Attacks on kernel predictors through the network attacks' loop: every loss's input gradient against
/// central differences, the multiclass loss, label-free attacks, and the attacks themselves.
final class KernelAttackTests: XCTestCase {
    let kernel = FullyConnectedReLUKernel.notebook
    let train = uniformInputs([12, 2, 2, 2], seed: 41)
    let trainBinary: [Int32] = [1, 0, 0, 1, 1, 0, 1, 0, 0, 1, 1, 0]
    let trainClasses: [Int32] = [0, 1, 2, 3, 3, 2, 1, 0, 0, 1, 2, 3]
    let x = uniformInputs([5, 2, 2, 2], seed: 42)
    let yBinary: [Int32] = [1, 0, 1, 1, 0]
    let yClasses: [Int32] = [2, 0, 3, 1, 1]

    func binaryPredictor() throws -> KernelPredictor {
        try KernelRegression.fit(kernel: kernel, inputs: train, labels: trainBinary, task: .binary(negative: 0, positive: 1))
    }

    func multiclassPredictor() throws -> KernelPredictor {
        try KernelRegression.fit(kernel: kernel, inputs: train, labels: trainClasses, task: .multiclass(classes: 4), ridge: 0.01)
    }

    /// The objective's input gradient against central differences of its Float64 loss (anchored first,
    /// so label-free references stay fixed).
    func checkGradient(_ objective: KernelAttackObjective, labels: [Int32], file: StaticString = #filePath, line: UInt = #line) throws {
        let anchored = try XCTUnwrap(try objective.anchored(at: x, labels: labels) as? KernelAttackObjective)
        let analytic = try anchored.lossAndInputGradient(at: x, labels: labels).gradient.scalars.map(Double.init)
        let h: Float = 1.0 / 1024, base = x.scalars
        var numeric = [Double]()
        for k in base.indices {
            var plus = base, minus = base
            plus[k] += h
            minus[k] -= h
            let fp = try anchored.loss(at: Tensor(shape: x.shape, scalars: plus), labels: labels)
            let fm = try anchored.loss(at: Tensor(shape: x.shape, scalars: minus), labels: labels)
            numeric.append((fp - fm) / Double(plus[k] - minus[k]))
        }
        XCTAssertLessThan(maxRelativeDifference(analytic, numeric), 1e-4, "\(objective.loss)", file: file, line: line)
        XCTAssertGreaterThan(numeric.map(abs).max() ?? 0, 1e-6, "\(objective.loss): a zero gradient checks nothing", file: file, line: line)
    }

    func testEveryLossGradientMatchesCentralDifferences() throws {
        let binary = try binaryPredictor(), multiclass = try multiclassPredictor()
        for loss in [KernelAttackLoss.binaryCrossEntropy, .firstOrderTaylor, .maxOfK(1), .sumOfK(1), .margin(confidence: .infinity)] {
            try checkGradient(try KernelAttackObjective(predictor: binary, loss: loss), labels: yBinary)
        }
        for loss in [KernelAttackLoss.softmaxCrossEntropy, .firstOrderTaylor, .maxOfK(2), .sumOfK(2), .sumOfK(3),
                     .margin(confidence: .infinity)] {
            try checkGradient(try KernelAttackObjective(predictor: multiclass, loss: loss), labels: yClasses)
        }
    }

    func testTheMulticlassPathUsesSoftmaxCrossEntropyNotTheBinaryLoss() throws {
        let predictor = try multiclassPredictor()
        XCTAssertEqual(KernelAttackLoss.crossEntropy(for: predictor.task), .softmaxCrossEntropy)
        assertPredictorError(try KernelAttackObjective(predictor: predictor, loss: .binaryCrossEntropy),
                             mentions: ["softmax cross-entropy for C classes"]) {
            if case .lossDoesNotFitTask = $0 { return true } else { return false }
        }
        let objective = try KernelAttackObjective(predictor: predictor, loss: .crossEntropy(for: predictor.task))
        let s = try predictor.outputs(x)
        var softmax = 0.0, binaryOnOneHot = 0.0
        for i in 0..<s.rows {
            let row = Array(s.row(i)), label = Int(yClasses[i])
            softmax += log(row.map { exp($0) }.reduce(0, +)) - row[label]
            for c in row.indices {
                let target = c == label ? 1.0 : 0.0
                binaryOnOneHot += log1p(exp(row[c])) - target * row[c]
            }
        }
        softmax /= Double(s.rows)
        binaryOnOneHot /= Double(s.rows * s.columns)
        let value = try objective.loss(at: x, labels: yClasses)
        XCTAssertEqual(value, softmax, accuracy: 1e-12)
        XCTAssertGreaterThan(abs(value - binaryOnOneHot), 0.1)
        // A ±1 predictor refuses softmax cross-entropy, and its binary loss is log(1 + e^{−y f}).
        let binary = try binaryPredictor()
        XCTAssertThrowsError(try KernelAttackObjective(predictor: binary, loss: .softmaxCrossEntropy))
        let f = try binary.outputs(x)
        let expected = zip(f.values, yBinary).map { log1p(exp(-($1 == 1 ? 1.0 : -1.0) * $0)) }.reduce(0, +) / 5
        XCTAssertEqual(try KernelAttackObjective(predictor: binary, loss: .binaryCrossEntropy).loss(at: x, labels: yBinary),
                       expected, accuracy: 1e-12)
    }

    func testAlternativeLossesAgreeWhereTheirDefinitionsMeet() throws {
        let predictor = try multiclassPredictor()
        let predicted = try predictor.predictions(x)
        // max-of-(C−1) against the clean prediction is the margin loss with the predictions as labels.
        let maxOfAll = try KernelAttackObjective(predictor: predictor, loss: .maxOfK(3))
        let margin = try KernelAttackObjective(predictor: predictor, loss: .margin(confidence: .infinity))
        XCTAssertEqual(try maxOfAll.loss(at: x, labels: yClasses), try margin.loss(at: x, labels: predicted), accuracy: 1e-12)
        // sum-of-(C−1) is (C−1) times the Taylor loss.
        let sumOfAll = try KernelAttackObjective(predictor: predictor, loss: .sumOfK(3))
        let taylor = try KernelAttackObjective(predictor: predictor, loss: .firstOrderTaylor)
        XCTAssertEqual(try sumOfAll.loss(at: x, labels: yClasses), 3 * (try taylor.loss(at: x, labels: yClasses)), accuracy: 1e-12)
        // A finite confidence caps the margin: misclassified-by-more-than-κ samples add κ and no gradient.
        let capped = try KernelAttackObjective(predictor: predictor, loss: .margin(confidence: 0))
        let wrong = predicted.map { ($0 + 1) % 4 }
        XCTAssertEqual(try capped.loss(at: x, labels: predicted), try margin.loss(at: x, labels: predicted), accuracy: 1e-12)
        XCTAssertLessThanOrEqual(try capped.loss(at: x, labels: wrong), 0)
        for bad in [KernelAttackLoss.maxOfK(4), .sumOfK(0), .margin(confidence: -1)] {
            XCTAssertThrowsError(try KernelAttackObjective(predictor: predictor, loss: bad))
        }
        assertPredictorError(try KernelAttackObjective(predictor: try binaryPredictor(), loss: .maxOfK(2)), mentions: ["1…1"]) {
            $0 == .competitorCount(loss: "max-of-2 (label-free)", k: 2, allowed: 1...1)
        }
    }

    func testLabelFreeAttacksIgnoreTheLabels() throws {
        let predictor = try multiclassPredictor()
        let config = PGDConfiguration(epsilon: 0.05, stepSize: 0.01, steps: 4)
        for loss in [KernelAttackLoss.firstOrderTaylor, .maxOfK(2), .sumOfK(2)] {
            let objective = try KernelAttackObjective(predictor: predictor, loss: loss)
            var r1 = Xoshiro256(seed: 1), r2 = Xoshiro256(seed: 1)
            let a = try Attacks.pgd(objective, inputs: x, labels: yClasses, configuration: config, rng: &r1)
            let b = try Attacks.pgd(objective, inputs: x, labels: yClasses.reversed(), configuration: config, rng: &r2)
            XCTAssertEqual(a.scalars, b.scalars, "\(loss)")
            XCTAssertNotEqual(a.scalars, x.scalars, "\(loss)")
        }
    }

    func testFGSMAndPGDOnAKernelPredictorStayInTheirBallsAndLowerAccuracy() throws {
        let predictor = try binaryPredictor()
        let objective = try KernelAttackObjective(predictor: predictor, loss: .binaryCrossEntropy)
        let clean = try predictor.accuracy(train, labels: trainBinary)
        XCTAssertEqual(clean, 1)
        var rng = Xoshiro256(seed: 5)
        let linf = try Attacks.pgd(objective, inputs: train, labels: trainBinary,
                                   configuration: PGDConfiguration(epsilon: 0.2, stepSize: 0.05, steps: 10, randomStart: true),
                                   rng: &rng)
        let l2 = try Attacks.pgd(objective, inputs: train, labels: trainBinary,
                                 configuration: PGDConfiguration(epsilon: 0.5, stepSize: 0.1, steps: 10, clipEveryStep: true),
                                 norm: L2Ball(), rng: &rng)
        let fgsm = try Attacks.fgsm(objective, inputs: train, labels: trainBinary, epsilon: 0.2)
        let per = 8
        for (adv, bound, isL2) in [(linf, 0.2, false), (l2, 0.5, true), (fgsm, 0.2, false)] {
            let a = adv.scalars, c = train.scalars
            XCTAssertTrue(a.allSatisfy { $0 >= 0 && $0 <= 1 })
            for i in 0..<12 {
                let d = (0..<per).map { Double(a[i * per + $0] - c[i * per + $0]) }
                let size = isL2 ? d.map { $0 * $0 }.reduce(0, +).squareRoot() : d.map(abs).max()!
                XCTAssertLessThanOrEqual(size, bound + 1e-6)
            }
            XCTAssertLessThan(try predictor.accuracy(adv, labels: trainBinary), clean)
            XCTAssertGreaterThan(try objective.loss(at: adv, labels: trainBinary), try objective.loss(at: train, labels: trainBinary))
        }
    }

    func testRobustEvaluationOfAKernelPredictor() throws {
        let predictor = try multiclassPredictor()
        let objective = try KernelAttackObjective(predictor: predictor, loss: .softmaxCrossEntropy)
        var rng = Xoshiro256(seed: 6)
        let report = try RobustEvaluation.evaluate(objective, images: train, labels: trainClasses,
                                                   attack: .pgd(PGDConfiguration(epsilon: 0.3, stepSize: 0.05, steps: 10)),
                                                   batchSize: 5, rng: &rng)
        XCTAssertEqual(report.examples, 12)
        XCTAssertEqual(report.cleanAccuracy, try predictor.accuracy(train, labels: trainClasses), accuracy: 1e-12)
        XCTAssertLessThan(report.robustAccuracy, report.cleanAccuracy)
        XCTAssertGreaterThan(report.adversarialLoss, report.cleanLoss)
        XCTAssertEqual(report.zeroGradientFraction, 0)
        XCTAssertNil(report.gradientMaskingWarning)
    }

    func testAttacksOnAnEmpiricalKernelPredictorMatchTheMaterialisedGradient() throws {
        let model = tanhNetwork(features: 8, outputs: 3, seed: 43)
        let empirical = try EmpiricalNTKKernel(model: model)
        let trainFlat = try train.reshaped([12, 8]), xFlat = try x.reshaped([5, 8])
        let predictor = try KernelRegression.fit(kernel: empirical, inputs: trainFlat, labels: trainBinary,
                                                 task: .binary(negative: 0, positive: 1), ridge: 0.1)
        let objective = try KernelAttackObjective(predictor: predictor, loss: .binaryCrossEntropy)
        let (_, gradient) = try objective.lossAndInputGradient(at: xFlat, labels: yBinary)
        // The same gradient through the materialised kernel: the cotangent of the outputs times the weights.
        let outputs = try predictor.outputs(xFlat)
        var cotangent = Float64Matrix(rows: 5, columns: 1)
        for i in 0..<5 {
            let y = yBinary[i] == 1 ? 1.0 : -1.0
            cotangent[i, 0] = -y / (1 + exp(y * outputs[i, 0])) / 5
        }
        let materialised = try empirical.inputGradient(xFlat, trainFlat, cotangent: naiveProduct(cotangent, predictor.weights.transposed))
        XCTAssertLessThan(maxRelativeDifference(gradient.scalars.map(Double.init), materialised.scalars.map(Double.init)), 1e-4)
        // Its outputs equal the materialised Θ(x, X) A.
        XCTAssertLessThan(maxRelativeDifference(outputs.values, naiveProduct(try empirical.matrix(xFlat, trainFlat), predictor.weights).values), 1e-4)
    }

    func testInputsUnlikeTheTrainingInputsAreRefused() throws {
        let objective = try KernelAttackObjective(predictor: try binaryPredictor(), loss: .binaryCrossEntropy)
        assertThrows(.incompatibleShapes(first: [5, 8], second: [12, 2, 2, 2]),
                     try objective.lossAndInputGradient(at: randomTensor([5, 8], seed: 44), labels: yBinary))
        var rng = Xoshiro256(seed: 7)
        XCTAssertThrowsError(try Attacks.pgd(objective, inputs: randomTensor([5, 2, 4], seed: 45), labels: yBinary,
                                             configuration: PGDConfiguration(epsilon: 0.1, stepSize: 0.1, steps: 1), rng: &rng))
        assertPredictorError(try objective.loss(at: x, labels: [1, 0])) { $0 == .labelCount(labels: 2, samples: 5) }
        assertPredictorError(try objective.loss(at: x, labels: [1, 0, 2, 1, 0])) {
            $0 == .labelOutsideTask(index: 2, label: 2, task: "binary 0 (−1) vs 1 (+1)")
        }
    }
}
