import Autodiff
import Datasets
import NN

/// Clean evaluation of a model over a data set in batches.
public enum Evaluation {
    /// Accuracy and mean `loss` (cross-entropy by default) of `model` on `data` (all of it, or its first
    /// `limit` images). Throws a `ShapeError` when the data does not fit the model.
    public static func evaluate(_ model: Module, on data: ImageDataset, limit: Int? = nil, loss: Loss = .crossEntropy,
                                batchSize: Int = 1000) throws -> (accuracy: Double, loss: Double) {
        let n = min(limit ?? data.count, data.count)
        guard n > 0 else { return (0, 0) }
        var correct = 0.0, lossSum = 0.0
        var start = 0
        while start < n {
            let end = min(start + batchSize, n)
            let (x, labels) = BatchAssembly.batch(data, indices: start..<end)
            let logits = try model(x)
            correct += accuracy(logits: logits, labels: labels) * Double(end - start)
            lossSum += Double(try loss(logits, labels: labels).scalar) * Double(end - start)
            start = end
        }
        return (correct / Double(n), lossSum / Double(n))
    }
}

/// Turns example indices into an input tensor [B, C, H, W] and labels.
public enum BatchAssembly {
    /// The images at `indices` of `data` as a [B, C, H, W] tensor, with their labels.
    public static func batch<Indices: Collection>(_ data: ImageDataset, indices: Indices) -> (inputs: Tensor, labels: [Int32]) where Indices.Element == Int {
        let b = indices.count
        let x = Tensor.uninitialized([b, data.channels, data.height, data.width])
        var labels = [Int32](repeating: 0, count: b)
        labels.withUnsafeMutableBufferPointer { lp in
            data.gather(indices: Array(indices), into: x.storage.pointer, labels: lp.baseAddress!)
        }
        return (x, labels)
    }
}
