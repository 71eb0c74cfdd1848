import Foundation
import Tangent
import XCTest

/// Shared set-up of the training tests: small runs on the MNIST sample embedded in the package, built the
/// way a user of the library builds them (`RunComponents` + `TrainingSession`), plus synthetic image data
/// for models that take CIFAR-sized inputs (so no test depends on a data folder).
enum TestRuns {
    /// A fresh path under the temporary directory (not created), removed with its contents when `test` ends.
    static func folder(for test: XCTestCase, prefix: String = "tangent-test") -> String {
        let path = NSTemporaryDirectory() + "\(prefix)-\(UUID().uuidString)"
        test.addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    /// Whether anything exists at `path`.
    static func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    /// The first `train` training and `test` test images of the embedded MNIST sample.
    static func mnist(train: Int = 200, test: Int = 50) throws -> TrainingData {
        try TrainingData.load(.mnist, directory: nil, trainSubset: train, testSubset: test)
    }

    /// Settings for a run of a few seconds: batch 50, seed 7, evaluation on 100 training images, robust
    /// evaluation (when `robustEvalSubset` > 0) with a cheap PGD-2 attack.
    static func settings(epochs: Int, batchSize: Int = 50, seed: UInt64 = 7, robustEvalSubset: Int = 0) -> TrainingSettings {
        var s = TrainingSettings.paper(cifar: false)
        s.epochs = epochs
        s.batchSize = batchSize
        s.seed = seed
        s.evalTrainSubset = 100
        s.robustEvalSubset = robustEvalSubset
        s.robustEvaluationAttack = cheapPGD
        return s
    }

    /// PGD-2 with a random start, ε 0.1: enough to exercise attacks (and their randomness) cheaply.
    static let cheapPGD = PGDConfiguration(epsilon: 0.1, stepSize: 0.05, steps: 2, randomStart: true)

    /// The paper's MNIST CNN seeded by the run's seed (`var rng = Xoshiro256(seed: settings.seed)`, the
    /// command line's convention), trained by plain SGD on the first `train`/`test` sample images.
    static func mnistCNN(_ settings: TrainingSettings, train: Int = 200, test: Int = 50, learningRate: Float = 0.01,
                         optimizer: (any Optimizer)? = nil, loss: Loss = .crossEntropy,
                         schedule: (any LearningRateSchedule)? = nil) throws -> RunComponents {
        var rng = Xoshiro256(seed: settings.seed)
        return RunComponents(model: PaperModels.mnistCNN(rng: &rng), optimizer: try optimizer ?? SGD(learningRate: learningRate),
                             loss: loss, schedule: schedule, data: try mnist(train: train, test: test), settings: settings)
    }

    /// A loop over `run` logging into `folder` (created), without callbacks: for tests that pick their own.
    static func loop(_ run: RunComponents, in folder: String) throws -> TrainingLoop {
        try RunDirectory.create(folder)
        return try TrainingLoop(model: run.model, optimizer: run.optimizer, loss: run.loss, schedule: run.schedule, data: run.data,
                                settings: run.settings, log: try MetricsLog(directory: folder))
    }

    /// The standard callbacks without progress lines (and with gradient-masking warnings kept quiet),
    /// then `StopAfter(step:)` when `stopAfterStep` is given, then `extra`.
    static func callbacks(stopAfterStep: Int? = nil, extra: [TrainingCallback] = []) -> (TrainingSettings, String) -> [TrainingCallback] {
        { settings, directory in
            var list = TrainingSession.standardCallbacks(settings, runDirectory: directory, progress: false)
            if let i = list.firstIndex(where: { $0 is RobustEvaluationCallback }) { list[i] = RobustEvaluationCallback(warn: { _ in }) }
            if let n = stopAfterStep { list.append(StopAfter(step: n)) }
            return list + extra
        }
    }

    /// Stops the run cleanly once `step` optimiser steps are done (after that step's checkpoint, which
    /// the checkpoint callback — earlier in the list — has written when the cadence asks for one).
    final class StopAfter: TrainingCallback {
        let step: Int
        init(step: Int) { self.step = step }
        func batchEnd(_ loop: TrainingLoop) throws { if loop.step == step { throw StopTraining("test stop after step \(step)") } }
    }

    /// Trains `loop` until a `StopAfter` callback ends it; fails the test if it ran to the end instead.
    static func fitUntilStopped(_ loop: TrainingLoop, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try loop.fit(), "the run should have been stopped", file: file, line: line) {
            XCTAssertTrue($0 is StopTraining, "\($0)", file: file, line: line)
        }
    }

    /// Every parameter's values by name.
    static func parameters(_ model: Module) -> [String: [Float]] {
        Dictionary(uniqueKeysWithValues: model.namedParameters.map { ($0.name, $0.parameter.value.scalars) })
    }

    /// The lines of a run's `metrics.jsonl`, without wall-clock timings (`ntk_seconds`), which differ between runs.
    static func deterministicMetricLines(_ runDirectory: String) throws -> [Substring] {
        try String(contentsOfFile: runDirectory + "/metrics.jsonl", encoding: .utf8)
            .split(separator: "\n").filter { !$0.contains("_seconds") }
    }

    /// The rows named `name` of a run's `metrics.jsonl`.
    static func rows(_ runDirectory: String, _ name: String) throws -> [MetricRow] {
        try MetricRow.read(path: runDirectory + "/metrics.jsonl").filter { $0.name == name }
    }

    /// The values of `name` in a run's metrics, in order.
    static func values(_ runDirectory: String, _ name: String) throws -> [Double] {
        try rows(runDirectory, name).compactMap(\.value)
    }

    /// The newest checkpoint of a run folder.
    static func latestCheckpoint(_ runDirectory: String) throws -> (path: String, checkpoint: Checkpoint) {
        let loaded = try XCTUnwrap(try CheckpointDirectory(path: runDirectory + "/checkpoints").loadLatestValid())
        return (loaded.entry.path, loaded.checkpoint)
    }

    /// The names of the model parameters a checkpoint holds (everything but optimiser, loop and callback state).
    static func parameterNames(in checkpoint: Checkpoint) -> Set<String> {
        Set(checkpoint.names.filter { !["optimizer.", "state.", "callback."].contains(where: $0.hasPrefix) })
    }

    /// A synthetic image classification task that any convolutional network separates quickly, even one
    /// that pools globally (ResNets, Myrtle): each class has its own colour (per-channel mean, a point of the
    /// grid {0.2, 0.5, 0.8}³); an image is its class colour plus stripes of random phase and period and
    /// Gaussian pixel noise (σ `noise`), clipped to [0, 1]. Labels cycle through the classes.
    static func synthetic(classes: Int, channels: Int = 3, size: Int = 32, train: Int, test: Int,
                          noise: Float = 0.3, seed: UInt64 = 11) -> TrainingData {
        precondition(classes <= 27 && channels == 3)
        var rng = Xoshiro256(seed: seed)
        let levels: [Float] = [0.2, 0.5, 0.8]
        let grid: [[Float]] = (0..<27).map { (k: Int) -> [Float] in [levels[k % 3], levels[k / 3 % 3], levels[k / 9]] }
        let colours = rng.permutation(27).prefix(classes).map { grid[$0] }
        func make(_ name: String, _ count: Int) -> ImageDataset {
            var images = [Float](), labels = [Int32]()
            images.reserveCapacity(count * channels * size * size)
            for i in 0..<count {
                let label = i % classes
                let period = Float(3 + rng.next() % 6), phase = rng.nextUniformFloat() * 2 * Float.pi
                for c in 0..<channels {
                    for y in 0..<size {
                        let stripe: Float = 0.15 * sin(2 * Float.pi * Float(y) / period + phase)
                        let mean: Float = colours[label][c] + stripe
                        for _ in 0..<size {
                            let value: Float = mean + noise * Float(rng.nextNormal())
                            images.append(min(max(value, 0), 1))
                        }
                    }
                }
                labels.append(Int32(label))
            }
            return ImageDataset(name: name, classNames: (0..<classes).map { "colour\($0)" }, channels: channels,
                                height: size, width: size, images: images, labels: labels)
        }
        let trainSet = make("synthetic-train", train)
        return TrainingData(train: trainSet, test: make("synthetic-test", test), source: "synthetic colours + stripes + noise")
    }
}
