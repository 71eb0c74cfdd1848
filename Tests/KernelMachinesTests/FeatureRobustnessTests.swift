import Autodiff
import Foundation
import Kernels
import KernelMachines
import Robustness
import XCTest

/// Usefulness and robustness of single features through the attack loop, feature gradients against
/// central differences, and the per-feature decomposition of the full predictor's input gradient.
final class FeatureRobustnessTests: XCTestCase {
    let kernel = FullyConnectedReLUKernel.notebook
    let train = uniformInputs([14, 2, 2, 2], seed: 81)
    let x = uniformInputs([5, 2, 2, 2], seed: 82)
    let trainBinary: [Int32] = [1, 0, 0, 1, 1, 0, 1, 0, 0, 1, 1, 0, 1, 0]
    let trainClasses: [Int32] = [0, 1, 2, 2, 1, 0, 0, 2, 1, 1, 2, 0, 1, 2]
    let yBinary: [Int32] = [1, 0, 1, 1, 0]
    let yClasses: [Int32] = [2, 0, 1, 1, 0]

    func binaryFeatures() throws -> EigenFeatures {
        try EigenFeatures.decompose(kernel: kernel, inputs: train, labels: trainBinary, task: .binary(negative: 0, positive: 1))
    }

    func multiclassFeatures() throws -> EigenFeatures {
        try EigenFeatures.decompose(kernel: kernel, inputs: train, labels: trainClasses, task: .multiclass(classes: 3))
    }

    /// Central differences of `value` at x, entry by entry, with a power-of-two step.
    func centralDifferences(at x: Tensor, _ value: (Tensor) throws -> Double) rethrows -> [Double] {
        let h: Float = 1.0 / 1024, base = x.scalars
        return try base.indices.map { k in
            var plus = base, minus = base
            plus[k] += h
            minus[k] -= h
            return (try value(Tensor(shape: x.shape, scalars: plus)) - value(Tensor(shape: x.shape, scalars: minus)))
                / Double(plus[k] - minus[k])
        }
    }

    func testAFeatureObjectivesGradientMatchesCentralDifferences() throws {
        for (features, labels) in [(try binaryFeatures(), yBinary), (try multiclassFeatures(), yClasses)] {
            for j in [1, 4, 14] {
                let objective = try KernelAttackObjective(predictor: try features.predictor(feature: j),
                                                          loss: .crossEntropy(for: features.task))
                let analytic = try objective.lossAndInputGradient(at: x, labels: labels).gradient.scalars.map(Double.init)
                let numeric = try centralDifferences(at: x) { try objective.loss(at: $0, labels: labels) }
                XCTAssertLessThan(maxRelativeDifference(analytic, numeric), 1e-4, "\(features.task) feature \(j)")
                XCTAssertGreaterThan(numeric.map(abs).max() ?? 0, 1e-8, "a zero gradient checks nothing")
            }
        }
    }

    func testTheGradientDecompositionSumsToTheFullGradient() throws {
        for (features, labels) in [(try binaryFeatures(), yBinary), (try multiclassFeatures(), yClasses)] {
            let decomposition = try features.gradientDecomposition(at: x, labels: labels, features: features.all)
            let full = try KernelAttackObjective(predictor: try features.fullPredictor(), loss: .crossEntropy(for: features.task))
            let (loss, gradient) = try full.lossAndInputGradient(at: x, labels: labels)
            XCTAssertEqual(decomposition.loss, Double(loss), accuracy: 1e-6)
            XCTAssertEqual(decomposition.fullGradient.scalars, gradient.scalars)
            var sum = [Double](repeating: 0, count: x.count)
            for part in decomposition.contributions {
                for (k, v) in part.scalars.enumerated() { sum[k] += Double(v) }
            }
            // Float rounding of each contribution is the scale of the check.
            let scale = decomposition.contributions.map { $0.scalars.map { abs(Double($0)) }.max() ?? 0 }.max() ?? 0
            let error = zip(sum, gradient.scalars).map { abs($0 - Double($1)) }.max() ?? 0
            XCTAssertLessThan(error, 1e-5 * max(scale, 1e-12), "\(features.task)")
            XCTAssertGreaterThan(gradient.scalars.map { abs($0) }.max() ?? 0, 1e-6)
            XCTAssertEqual(decomposition.gradientShares.reduce(0, +), 1, accuracy: 1e-4)
            XCTAssertEqual(decomposition.fgsmShares.reduce(0, +), 1, accuracy: 1e-4)
        }
    }

    func testEachContributionIsTheGradientOfTheFeatureAgainstTheFullLossCotangent() throws {
        let features = try multiclassFeatures()
        let full = try features.fullPredictor()
        let s = try full.outputs(x)
        // ∂L/∂f of the mean softmax cross-entropy, held fixed.
        var cotangent = Float64Matrix(rows: s.rows, columns: s.columns)
        for i in 0..<s.rows {
            let row = Array(s.row(i)), top = row.max() ?? 0
            let total = row.reduce(0) { $0 + exp($1 - top) }
            for c in 0..<s.columns {
                cotangent[i, c] = (exp(row[c] - top) / total - (c == Int(yClasses[i]) ? 1 : 0)) / Double(s.rows)
            }
        }
        let decomposition = try features.gradientDecomposition(at: x, labels: yClasses, features: [2, 9])
        for (k, j) in [2, 9].enumerated() {
            let predictor = try features.predictor(feature: j)
            let numeric = try centralDifferences(at: x) { point in
                zip(try predictor.outputs(point).values, cotangent.values).reduce(0) { $0 + $1.0 * $1.1 }
            }
            let analytic = decomposition.contributions[k].scalars.map(Double.init)
            XCTAssertLessThan(maxRelativeDifference(analytic, numeric), 1e-4, "feature \(j)")
        }
    }

    func testUsefulnessAndRobustnessComeFromTheAttackLoopOnTheFeatureItself() throws {
        let features = try binaryFeatures()
        let epsilon: Float = 0.05
        var rng = Xoshiro256(seed: 5)
        let pgd = PGDConfiguration(epsilon: epsilon, stepSize: 0.01, steps: 5)
        let evaluations = try features.evaluate(features: [1, 3, 14], images: x, labels: yBinary,
                                                attacks: [.fgsm(epsilon: epsilon), .pgd(pgd)], rng: &rng)
        XCTAssertEqual(evaluations.map(\.feature), [1, 3, 14])
        for evaluation in evaluations {
            let j = evaluation.feature
            let predictor = try features.predictor(feature: j)
            XCTAssertEqual(evaluation.cleanAccuracy, try predictor.accuracy(x, labels: yBinary))
            XCTAssertEqual(evaluation.eigenvalue, features.eigenvalues[j - 1])
            let objective = try KernelAttackObjective(predictor: predictor, loss: .binaryCrossEntropy)
            let fgsm = try Attacks.fgsm(objective, inputs: x, labels: yBinary, epsilon: epsilon)
            XCTAssertEqual(evaluation.robustAccuracy, try predictor.accuracy(fgsm, labels: yBinary))
            var other = Xoshiro256(seed: 6)
            let attacked = try Attacks.pgd(objective, inputs: x, labels: yBinary, configuration: pgd, rng: &other)
            XCTAssertEqual(evaluation.reports[1].robustAccuracy, try predictor.accuracy(attacked, labels: yBinary))
            XCTAssertEqual(evaluation.reports[0].cleanAccuracy, evaluation.cleanAccuracy)
        }
        XCTAssertEqual(try features.cleanAccuracies(features: [1, 3, 14], images: x, labels: yBinary),
                       evaluations.map(\.cleanAccuracy))
        // No attacks: usefulness only.
        XCTAssertNil(try features.evaluate(features: [2], images: x, labels: yBinary, attacks: [], rng: &rng)[0].robustAccuracy)
        // Bad labels are refused.
        XCTAssertThrowsError(try features.cleanAccuracies(features: [1], images: x, labels: [1, 0]))
        XCTAssertThrowsError(try features.cleanAccuracies(features: [1], images: x, labels: [1, 0, 7, 1, 0]))
    }
}
