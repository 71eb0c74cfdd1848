// A training callback of your own: it watches the gradient norm after every backward pass and stops
// the run as soon as test accuracy passes a threshold.
//
//     swift run -c release CustomCallback [threshold]
//
// Trains the paper's MNIST CNN for up to three epochs on the MNIST sample embedded in the package (no
// download needed); with the default threshold of 0.8 it stops after the second.

import Foundation
import Tangent

/// Logs ‖∇θ L‖ (all parameters together) after every backward pass as `gradient_norm`, and ends
/// training once `test_accuracy` (logged by `EvaluationCallback`, which must run before this one)
/// reaches `threshold`.
final class GradientNormEarlyStop: TrainingCallback {
    let threshold: Double
    private(set) var norms: [(step: Int, norm: Double)] = []

    init(threshold: Double) { self.threshold = threshold }

    func afterBackward(_ loop: TrainingLoop) throws {
        // `loop.gradients` holds this step's gradients by parameter name; the update has not happened yet.
        var squares = 0.0
        for gradient in loop.gradients.values {
            for g in gradient.scalars { squares += Double(g) * Double(g) }
        }
        norms.append((loop.step, squares.squareRoot()))
        try loop.record("gradient_norm", squares.squareRoot())
    }

    func epochEnd(_ loop: TrainingLoop) throws {
        guard let accuracy = loop.log.latest["test_accuracy"] else { return }
        print(String(format: "  epoch %d: test accuracy %.3f, last gradient norm %.4f", loop.epoch, accuracy, norms.last?.norm ?? .nan))
        if accuracy >= threshold {
            throw StopTraining(String(format: "test accuracy %.3f reached the threshold %.3f after epoch %d", accuracy, threshold, loop.epoch))
        }
    }
}

let threshold = CommandLine.arguments.dropFirst().first.flatMap(Double.init) ?? 0.8

var settings = TrainingSettings.paper(cifar: false)
settings.epochs = 3
settings.batchSize = 100
settings.evalTrainSubset = 500
settings.robustEvalSubset = 0

var rng = Xoshiro256(seed: settings.seed)
let model = PaperModels.mnistCNN(rng: &rng)
let data = try TrainingData.load(.mnist, directory: nil, testSubset: 500)
let runFolder = (NSTemporaryDirectory() as NSString).appendingPathComponent("tangent-custom-callback-\(getpid())")
try RunDirectory.create(runFolder)
let loop = try TrainingLoop(model: model, optimizer: try SGD(learningRate: 0.05), data: data, settings: settings,
                            log: try MetricsLog(directory: runFolder))
let watcher = GradientNormEarlyStop(threshold: threshold)
loop.callbacks = [EvaluationCallback(), watcher]

print("training the MNIST CNN on \(loop.data.source)")
print("stopping when test accuracy reaches \(threshold); metrics in \(runFolder)")
do {
    try loop.fit()
    print("trained all \(settings.epochs) epochs without reaching the threshold")
} catch let stop as StopTraining {
    print(stop)
}

let norms = watcher.norms.map(\.norm)
if let first = norms.first, let last = norms.last, let largest = norms.max() {
    print(String(format: "saw %d gradient norms: first %.4f, largest %.4f, last %.4f", norms.count, first, largest, last))
}
