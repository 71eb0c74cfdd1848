// A CIFAR ResNet-20 (Architectures.cifarResNet: He et al. 2016 without batch normalisation) trained with
// Adam, a cosine learning-rate schedule and random crops and flips, with the empirical NTK of a small probe
// batch tracked every epoch. Prints per-epoch loss, accuracy and kernel distance from initialisation.
// usage: swift run -c release TrainResNet [CIFAR10] [EPOCHS] [TRAIN_SUBSET]
//   CIFAR10: the CIFAR-10 binary folder or its .tar.gz (or set TANGENT_CIFAR10); "-" or missing data: a
//   small synthetic data set. Defaults: 4 epochs on the first 10,000 training images (about 25 s an epoch
//   on 2 cores), 500 test images.
import Foundation
import Tangent

let arguments = Array(CommandLine.arguments.dropFirst())
let cifarPath = arguments.first.flatMap { $0 == "-" ? nil : $0 } ?? ProcessInfo.processInfo.environment["TANGENT_CIFAR10"]
let epochs = arguments.count > 1 ? Int(arguments[1]) ?? 4 : 4
let trainSubset = arguments.count > 2 ? Int(arguments[2]) ?? 10_000 : 10_000

/// Ten classes of 3×32×32 images told apart by their mean colour, under stripes and pixel noise.
func syntheticData(train: Int, test: Int) -> TrainingData {
    var rng = Xoshiro256(seed: 1)
    let colours = (0..<10).map { _ in (0..<3).map { _ in 0.2 + 0.6 * rng.nextUniformFloat() } }
    func make(_ name: String, _ count: Int) -> ImageDataset {
        var images = [Float](), labels = [Int32]()
        for i in 0..<count {
            let label = i % 10, period = Float(3 + rng.next() % 6)
            for c in 0..<3 { for y in 0..<32 { for _ in 0..<32 {
                let stripe = 0.15 * sin(2 * Float.pi * Float(y) / period)
                images.append(min(max(colours[label][c] + stripe + 0.2 * Float(rng.nextNormal()), 0), 1))
            } } }
            labels.append(Int32(label))
        }
        return ImageDataset(name: name, classNames: (0..<10).map { "colour\($0)" }, channels: 3, height: 32, width: 32,
                            images: images, labels: labels)
    }
    return TrainingData(train: make("synthetic-train", train), test: make("synthetic-test", test),
                        source: "a synthetic data set (\(train) train / \(test) test images)")
}

let data: TrainingData
if let path = cifarPath, FileManager.default.fileExists(atPath: path) {
    data = try TrainingData.load(.cifar10, directory: path, trainSubset: trainSubset, testSubset: 500)
} else {
    print(cifarPath.map { "no CIFAR-10 data at \($0)" } ?? "no CIFAR-10 data given (argument or TANGENT_CIFAR10)",
          "- training on a small synthetic data set instead")
    data = syntheticData(train: min(trainSubset, 2000), test: 200)
}

var settings = TrainingSettings.paper(cifar: true)
settings.epochs = epochs
settings.batchSize = 128
settings.evalTrainSubset = 500
settings.robustEvalSubset = 0                                           // clean accuracy only
settings.augmentation = try Augmentation(cropPadding: 4, horizontalFlip: true)
settings.kernelTracking = KernelTrackingConfiguration(everyEpoch: true, probeSize: 8)   // an 80 × 80 kernel

var rng = Xoshiro256(seed: settings.seed)
let model = try Architectures.cifarResNet(depth: 20, rng: &rng)
let steps = epochs * ((data.train.count + settings.batchSize - 1) / settings.batchSize)
let run = RunComponents(model: model, optimizer: try Adam(learningRate: 2e-3),
                        schedule: try CosineSchedule(rate: 2e-3, totalSteps: steps), data: data, settings: settings)
let folder = NSTemporaryDirectory() + "tangent-resnet20-\(getpid())"
let loop = try TrainingSession.start(run, runDirectory: folder) { s, dir in TrainingSession.standardCallbacks(s, runDirectory: dir) }

print("ResNet-20, \(model.parameterCount) parameters, on \(data.source); run folder \(folder)")
try loop.fit()
let distances = try MetricRow.read(path: folder + "/metrics.jsonl").filter { $0.name == "ntk_distance_to_initial" }
print("NTK distance to K₀ by epoch: " + distances.map { String(format: "%d: %.4f", $0.epoch, $0.value ?? .nan) }.joined(separator: ", "))
