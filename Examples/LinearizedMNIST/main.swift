// PAPER.md Appendix E.1 on MNIST: PGD adversarial training of the MNIST CNN, and the same run continued
// from epochs 0, 1 and 3 with the network replaced by its linearization around the parameters at that
// epoch (attacks then target the linearized model itself). Prints clean and PGD-20 robust test accuracy
// per epoch for each run and writes a plot. Adam (η = 0.001) stands in for the paper's SGD so that a short
// run shows something; the defaults (300 sample images, 3 epochs) take well under a minute, the paper's
// setting is `LinearizedMNIST DIR 60000 20`.
// usage: swift run -c release LinearizedMNIST [MNIST_DIR or -] [TRAIN_SUBSET] [EPOCHS] [OUT_DIR]
import Foundation
import Tangent

let args = Array(CommandLine.arguments.dropFirst())
let dataDirectory = args.count > 0 && args[0] != "-" ? args[0] : nil
let trainSubset = args.count > 1 ? Int(args[1])! : 300
let epochs = args.count > 2 ? Int(args[2])! : 3
let out = args.count > 3 ? args[3] : NSTemporaryDirectory() + "tangent-linearized-mnist"
let linearizeAt = [0, 1, 3].filter { $0 < epochs }
try? FileManager.default.removeItem(atPath: out)

let settings: TrainingSettings = {
    var s = TrainingSettings.paper(cifar: false)
    s.epochs = epochs
    s.robustEvalSubset = 100
    s.evalTrainSubset = 1000
    s.adversarial = .pgd(.paper(cifar: false))
    s.keepLast = epochs + 1
    return s
}()

/// The run's values: the MNIST CNN seeded by the run's seed, Adam; `linearizeAt` switches to the
/// linearized model at the start of that epoch.
func components(linearizeAt: Int? = nil) throws -> RunComponents {
    var s = settings
    s.linearizeAtEpoch = linearizeAt
    var rng = Xoshiro256(seed: s.seed)
    return RunComponents(model: PaperModels.mnistCNN(rng: &rng), optimizer: try Adam(learningRate: 1e-3),
                         data: try TrainingData.load(.mnist, directory: dataDirectory, trainSubset: trainSubset, testSubset: 1000),
                         settings: s)
}
func callbacks(_ s: TrainingSettings, _ dir: String) -> [TrainingCallback] {
    TrainingSession.standardCallbacks(s, runDirectory: dir, progress: false)
}
func accuracies(_ dir: String) throws -> [(epoch: Int, clean: Double, robust: Double)] {
    let rows = try MetricRow.read(path: dir + "/metrics.jsonl")
    let clean = Dictionary(rows.filter { $0.name == "test_accuracy" }.map { ($0.epoch, $0.value ?? .nan) }, uniquingKeysWith: { $1 })
    let robust = Dictionary(rows.filter { $0.name == "test_robust_accuracy" }.map { ($0.epoch, $0.value ?? .nan) }, uniquingKeysWith: { $1 })
    return clean.keys.sorted().map { ($0, clean[$0]!, robust[$0] ?? .nan) }
}

// The ordinary (nonlinear) adversarially trained run, checkpointed every epoch.
let baselineDir = out + "/nonlinear"
let baseline = try TrainingSession.start(try components(), runDirectory: baselineDir, callbacks: callbacks)
try baseline.fit()
let stepsPerEpoch = baseline.step / epochs
var runs: [(label: String, dir: String)] = [("nonlinear", baselineDir)]

// Linearized continuations: k = 0 starts afresh from the same initialisation; k > 0 branches from the
// baseline's checkpoint at the end of epoch k.
for k in linearizeAt {
    let dir = out + "/linearized-at-\(k)"
    let loop: TrainingLoop
    if k == 0 {
        loop = try TrainingSession.start(try components(linearizeAt: 0), runDirectory: dir, callbacks: callbacks)
    } else {
        let checkpoint = CheckpointDirectory(path: baselineDir + "/checkpoints").path(forStep: k * stepsPerEpoch)
        loop = try TrainingSession.resume(from: checkpoint, into: dir, components: { _ in try components(linearizeAt: k) },
                                          callbacks: callbacks).loop
    }
    try loop.fit()
    runs.append(("linearized at epoch \(k)", dir))
}

print("run                     epoch  clean   robust  gap")
var series: [LineChart.Series] = []
let palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]  // one colour per run: solid clean, dashed PGD-20
for (index, (label, dir)) in runs.enumerated() {
    let color = palette[index % palette.count]
    let acc = try accuracies(dir)
    for a in acc {
        print(label.padding(toLength: 22, withPad: " ", startingAt: 0)
              + String(format: "  %5d  %.4f  %.4f  %.4f", a.epoch, a.clean, a.robust, a.clean - a.robust))
    }
    series.append(LineChart.Series(name: "\(label) clean", x: acc.map { Double($0.epoch) }, y: acc.map(\.clean), color: color))
    series.append(LineChart.Series(name: "\(label) PGD-20", x: acc.map { Double($0.epoch) }, y: acc.map(\.robust),
                                   color: color, dashed: true))
}
let chart = LineChart(title: "MNIST CNN, PGD adversarial training: nonlinear vs linearized", xLabel: "epoch",
                      yLabel: "test accuracy", series: series)
try chart.write(to: out + "/accuracy.svg")
print("plot: \(out)/accuracy.svg")
