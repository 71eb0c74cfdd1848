// The paper's Appendix C in small: centred two-layer ReLU nets (first layer trained, ±1 output frozen) of two
// widths trained by full-batch gradient descent on MNIST 3 (−1) vs 5 (+1), and after every step the cosine
// similarity between their loss input-gradients and those of the two-layer NTK's gradient-flow predictor at
// the same time, every 20 of 200 steps. Once enough hidden units have changed sign (after the first few dozen
// steps) the wider net stays closer to 1; in the first steps the order can be the other way (BENCHMARKS.md).
// usage: swift run -c release TransferToWideNets [MNIST_DIR]   (no folder or "-": the embedded sample)
import Foundation
import Tangent

let arguments = Array(CommandLine.arguments.dropFirst())
let directory = arguments.first.flatMap { $0 == "-" ? nil : $0 }
let data = try TrainingData.load(.mnist, directory: directory)
let task = KernelTask.binary(negative: 3, positive: 5)
let (trainX, trainY) = try task.samples(from: data.train, count: 200, selection: .perClass)
let (probeX, probeY) = try task.samples(from: data.test, count: 50, selection: .perClass)
func zeroOne(_ labels: [Int32]) -> [Int32] { labels.map { $0 == 5 ? 1 : 0 } }

@MainActor func experiment(rate: Double) throws -> TransferExperiment {
    try TransferExperiment(trainingInputs: try trainX.flattenedBatch(), trainingLabels: zeroOne(trainY),
                           probeInputs: try probeX.flattenedBatch(), probeLabels: zeroOne(probeY), learningRate: rate)
}
// η·λ_max(Θ) = 0.3, read off the kernel's spectrum: small enough for gradient descent to follow the flow.
let lambdaMax = try experiment(rate: 1).flow.eigenvalues[0]
let rate = 0.3 / lambdaMax
let study = try experiment(rate: rate)
print(String(format: "%@: 200 train / 50 probe images, λ_max(Θ) = %.4g, step η = %.3g, ε = 0.1", data.source, lambdaMax, rate))

var similarity: [Int: [Int: Double]] = [:]
var last: [Int: TransferEpoch] = [:]
let widths = [256, 8192]
for width in widths {
    let settings = TransferSettings(width: width, seed: 0, epochs: 200, learningRate: rate, epsilon: 0.1, pgdSteps: 10,
                                    pgdStepSize: 0.025, measurementInterval: 20)
    let records = try study.run(settings)
    similarity[width] = Dictionary(uniqueKeysWithValues: records.compactMap { r in r.gradientSimilarity.map { (r.epoch, $0) } })
    last[width] = records.last
}
print("epoch  " + widths.map { String(format: "width %-6d", $0) }.joined(separator: " "))
for epoch in stride(from: 20, through: 200, by: 20) {
    print(String(format: "%5d  ", epoch) + widths.map { String(format: "%-12.4f", similarity[$0]?[epoch] ?? .nan) }.joined(separator: " "))
}
for width in widths {
    let r = last[width]!
    print(String(format: "width %d after 200 steps: clean %.2f (kernel %.2f), own FGSM %.2f, own PGD %.2f, kernel FGSM %.2f, kernel PGD %.2f",
                 width, r.networkAccuracy, r.kernelAccuracy, r.ownFGSMAccuracy, r.ownPGDAccuracy,
                 r.kernelFGSMAccuracy, r.kernelPGDAccuracy))
}
