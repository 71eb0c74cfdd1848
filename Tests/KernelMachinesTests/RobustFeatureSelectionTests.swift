import Autodiff
import Datasets
import Foundation
import Kernels
import KernelMachines
import Plots
import Robustness
import XCTest

/// Robust-feature selection (Appendix D.3) on a small 10-class MNIST case from the embedded sample.
final class RobustFeatureSelectionTests: XCTestCase {
    /// `count` images of `data` from `start` on, as `[count, 1, 28, 28]`, with their labels.
    func split(_ data: ImageDataset, from start: Int, count: Int) -> (images: Tensor, labels: [Int32]) {
        let subset = data.subset(indices: Array(start..<(start + count)))
        return (Tensor(shape: [count, 1, 28, 28], scalars: subset.images), subset.labels)
    }

    func testSelectionOnSmallMNIST() throws {
        let sample = try MNISTLoader.embeddedSample()
        let train = split(sample.train, from: 0, count: 150)
        let validation = split(sample.test, from: 0, count: 60), test = split(sample.test, from: 60, count: 60)
        let features = try EigenFeatures.decompose(kernel: FullyConnectedReLUKernel.notebook, inputs: train.images,
                                                   labels: train.labels, task: .multiclass(classes: 10))
        var rng = Xoshiro256(seed: 1)
        let attack = AttackKind.fgsm(epsilon: 0.1)
        let selection = try RobustFeatureSelection.run(features: features, validation: validation, test: test,
                                                       counts: [1, 10, 50, 150], attack: attack, rng: &rng)
        XCTAssertEqual(selection.attack, attack)

        // The ranking covers every feature, most robust on the validation split first.
        XCTAssertEqual(selection.ranking.map(\.feature).sorted(), features.all)
        let robustness = selection.ranking.map { $0.robustAccuracy ?? -1 }
        XCTAssertEqual(robustness, robustness.sorted(by: >))
        let spot = selection.ranking[7]
        let predictor = try features.predictor(feature: spot.feature)
        let attacked = try Attacks.fgsm(try KernelAttackObjective(predictor: predictor, loss: .softmaxCrossEntropy),
                                        inputs: validation.images, labels: validation.labels, epsilon: 0.1)
        XCTAssertEqual(spot.robustAccuracy, try predictor.accuracy(attacked, labels: validation.labels))

        // Each step keeps the r most robust features and is measured on the test split.
        XCTAssertEqual(selection.steps.map(\.count), [1, 10, 50, 150])
        for step in selection.steps {
            XCTAssertEqual(step.features, selection.ranking.prefix(step.count).map(\.feature))
            let kept = try features.predictor(features: step.features)
            XCTAssertEqual(step.cleanAccuracy, try kept.accuracy(test.images, labels: test.labels))
        }
        // Against the full kernel's attack, measured independently.
        let full = try features.fullPredictor()
        let againstFull = try Attacks.fgsm(try KernelAttackObjective(predictor: full, loss: .softmaxCrossEntropy),
                                           inputs: test.images, labels: test.labels, epsilon: 0.1)
        let ten = try features.predictor(features: selection.steps[1].features)
        XCTAssertEqual(selection.steps[1].fullAttackAccuracy, try ten.accuracy(againstFull, labels: test.labels))
        // Keeping every feature is the full predictor; its own attack is the full kernel's attack.
        let all = selection.steps[3]
        XCTAssertEqual(all.cleanAccuracy, selection.full.cleanAccuracy, accuracy: 1.0 / 60)
        XCTAssertEqual(all.ownAttackAccuracy, selection.full.ownAttackAccuracy, accuracy: 1.0 / 60)
        XCTAssertEqual(selection.full.ownAttackAccuracy, selection.full.fullAttackAccuracy)
        XCTAssertGreaterThan(selection.full.cleanAccuracy, 0.6, "a 150-image MNIST kernel predictor should be useful")

        // The peak: the most robust step, the smallest r among equals.
        let best = try XCTUnwrap(selection.steps.map(\.ownAttackAccuracy).max())
        XCTAssertEqual(selection.ownAttackPeak, selection.steps.first { $0.ownAttackAccuracy == best })

        // The chart: each figure against log₁₀ r, labelled with r, beside the full predictor's (dashed).
        let chart = FeatureCharts.robustSelection(selection)
        XCTAssertEqual(chart.series.map(\.name), ["clean", "clean, all features", "own attack", "own attack, all features",
                                                  "full kernel's attack", "full kernel's attack, all features"])
        XCTAssertEqual(chart.series[0].x, [1, 10, 50, 150].map { log10(Double($0)) })
        XCTAssertEqual(chart.series[2].y, selection.steps.map(\.ownAttackAccuracy))
        XCTAssertEqual(chart.series[4].pointLabels, ["1", "10", "50", "150"])
        XCTAssertEqual(chart.series[3].y, [selection.full.ownAttackAccuracy, selection.full.ownAttackAccuracy])
        XCTAssertEqual(chart.series.map(\.dashed), [false, true, false, true, false, true])
        XCTAssertEqual(chart.series[0].color, chart.series[1].color)
        XCTAssertTrue(chart.render().contains("own attack, all features"))

        // Bad counts are refused.
        assertFeatureError(try RobustFeatureSelection.run(features: features, candidates: [1, 2, 3], validation: validation,
                                                          test: test, counts: [4], attack: attack, rng: &rng),
                           .countOutOfRange(name: "number of robust features kept", value: 4, allowed: 1...3))
        assertFeatureError(try RobustFeatureSelection.run(features: features, candidates: [1, 2, 2], validation: validation,
                                                          test: test, counts: [1], attack: attack, rng: &rng),
                           .repeatedFeature(2))
    }
}
