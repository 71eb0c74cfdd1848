// PGD adversarial training of the paper's MNIST CNN (PGD-20, ε = 0.3, step 0.01, start at δ = 0) with the
// library's training loop, printing clean and PGD-20 robust accuracy every epoch. Adam (η = 0.001) stands in
// for the paper's SGD (η = 0.01), which needs many more epochs to get going on attacked inputs from scratch.
// usage: swift run -c release AdversarialMNIST [MNIST_DIR] [EPOCHS] [TRAIN_SUBSET]
//        (no folder or "-": the embedded sample; default 3 epochs on its first 1,000 images)
import Foundation
import Tangent

let arguments = Array(CommandLine.arguments.dropFirst())
let directory = arguments.first.flatMap { $0 == "-" ? nil : $0 }
let data = try TrainingData.load(.mnist, directory: directory,
                                 trainSubset: arguments.count > 2 ? Int(arguments[2]) : 1000, testSubset: 1000)

var settings = TrainingSettings.paper(cifar: false)
settings.epochs = arguments.count > 1 ? Int(arguments[1]) ?? 3 : 3
settings.adversarial = .pgd(.paper(cifar: false))   // every batch is replaced by its PGD-20 version
settings.robustEvalSubset = 200                     // PGD-20 accuracy on 200 training and 200 test images
settings.evalTrainSubset = 1000

var rng = Xoshiro256(seed: settings.seed)
let model = PaperModels.mnistCNN(rng: &rng)
let runFolder = NSTemporaryDirectory() + "tangent-adversarial-mnist-\(getpid())"
try RunDirectory.create(runFolder)
let loop = try TrainingLoop(model: model, optimizer: try Adam(learningRate: 1e-3), data: data, settings: settings,
                            log: try MetricsLog(directory: runFolder))

/// Prints the epoch's clean and robust test accuracy (logged by the evaluation callbacks before it).
final class Report: TrainingCallback {
    func epochEnd(_ loop: TrainingLoop) throws {
        let m = loop.log.latest
        print(String(format: "epoch %d: train loss (on PGD inputs) %.4f, clean test accuracy %.4f, PGD-20 robust test accuracy %.4f",
                     loop.epoch, m["train_loss"] ?? .nan, m["test_accuracy"] ?? .nan, m["test_robust_accuracy"] ?? .nan))
    }
}
loop.callbacks = [EvaluationCallback(), RobustEvaluationCallback(), Report()]

print("PGD-20 adversarial training of the MNIST CNN on \(data.train.count) images of \(data.source)")
try loop.fit()
