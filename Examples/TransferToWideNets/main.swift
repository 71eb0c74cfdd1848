// The paper's Appendix C in small: centred two-layer ReLU nets (first layer trained, ±1 output frozen) of two
// widths trained by full-batch gradient descent on MNIST 3 (−1) vs 5 (+1), and after every step the cosine
// similarity between their loss input-gradients and those of the two-layer NTK's gradient-flow predictor at
// the same time. The wider net should stay closer to 1.
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
// A step of half the stability limit 2/λ_max(Θ), read off the kernel's spectrum.
let lambdaMax = try experiment(rate: 1).flow.eigenvalues[0]
let rate = 1 / lambdaMax
let study = try experiment(rate: rate)
print(String(format: "%@: 200 train / 50 probe images, λ_max(Θ) = %.4g, step η = %.3g, ε = 0.1", data.source, lambdaMax, rate))

var similarity: [Int: [Double?]] = [:]
var last: [Int: TransferEpoch] = [:]
let widths = [256, 8192]
for width in widths {
    let settings = TransferSettings(width: width, seed: 0, epochs: 10, learningRate: rate, epsilon: 0.1, pgdSteps: 10,
                                    pgdStepSize: 0.025)
    let records = try study.run(settings)
    similarity[width] = records.map(\.gradientSimilarity)
    last[width] = records.last
}
print("epoch  " + widths.map { String(format: "width %-6d", $0) }.joined(separator: " "))
for epoch in 1...10 {
    print(String(format: "%5d  ", epoch) + widths.map { String(format: "%-12.4f", similarity[$0]![epoch] ?? .nan) }.joined(separator: " "))
}
for width in widths {
    let r = last[width]!
    print(String(format: "width %d after 10 steps: clean %.2f (kernel %.2f), own FGSM %.2f, own PGD %.2f, kernel FGSM %.2f, kernel PGD %.2f",
                 width, r.networkAccuracy, r.kernelAccuracy, r.ownFGSMAccuracy, r.ownPGDAccuracy,
                 r.kernelFGSMAccuracy, r.kernelPGDAccuracy))
}
