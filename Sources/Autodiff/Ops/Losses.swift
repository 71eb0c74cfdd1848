import Kernels

extension Primitive {
    /// Mean softmax cross-entropy against integer labels.
    public static let softmaxCrossEntropy = Primitive("softmaxCrossEntropy")
    /// Mean squared error.
    public static let meanSquaredError = Primitive("meanSquaredError")
}

/// Mean softmax cross-entropy of logits [N, C] against integer labels in 0..<C.
public func softmaxCrossEntropy(logits: Tensor, labels: [Int32]) throws -> Tensor {
    guard logits.rank == 2, logits.shape[0] == labels.count else {
        throw ShapeError("softmaxCrossEntropy", "needs logits [N, C] for N labels", shapes: [logits.shape, [labels.count]])
    }
    let n = logits.shape[0], c = logits.shape[1]
    guard n > 0 else { throw ShapeError("softmaxCrossEntropy", "needs at least one row", shapes: [logits.shape, [labels.count]]) }
    if let bad = labels.first(where: { $0 < 0 || Int($0) >= c }) {
        throw ShapeError("softmaxCrossEntropy", "label \(bad) is outside 0..<\(c)", shapes: [logits.shape, [labels.count]])
    }
    let probabilities = Tensor.uninitialized(logits.shape)
    let loss = logits.withUnsafePointer { pz in
        labels.withUnsafeBufferPointer { pl in
            softmaxCrossEntropy(pz, labels: pl.baseAddress!, rows: n, classes: c,
                                probabilities: probabilities.storage.pointer)
        }
    }
    // ∂loss/∂z = (softmax(z) − onehot(y)) / N
    var residual = probabilities
    residual.withUnsafeMutablePointer { p in
        let inv = 1 / Float(max(n, 1))
        for i in 0..<n {
            p[i * c + Int(labels[i])] -= 1
            for j in 0..<c { p[i * c + j] *= inv }
        }
    }
    return Tensor.record(Tensor(Float(loss)), primitive: .softmaxCrossEntropy, inputs: [logits],
                         pullback: { g, _ in [residual.scaled(by: g.scalar).detached] },
                         tangent: { t in
                             guard let t = t[0] else { return nil }
                             // d loss = ⟨t, (softmax(z) − onehot) / N⟩; when reverse mode differentiates
                             // this in z, the residual must be recomputed from differentiable ops.
                             let slope = logits.requiresGradient ? try softmaxResidual(logits.primal, labels: labels) : residual
                             return try (t * slope).sum() })
}

/// Mean squared error: the mean over all elements of (prediction − target)², e.g. against one-hot
/// targets. (PyTorch's `MSELoss` convention.)
public func meanSquaredError(predictions: Tensor, targets: Tensor) throws -> Tensor {
    try requireSameShape("meanSquaredError", predictions, targets)
    let count = Float(max(predictions.count, 1))
    let residual = zipElements(predictions.detached, targets.detached, -)
    var total = 0.0
    residual.withUnsafePointer { p in for i in 0..<residual.count { total += Double(p[i]) * Double(p[i]) } }
    let slope = residual.scaled(by: 2 / count).detached  // ∂loss/∂prediction
    return Tensor.record(Tensor(Float(total / Double(count))), primitive: .meanSquaredError, inputs: [predictions, targets],
                         pullback: { g, needs in
                             let s = slope.scaled(by: g.scalar).detached
                             return [needs[0] ? s : nil, needs[1] ? s.scaled(by: -1).detached : nil] },
                         tangent: { t in
                             // d loss = ⟨dp − dt, 2 (p − t) / count⟩, with the slope recomputed from
                             // differentiable ops when reverse mode must differentiate it.
                             let s = predictions.requiresGradient || targets.requiresGradient
                                 ? try (predictions.primal - targets.primal).scaled(by: 2 / count) : slope
                             return try sumTangents([t[0].map { try ($0 * s).sum() },
                                                     t[1].map { try ($0 * s).sum().scaled(by: -1) }]) })
}

/// (softmax(z) − onehot(labels)) / N for logits z [N, C], from differentiable ops (the row maximum,
/// subtracted for stability, is a constant: softmax does not depend on it).
func softmaxResidual(_ z: Tensor, labels: [Int32]) throws -> Tensor {
    let n = z.shape[0], c = z.shape[1]
    var rowMax = [Float](repeating: -.infinity, count: n)
    var onehot = [Float](repeating: 0, count: n * c)
    z.withUnsafePointer { p in
        for i in 0..<n {
            for j in 0..<c { rowMax[i] = max(rowMax[i], p[i * c + j]) }
            onehot[i * c + Int(labels[i])] = 1
        }
    }
    let e = try (z - Tensor(shape: [n, 1], scalars: rowMax)).exp()
    let probabilities = try e / e.sum(alongAxes: [1], keepingDimensions: true)
    return try (probabilities - Tensor(shape: [n, c], scalars: onehot)) / Float(max(n, 1))
}

/// Fraction of rows whose largest logit is at the label.
/// With a single output column (a binary model), the prediction is 1 where the output is positive.
public func accuracy(logits: Tensor, labels: [Int32]) -> Double {
    let predicted: [Int32] = logits.shape.count == 2 && logits.shape[1] == 1
        ? logits.scalars.map { $0 > 0 ? 1 : 0 }
        : logits.withUnsafePointer { argmaxRows($0, rows: logits.shape[0], columns: logits.shape[1]) }
    let correct = zip(predicted, labels).filter { $0 == $1 }.count
    return labels.isEmpty ? 0 : Double(correct) / Double(labels.count)
}
