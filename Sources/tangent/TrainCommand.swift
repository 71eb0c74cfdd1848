import ArgumentParser
import Foundation
import Tangent

/// `tangent train`: the main job — train a paper model, evaluating every epoch, writing the run
/// folder (config.json, metrics.jsonl, metrics.csv).
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Train the paper's MNIST or CIFAR-10 CNN (or the two-layer net).")

    @Option(help: "mnist-cnn | cifar-cnn | two-layer") var model: String = "mnist-cnn"
    @Option(help: "mnist | fashion-mnist | cifar10 (default: the model's)") var dataset: String?
    @Option(help: "Folder with the standard data files (default: the embedded MNIST sample).") var dataDir: String?
    @Option(help: "Epochs to train.") var epochs: Int = 10
    @Option(help: "Batch size (default 300 MNIST, 250 CIFAR-10).") var batchSize: Int?
    @Option(help: "Learning rate.") var lr: Float = 0.01
    @Option(help: "SGD momentum.") var momentum: Float = 0
    @Option(help: "Weight decay.") var weightDecay: Float = 0
    @Option(help: "Random seed (model, data order, attacks).") var seed: UInt64 = 0
    @Option(help: "Train on the first N training images.") var trainSubset: Int?
    @Option(help: "Evaluate on N test images.") var testSubset: Int?
    @Option(help: "Measure clean training accuracy on the first N training images.") var evalTrainSubset: Int = 10_000
    @Option(help: "Evaluate every N epochs.") var evalEvery: Int = 1
    @Flag(help: "Visit training images in file order every epoch (as the paper's reference code).") var noShuffle = false
    @Option(help: "Width of the two-layer network.") var width: Int = 4096
    @Option(help: "Run folder (default: a new folder under checkpoints/).") var runDir: String?

    func makeConfiguration() throws -> TrainingConfiguration {
        let kind = try ModelKind(argument: model)
        var c = TrainingConfiguration.paperDefaults(model: kind)
        if let dataset { c.dataset = try DatasetKind(argument: dataset) }
        c.dataDirectory = dataDir
        c.epochs = epochs
        c.batchSize = batchSize ?? kind.defaultBatchSize
        c.learningRate = lr
        c.momentum = momentum
        c.weightDecay = weightDecay
        c.seed = seed
        c.trainSubset = trainSubset
        c.testSubset = testSubset
        c.evalTrainSubset = evalTrainSubset
        c.evalEvery = evalEvery
        c.shuffle = !noShuffle
        c.twoLayerWidth = width
        try c.validate()
        return c
    }

    func run() throws {
        let config = try makeConfiguration()
            let data = try TrainingData.load(config)
            let dir = try runDir.map { try RunDirectory.create($0); return $0 } ?? RunDirectory.makeNew(model: config.model)
            try RunDirectory.writeConfiguration(config, to: dir)
            print("data: \(data.source)")
            print("run folder: \(dir)")
            let loop = TrainingLoop(configuration: config, data: data, log: try MetricsLog(directory: dir))
            loop.callbacks = [EvaluationCallback(), ProgressCallback()]
            try loop.fit()
    }
}
