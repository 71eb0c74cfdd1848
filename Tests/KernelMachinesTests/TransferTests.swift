import Autodiff
import Kernels
import KernelMachines
import NN
import XCTest

/// The Appendix C transfer experiment on a tiny case: centring, the width-∞ limit of training, and the
/// gradient similarity between the network and the kernel predictor as the width grows.
final class TransferTests: XCTestCase {
    /// Ten pixel-like training inputs of 8 features with alternating labels, six probe inputs.
    func tinyExperiment(learningRate: Double = 0.05) throws -> TransferExperiment {
        let x = randomTensor([10, 8], seed: 70) { $0.nextUniformDouble() }
        let probe = randomTensor([6, 8], seed: 71) { $0.nextUniformDouble() }
        return try TransferExperiment(trainingInputs: x, trainingLabels: (0..<10).map { Int32($0 % 2) },
                                      probeInputs: probe, probeLabels: [0, 1, 1, 0, 1, 0], learningRate: learningRate)
    }

    func settings(width: Int, epochs: Int = 40, seed: UInt64 = 72) -> TransferSettings {
        TransferSettings(width: width, seed: seed, epochs: epochs, learningRate: 0.05, epsilon: 0.05, pgdSteps: 3,
                         pgdStepSize: 0.02)
    }

    func testCentredNetworkIsZeroAtInitialisationAndOnlyItsFirstLayerTrains() throws {
        var rng = Xoshiro256(seed: 73)
        let network = try CentredTwoLayerNetwork(inputs: 8, width: 64, outputs: 2, rng: &rng)
        let x = randomTensor([5, 8], seed: 74)
        XCTAssertEqual(try network(x).scalars, [Float](repeating: 0, count: 10))
        XCTAssertEqual(network.trainableParameters.map(\.name), ["hiddenChange.weight"])
        let initial = network.initialHidden.weight.value.scalars, signs = network.output.weight.value.scalars
        let (_, gradients) = try network.lossAndGradients { try network(x).square().sum() + network(x).sum() }
        try SGD(learningRate: 0.1).update(network, gradients: gradients)
        XCTAssertNotEqual(try network(x).scalars, [Float](repeating: 0, count: 10))
        XCTAssertNotEqual(try network.hiddenWeight.scalars, initial)
        XCTAssertEqual(network.initialHidden.weight.value.scalars, initial)
        XCTAssertEqual(network.output.weight.value.scalars, signs)
    }

    /// At epoch 0 both functions are 0: no similarity, the kernel predictor at time 0 and a loss of ½.
    func testEpochZeroIsTheZeroFunction() throws {
        let first = try tinyExperiment().run(settings(width: 32, epochs: 0))[0]
        XCTAssertNil(first.gradientSimilarity)
        XCTAssertEqual(first.outputGap, 0)
        XCTAssertEqual(first.kernelOutputScale, 0)
        XCTAssertEqual(first.trainingLoss, 0.5, accuracy: 1e-6)
    }

    /// A very wide network trained with a small step stays on the kernel's gradient flow: its probe
    /// outputs after 40 steps are within 5 % of (3.6 % measured) the flow predictor's at the matched time; a narrow one is not.
    func testVeryWideNetworkTracksTheGradientFlowPredictor() throws {
        let experiment = try tinyExperiment()
        let wide = try experiment.run(settings(width: 1 << 16)).last!
        let narrow = try experiment.run(settings(width: 8)).last!
        let wideGap = wide.outputGap / wide.kernelOutputScale, narrowGap = narrow.outputGap / narrow.kernelOutputScale
        print(String(format: "output gap relative to the kernel predictor after 40 steps: width 2^16 %.4f, width 8 %.4f",
                     wideGap, narrowGap))
        XCTAssertGreaterThan(wide.kernelOutputScale, 0.15, "the flow has moved away from 0")
        XCTAssertLessThan(wideGap, 0.05)
        XCTAssertGreaterThan(narrowGap, 0.3)
        XCTAssertLessThan(wide.trainingLoss, 0.5, "training made progress")
    }

    /// The cosine similarity of the loss input-gradients tends to 1 as the width grows.
    func testGradientSimilarityApproachesOneAsWidthGrows() throws {
        let experiment = try tinyExperiment()
        let similarities = try [16, 1024, 1 << 16].map { width in
            try XCTUnwrap(try experiment.run(settings(width: width, epochs: 20)).last!.gradientSimilarity)
        }
        print("gradient similarity after 20 steps at widths 16, 1024, 65536:", similarities)
        XCTAssertLessThan(similarities[0], similarities[2])
        XCTAssertLessThan(similarities[0], 0.95)
        XCTAssertGreaterThan(similarities[2], 0.99)
    }

    func testSettingsAndShapesAreChecked() throws {
        let experiment = try tinyExperiment()
        var bad = settings(width: 0)
        XCTAssertThrowsError(try experiment.run(bad)) { XCTAssertTrue("\($0)".contains("width"), "\($0)") }
        bad = settings(width: 4)
        bad.learningRate = 0.01
        XCTAssertThrowsError(try experiment.run(bad)) { XCTAssertTrue("\($0)".contains("learning rate"), "\($0)") }
        XCTAssertThrowsError(try TransferExperiment(trainingInputs: randomTensor([4, 8], seed: 1), trainingLabels: [0, 1, 0, 1],
                                                    probeInputs: randomTensor([2, 7], seed: 2), probeLabels: [0, 1],
                                                    learningRate: 0.1))
        XCTAssertThrowsError(try TransferExperiment(trainingInputs: randomTensor([4, 8], seed: 1), trainingLabels: [0, 1, 0, 2],
                                                    probeInputs: randomTensor([2, 8], seed: 2), probeLabels: [0, 1],
                                                    learningRate: 0.1))
    }

    func testMeanCosineSimilarity() {
        let a = Tensor(shape: [3, 2], scalars: [1, 0, 0, 0, 1, 1])
        let b = Tensor(shape: [3, 2], scalars: [2, 0, 5, 5, -1, -1])
        XCTAssertEqual(TransferExperiment.meanCosineSimilarity(a, b)!, 0, accuracy: 1e-12)  // (1 + skipped − 1) / 2
        XCTAssertNil(TransferExperiment.meanCosineSimilarity(Tensor.zeros([2, 2]), b.reshapedForTest()))
    }
}

private extension Tensor {
    func reshapedForTest() -> Tensor { Tensor(shape: [2, 2], scalars: Array(scalars.prefix(4))) }
}
