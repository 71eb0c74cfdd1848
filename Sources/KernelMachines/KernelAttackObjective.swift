import Autodiff
import Robustness

/// A kernel predictor attacked through a ``KernelAttackLoss``: what the network attacks climb, so FGSM,
/// PGD-ℓ∞ and ℓ2 (random start, clipping) and robust evaluation run on kernel predictors unchanged:
///
/// ```swift
/// let objective = try KernelAttackObjective(predictor: predictor, loss: .binaryCrossEntropy)
/// let adversarial = try Attacks.pgd(objective, inputs: x, labels: y, configuration: config, rng: &rng)
/// let report = try RobustEvaluation.evaluate(objective, images: x, labels: y, attack: .fgsm(epsilon: 8.0 / 255), rng: &rng)
/// ```
///
/// The loss is the mean over the batch; its input gradient flows through Θ(x, X) (the kernel's
/// product gradient with the loss's output cotangent). Label-free losses fix their reference (the
/// clean prediction and its runner-ups) when anchored at the clean batch; un-anchored, they take it
/// from the point where they are evaluated.
public struct KernelAttackObjective: AttackObjective {
    /// The attacked predictor.
    public let predictor: KernelPredictor
    /// The loss of its outputs.
    public let loss: KernelAttackLoss
    /// The clean references of a label-free loss, one per sample, once anchored.
    let anchor: [Reference]?

    /// What a sample's loss is measured against: an output index (the label's, or the clean prediction),
    /// the matching ±1 of a binary task, and the clean runner-ups of a label-free loss.
    struct Reference {
        let output: Int
        let sign: Double
        let competitors: [Int]
    }

    /// `predictor` attacked through `loss`.
    /// - Throws: as ``KernelAttackLoss/check(for:)`` when the loss does not apply to the predictor's task
    ///   (binary cross-entropy on a multiclass predictor, softmax cross-entropy on a ±1 one, k out of range).
    public init(predictor: KernelPredictor, loss: KernelAttackLoss) throws {
        try loss.check(for: predictor.task)
        self.init(predictor: predictor, loss: loss, anchor: nil)
    }

    init(predictor: KernelPredictor, loss: KernelAttackLoss, anchor: [Reference]?) {
        self.predictor = predictor
        self.loss = loss
        self.anchor = anchor
    }

    /// The mean loss at x against `labels` (ignored by label-free losses beyond their count), in Float64.
    /// - Throws: ``KernelMachineError/incompatibleShapes(first:second:)`` for x unlike the training inputs,
    ///   label errors, and the kernel's errors.
    public func loss(at x: Tensor, labels: [Int32]) throws -> Double {
        try evaluate(at: x, labels: labels, outputs: try predictor.outputs(x)).loss
    }

    /// The mean loss at x and its gradient with respect to x.
    public func lossAndInputGradient(at x: Tensor, labels: [Int32]) throws -> (loss: Float, gradient: Tensor) {
        let (value, cotangent) = try evaluate(at: x, labels: labels, outputs: try predictor.outputs(x))
        return (Float(value), try predictor.outputsInputGradient(x, cotangent: cotangent))
    }

    /// The mean loss at x and the predictor's accuracy on `labels`.
    public func lossAndAccuracy(at x: Tensor, labels: [Int32]) throws -> (loss: Float, accuracy: Double) {
        let outputs = try predictor.outputs(x)
        let value = try evaluate(at: x, labels: labels, outputs: outputs).loss
        let predicted = predictor.task.predictions(from: outputs)
        let correct = zip(predicted, labels).filter { $0 == $1 }.count
        return (Float(value), labels.isEmpty ? 0 : Double(correct) / Double(labels.count))
    }

    /// For a label-free loss, the objective with its references fixed at the clean batch; otherwise itself.
    public func anchored(at clean: Tensor, labels: [Int32]) throws -> AttackObjective {
        guard !loss.usesTestLabels else { return self }
        try checkCount(clean, labels)
        return KernelAttackObjective(predictor: predictor, loss: loss,
                                     anchor: references(cleanOutputs: try predictor.outputs(clean)))
    }

    /// The mean loss and its cotangent with respect to the outputs (`N × outputs`, already divided by N).
    func evaluate(at x: Tensor, labels: [Int32], outputs: Float64Matrix) throws -> (loss: Double, cotangent: Float64Matrix) {
        try checkCount(x, labels)
        let n = outputs.rows, o = outputs.columns
        let refs: [Reference]
        if loss.usesTestLabels {
            refs = try labelReferences(labels)
        } else if let anchor {
            guard anchor.count == n else { throw KernelPredictorError.labelCount(labels: anchor.count, samples: n) }
            refs = anchor
        } else {
            refs = references(cleanOutputs: outputs)
        }
        var cotangent = Float64Matrix(rows: n, columns: o)
        var gradient = [Double](repeating: 0, count: o)
        var total = 0.0
        let scale = 1 / Double(max(n, 1))
        for i in 0..<n {
            let r = refs[i]
            total += try loss.value(outputs.row(i), reference: r.output, sign: r.sign, competitors: r.competitors,
                                    gradient: &gradient)
            for c in 0..<o { cotangent[i, c] = gradient[c] * scale }
        }
        return (total * scale, cotangent)
    }

    /// References from the labels: the label's output and, for a binary task, its ±1 target.
    func labelReferences(_ labels: [Int32]) throws -> [Reference] {
        let task = predictor.task
        try task.checkLabels(labels)
        return labels.map { label in
            switch task {
            case .binary(_, let positive): return Reference(output: 0, sign: label == positive ? 1 : -1, competitors: [])
            case .multiclass: return Reference(output: Int(label), sign: 1, competitors: [])
            }
        }
    }

    /// Label-free references: the predicted output of each row and the k outputs ranked just below it.
    func references(cleanOutputs s: Float64Matrix) -> [Reference] {
        let predicted = predictor.task.predictions(from: s)
        let k = loss.competitorCount(outputs: s.columns)
        return (0..<s.rows).map { i in
            guard s.columns > 1 else { return Reference(output: 0, sign: s[i, 0] > 0 ? 1 : -1, competitors: []) }
            let top = Int(predicted[i])
            let others = (0..<s.columns).filter { $0 != top }
                .sorted { s[i, $0] > s[i, $1] || (s[i, $0] == s[i, $1] && $0 < $1) }
            return Reference(output: top, sign: 1, competitors: Array(others.prefix(k)))
        }
    }

    private func checkCount(_ x: Tensor, _ labels: [Int32]) throws {
        let n = x.shape.first ?? 0
        guard labels.count == n else { throw KernelPredictorError.labelCount(labels: labels.count, samples: n) }
    }
}
