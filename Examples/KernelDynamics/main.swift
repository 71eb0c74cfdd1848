// The quick start through the library: trains the paper's MNIST CNN for a few epochs with the empirical NTK
// of a fixed probe computed after every epoch, then analyses the run (kernel distance to K0, norm,
// concentration, polar dynamics, accuracy) and prints where the plots are.
// usage: swift run -c release KernelDynamics [RUN_DIR] [EPOCHS]   (default: a new temporary folder, 3 epochs)
import Foundation
import Tangent

let arguments = Array(CommandLine.arguments.dropFirst())
let runFolder = arguments.first ?? NSTemporaryDirectory() + "tangent-kernel-dynamics-\(getpid())"

var settings = TrainingSettings.paper(cifar: false)      // batch 300; PGD-20, ε 0.3 for robust evaluation
settings.epochs = arguments.dropFirst().first.flatMap { Int($0) } ?? 3
settings.robustEvalSubset = 200
settings.kernelTracking = KernelTrackingConfiguration(everyEpoch: true, probeSize: 100)   // full 1000×1000 kernel

var rng = Xoshiro256(seed: settings.seed)
let run = RunComponents(model: PaperModels.mnistCNN(rng: &rng), optimizer: try SGD(learningRate: 0.01, momentum: 0.9),
                        data: try TrainingData.load(.mnist, directory: nil), settings: settings)
let loop = try TrainingSession.start(run, runDirectory: runFolder) { settings, folder in
    TrainingSession.standardCallbacks(settings, runDirectory: folder)
}
try loop.fit()

let analysis = try RunAnalysis.compute(runDirectory: runFolder)
let written = try analysis.write()
print("\(analysis.times.count) kernels analysed; \(written.count) files in \(runFolder)/analysis")
if let last = try MetricRow.read(path: runFolder + "/metrics.jsonl").last(where: { $0.name == "ntk_distance_to_initial" }),
   let value = last.value {
    print(String(format: "kernel distance to K0 after epoch %d: %.4f", last.epoch, value))
}
print("open \(runFolder)/analysis/index.html")
