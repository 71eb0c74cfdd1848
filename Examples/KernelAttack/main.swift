// The paper's training-free attack (Section 3): kernel regression with the reference notebook's infinite-width
// one-hidden-layer ReLU NTK on CIFAR-10 airplane (−1) vs automobile (+1), 2,000 training / 100 test images, no
// ridge, then FGSM (ε = 8/255) and PGD (10 steps of 0.01 from δ = 0) through the kernel predictor. Prints the
// clean, FGSM and PGD test accuracies (the notebook recorded 0.81, 0.02, 0.02).
// usage: swift run -c release KernelAttack [CIFAR10]
//   CIFAR10: the CIFAR-10 binary folder or its .tar.gz (or set TANGENT_CIFAR10). Without it, the same attack
//   runs on MNIST 3 (−1) vs 5 (+1) from the embedded sample (ε = 0.1).
// Training images: the first 2,000 of the two classes (the notebook's); test images: the first 50 of each class
// (the reconstructed CIFAR-10 test file is grouped by class, so its first 100 would all be airplanes).
import Foundation
import Tangent

let arguments = Array(CommandLine.arguments.dropFirst())
let cifarPath = arguments.first ?? ProcessInfo.processInfo.environment["TANGENT_CIFAR10"]

let data: TrainingData, task: KernelTask, epsilon: Float, trainCount: Int
if let path = cifarPath {
    data = try TrainingData.load(.cifar10, directory: path)
    task = .binary(negative: 0, positive: 1)            // airplane (−1) vs automobile (+1)
    (epsilon, trainCount) = (8.0 / 255, 2000)
} else {
    print("no CIFAR-10 folder given (argument or TANGENT_CIFAR10): running on MNIST 3 (−1) vs 5 (+1) from the embedded sample")
    data = try TrainingData.load(.mnist, directory: nil)
    task = .binary(negative: 3, positive: 5)
    (epsilon, trainCount) = (0.1, 800)
}
let (trainX, trainY) = try task.samples(from: data.train, count: trainCount, selection: .first)
let (testX, testY) = try task.samples(from: data.test, count: 100, selection: .perClass)
print("data: \(data.source), \(trainY.count) train / \(testY.count) test images")

let predictor = try KernelRegression.fit(kernel: FullyConnectedReLUKernel.notebook, inputs: trainX, labels: trainY, task: task)
let objective = try KernelAttackObjective(predictor: predictor, loss: .binaryCrossEntropy)
let fgsm = try Attacks.fgsm(objective, inputs: testX, labels: testY, epsilon: epsilon)
var rng = Xoshiro256(seed: 0)
let pgd = try Attacks.pgd(objective, inputs: testX, labels: testY,
                          configuration: PGDConfiguration(epsilon: epsilon, stepSize: 0.01, steps: 10), rng: &rng)

print(String(format: "clean accuracy            %.2f", try predictor.accuracy(testX, labels: testY)))
print(String(format: "FGSM accuracy (ε %.4f)  %.2f", epsilon, try predictor.accuracy(fgsm, labels: testY)))
print(String(format: "PGD accuracy  (ε %.4f)  %.2f  (10 steps of 0.01, δ₀ = 0)", epsilon, try predictor.accuracy(pgd, labels: testY)))
