// Trains the paper's MNIST CNN through the library API (no CLI) and prints its test accuracy.
// usage: swift run -c release TrainMNIST [MNIST_DIR] [EPOCHS]   (no folder: the embedded sample)
import Tangent

let arguments = CommandLine.arguments.dropFirst()
let splits = try arguments.first.map { try MNISTLoader.load(directory: $0) } ?? MNISTLoader.embeddedSample()
let epochs = arguments.dropFirst().first.flatMap { Int($0) } ?? 2

var rng = Xoshiro256(seed: 0)
let model = PaperModels.mnistCNN(rng: &rng)
let sgd = try SGD(learningRate: 0.01)
var order = BatchOrder(count: splits.train.count, batchSize: 300, generator: Xoshiro256(seed: 1), shuffle: true)

for epoch in 1...epochs {
    while let indices = order.nextBatch() {
        let (x, y) = BatchAssembly.batch(splits.train, indices: indices)
        let (_, grads) = try model.lossAndGradients { try softmaxCrossEntropy(logits: try model(x), labels: y) }
        try sgd.update(model, gradients: grads)
    }
    order.startNextEpoch()
    let test = try Evaluation.evaluate(model, on: splits.test)
    print("epoch \(epoch): test accuracy \(test.accuracy), test loss \(test.loss)")
}
