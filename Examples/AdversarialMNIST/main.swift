// PGD adversarial training of the paper's MNIST CNN (PGD-20, ε = 0.3, step 0.01, start at δ = 0),
// printing clean and robust test accuracy every epoch, through the library API.
// usage: swift run -c release AdversarialMNIST [MNIST_DIR] [EPOCHS]   (no folder: the embedded sample)
import Tangent

let arguments = CommandLine.arguments.dropFirst()
let splits = try arguments.first.map { try MNISTLoader.load(directory: $0) } ?? MNISTLoader.embeddedSample()
let epochs = arguments.dropFirst().first.flatMap { Int($0) } ?? 2
let pgd = PGDConfiguration.paper(cifar: false)

var rng = Xoshiro256(seed: 0)
let model = PaperModels.mnistCNN(rng: &rng)
let sgd = try SGD(learningRate: 0.01)
var order = BatchOrder(count: splits.train.count, batchSize: 300, generator: Xoshiro256(seed: 1), shuffle: true)
var attackRNG = Xoshiro256(seed: 2)

for epoch in 1...epochs {
    while let indices = order.nextBatch() {
        let (x, y) = BatchAssembly.batch(splits.train, indices: indices)
        let adversarial = try Attacks.pgd(model, inputs: x, labels: y, configuration: pgd, rng: &attackRNG)
        let (_, grads) = try model.lossAndGradients { try softmaxCrossEntropy(logits: try model(adversarial), labels: y) }
        try sgd.update(model, gradients: grads)
    }
    order.startNextEpoch()
    var evalRNG = Xoshiro256(seed: 3)
    let report = try RobustEvaluation.evaluate(model, on: splits.test, limit: 1000, attack: .pgd(pgd), rng: &evalRNG)
    print("epoch \(epoch): clean \(report.cleanAccuracy), PGD-20 robust \(report.robustAccuracy)")
}
