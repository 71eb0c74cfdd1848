// Trains the paper's MNIST CNN with the library's training loop (no CLI) and prints per-epoch loss and
// accuracy, then the final test accuracy.
// usage: swift run -c release TrainMNIST [MNIST_DIR] [EPOCHS]   (no folder or "-": the embedded sample; 5 epochs)
import Foundation
import Tangent

let arguments = CommandLine.arguments.dropFirst()
let data = try TrainingData.load(.mnist, directory: arguments.first.flatMap { $0 == "-" ? nil : $0 })

var settings = TrainingSettings.paper(cifar: false)   // batch 300, PGD-20 ε 0.3 for robust evaluation
settings.epochs = arguments.dropFirst().first.flatMap { Int($0) } ?? 5
settings.robustEvalSubset = 0                          // clean accuracy only

// The model, optimiser and loss are plain values; the seed convention makes the run reproducible.
var rng = Xoshiro256(seed: settings.seed)
let model = PaperModels.mnistCNN(rng: &rng)
let runFolder = NSTemporaryDirectory() + "tangent-train-mnist-\(getpid())"
try RunDirectory.create(runFolder)
let loop = try TrainingLoop(model: model, optimizer: try SGD(learningRate: 0.01), loss: .crossEntropy,
                            data: data, settings: settings, log: try MetricsLog(directory: runFolder))
loop.callbacks = [EvaluationCallback(), ProgressCallback()]

print("training the MNIST CNN (\(model.parameterCount) parameters) on \(data.source)")
try loop.fit()
let test = try Evaluation.evaluate(model, on: data.test)
print(String(format: "final test accuracy %.4f, test loss %.4f (metrics in %@)", test.accuracy, test.loss, runFolder))
