import Autodiff
import Datasets
import Foundation
import Kernels
import NN
import Robustness
import Training
import Workbench
import XCTest

/// The distance and adversarial-training-loss callbacks on a classification run of the training loop
/// (synthetic sign labels, the two-layer network, squared loss against ±1).
final class TrainingCallbackTests: XCTestCase {
    func testDistanceAndAdversarialLossAreLoggedAndResumable() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("workbench-cb-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var rng = Xoshiro256(seed: 41)
        let teacher = try SyntheticTeacher.randomLinear(dimension: 6, rng: &rng)
        let task = try SyntheticTask(dimension: 6, inputs: .sphere, teacher: teacher)
        let data = TrainingData(train: task.sample(count: 40, rng: &rng).classificationDataset(name: "train"),
                                test: task.sample(count: 10, rng: &rng).classificationDataset(name: "test"), source: "synthetic")
        let net = try TwoLayerNetwork(inputs: 6, width: 16, activation: .relu, regime: .full(), rng: &rng)
        var settings = TrainingSettings()
        settings.epochs = 3
        settings.batchSize = 10
        settings.robustEvalSubset = 0
        settings.robustEvaluationAttack = PGDConfiguration(epsilon: 0.05, stepSize: 0.02, steps: 3)
        let loop = try TrainingLoop(model: net, optimizer: try SGD(learningRate: 0.1), loss: .meanSquared(plusMinusOne: true),
                                    data: data, settings: settings, log: try MetricsLog(directory: folder))
        let distance = ParameterDistanceCallback()
        let start = ParameterDistance.snapshot(net)
        loop.callbacks = [distance, AdversarialTrainingLossCallback()]
        try loop.fit()
        let rows = try MetricRow.read(path: (folder as NSString).appendingPathComponent("metrics.jsonl"))
        let distances = rows.filter { $0.name == "parameter_distance" }.compactMap(\.value)
        XCTAssertEqual(distances.count, 3)
        XCTAssertEqual(distances.last!, try ParameterDistance.relative(net, from: start), accuracy: 1e-12)
        XCTAssertGreaterThan(distances.last!, distances.first!)
        let adversarial = rows.filter { $0.name == "train_adversarial_loss" }.compactMap(\.value)
        let clean = rows.filter { $0.name == "train_clean_loss" }.compactMap(\.value)
        XCTAssertEqual(adversarial.count, 3)
        for (a, c) in zip(adversarial, clean) { XCTAssertGreaterThan(a, c) }

        // θ₀ travels in the callback's state: a restored callback measures from the same start.
        let restored = ParameterDistanceCallback()
        try restored.restoreState(try distance.saveState())
        try restored.fitStart(loop)  // must not replace the restored θ₀ with the current parameters
        XCTAssertEqual(try restored.saveState(), try distance.saveState())
    }
}
