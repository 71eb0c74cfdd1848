import Autodiff
import Foundation
import Kernels
import KernelMachines
import Plots
import Robustness
import XCTest

/// The usefulness–robustness scatter and the input-gradient images of features.
final class EigenFeaturePictureTests: XCTestCase {
    func testGradientImagesAreTheFeaturesOwnLossGradients() throws {
        // Grey 4 × 4 images and RGB 3 × 2 × 2 images, 18 training inputs each.
        for shape in [[1, 4, 4], [3, 2, 2]] {
            let train = uniformInputs([18] + shape, seed: 101), image = uniformInputs([1] + shape, seed: 102)
            let labels: [Int32] = (0..<18).map { Int32($0 % 2) }
            let features = try EigenFeatures.decompose(kernel: FullyConnectedReLUKernel.notebook, inputs: train, labels: labels,
                                                       task: .binary(negative: 0, positive: 1))
            let images = try features.gradientImages(features: [1, 5], image: image, label: 1)
            XCTAssertEqual(images.count, 2)
            for (picture, j) in zip(images, [1, 5]) {
                XCTAssertEqual(picture.colorModel, shape[0] == 1 ? .grey : .rgb)
                XCTAssertEqual([picture.width, picture.height], [shape[2], shape[1]])
                let objective = try KernelAttackObjective(predictor: try features.predictor(feature: j), loss: .binaryCrossEntropy)
                let gradient = try objective.lossAndInputGradient(at: image, labels: [1]).gradient
                XCTAssertEqual(picture, try RasterImage(planes: gradient.scalars, channels: shape[0], height: shape[1],
                                                        width: shape[2], scaling: .symmetric))
            }
            XCTAssertNotEqual(images[0].pixels, images[1].pixels)
            // The grid of features 1…16, each upscaled 3×, four to a row with 6-pixel gaps.
            let grid = try features.gradientGrid(image: image, label: 1, upscale: 3)
            XCTAssertEqual(grid.width, 4 * shape[2] * 3 + 5 * 6)
            XCTAssertEqual(grid.height, 4 * shape[1] * 3 + 5 * 6)
            XCTAssertEqual(Array(try grid.pngData().prefix(8)), PNGEncoder.signature)
        }
    }

    func testFlattenedInputsNeedAPictureShape() throws {
        let train = uniformInputs([6, 12], seed: 103), image = uniformInputs([1, 12], seed: 104)
        let features = try EigenFeatures.decompose(kernel: FullyConnectedReLUKernel.notebook, inputs: train,
                                                   labels: [0, 1, 0, 1, 1, 0], task: .binary(negative: 0, positive: 1))
        assertThrows(.inputLayout(argument: "image", shape: [1, 12], expected: "[1, C, H, W] or [1, H, W], or a picture shape given with it"),
                     try features.gradientImages(features: [1], image: image, label: 0))
        assertThrows(.inputLayout(argument: "image", shape: [1, 12], expected: "1×3×3 values per picture"),
                     try features.gradientImages(features: [1], image: image, label: 0, shape: (1, 3, 3)))
        assertThrows(.inputLayout(argument: "image", shape: [2, 12], expected: "one sample [1, …]"),
                     try features.gradientImages(features: [1], image: uniformInputs([2, 12], seed: 1), label: 0, shape: (3, 2, 2)))
        let rgb = try features.gradientImages(features: [2], image: image, label: 0, shape: (3, 2, 2))
        XCTAssertEqual(rgb[0].colorModel, .rgb)
        assertFeatureError(try features.gradientImages(features: [7], image: image, label: 0, shape: (3, 2, 2)),
                           .featureOutOfRange(feature: 7, count: 6))
    }

    func testTheUsefulnessRobustnessScatterPlacesEveryFeature() throws {
        let train = uniformInputs([30, 6], seed: 105), test = uniformInputs([10, 6], seed: 106)
        let labels: [Int32] = (0..<30).map { Int32($0 % 2) }, testLabels: [Int32] = (0..<10).map { Int32($0 % 2) }
        let features = try EigenFeatures.decompose(kernel: FullyConnectedReLUKernel.notebook, inputs: train, labels: labels,
                                                   task: .binary(negative: 0, positive: 1))
        var rng = Xoshiro256(seed: 3)
        let evaluations = try features.evaluate(features: 1...30, images: test, labels: testLabels,
                                                attacks: [.fgsm(epsilon: 0.05)], rng: &rng)
        let chart = FeatureCharts.usefulnessRobustness(evaluations)
        // Bands 1–5, 6–10, 11–25, 26–50: four scatter series holding the 30 features.
        XCTAssertEqual(chart.series.map(\.name), ["j = 1–5", "j = 6–10", "j = 11–25", "j = 26–50"])
        XCTAssertEqual(chart.series.map(\.x.count).reduce(0, +), 30)
        XCTAssertTrue(chart.series.allSatisfy { !$0.connectsPoints })
        XCTAssertEqual(chart.series[0].x[0], evaluations[0].cleanAccuracy)
        XCTAssertEqual(chart.series[0].y[0], evaluations[0].robustAccuracy)
        XCTAssertEqual(chart.series.flatMap(\.pointLabels).filter { !$0.isEmpty }, ["1", "10", "25"])
        let svg = chart.render()
        XCTAssertTrue(svg.contains("class=\"point-label\""))
        XCTAssertFalse(svg.contains("class=\"curve\""))
        XCTAssertEqual(FeatureCharts.usefulnessRobustness(evaluations, firstK: 8).series.map(\.x.count), [5, 3])
        let side = FeatureCharts.usefulnessRobustness(comparing: [("FC-1", evaluations), ("FC-1 again", evaluations)])
        XCTAssertEqual(side.series.map(\.name), ["FC-1", "FC-1 again"])
    }
}
