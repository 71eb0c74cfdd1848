import Autodiff

/// A training objective as a value: a function of the model's outputs [N, C] and integer labels that
/// returns a scalar tensor. The training loop, attacks and robust evaluation all maximise or minimise
/// the same `Loss`, so a run trained with the squared loss is also attacked through it.
///
/// Built-in losses build their own targets from the labels (one-hot, ±1); a user's loss is any closure:
/// `Loss(name: "hinge") { outputs, labels in … }`.
public struct Loss: Sendable {
    /// A short name, recorded in run configurations.
    public let name: String
    private let body: @Sendable (Tensor, [Int32]) throws -> Tensor

    /// A loss computed by `body(outputs, labels)`.
    public init(name: String, _ body: @escaping @Sendable (_ outputs: Tensor, _ labels: [Int32]) throws -> Tensor) {
        self.name = name
        self.body = body
    }

    /// The loss of `outputs` ([N, C]) against `labels` (N values in 0..<C). Throws a `ShapeError` when
    /// they do not fit together.
    public func callAsFunction(_ outputs: Tensor, labels: [Int32]) throws -> Tensor {
        guard outputs.rank == 2, outputs.shape[0] == labels.count else {
            throw ShapeError(name, "needs outputs [N, C] for N labels", shapes: [outputs.shape, [labels.count]])
        }
        let value = try body(outputs, labels)
        guard value.count == 1 else { throw ShapeError(name, "the loss must be a single number", shapes: [value.shape]) }
        return value
    }

    /// Mean softmax cross-entropy (the paper's loss).
    public static let crossEntropy = Loss(name: "ce") { try softmaxCrossEntropy(logits: $0, labels: $1) }

    /// Mean squared error against one-hot targets (`plusMinusOne: true`: +1 for the label, −1 elsewhere,
    /// as in kernel regression; with one output, +1 for label 1 and −1 for label 0). PyTorch's `MSELoss`
    /// convention: the mean over all N·C elements.
    public static func meanSquared(plusMinusOne: Bool = false) -> Loss {
        Loss(name: plusMinusOne ? "mse-pm1" : "mse") { outputs, labels in
            try meanSquaredError(predictions: outputs, targets: try targets(labels, columns: outputs.shape[1],
                                                                              off: plusMinusOne ? -1 : 0, name: "mse"))
        }
    }

    /// Mean binary cross-entropy with logits against one-hot targets (each output an independent
    /// binary decision; with one output, the label itself, 0 or 1).
    public static let binaryCrossEntropy = Loss(name: "bce") { outputs, labels in
        try binaryCrossEntropyWithLogits(logits: outputs, targets: try targets(labels, columns: outputs.shape[1], off: 0, name: "bce"))
    }

    /// One-hot rows (1 at the label, `off` elsewhere); with one column, 1 for label 1 and `off` for label 0.
    static func targets(_ labels: [Int32], columns: Int, off: Float, name: String) throws -> Tensor {
        let classes = columns == 1 ? 2 : columns
        if let bad = labels.first(where: { $0 < 0 || Int($0) >= classes }) {
            throw ShapeError(name, "label \(bad) is outside 0..<\(classes)", shapes: [[labels.count, columns]])
        }
        var values = [Float](repeating: off, count: labels.count * columns)
        for (i, label) in labels.enumerated() {
            if columns == 1 { values[i] = label == 1 ? 1 : off } else { values[i * columns + Int(label)] = 1 }
        }
        return Tensor(shape: [labels.count, columns], scalars: values)
    }
}
