/// What a kernel predictor is fitted to: two classes with ±1 targets and one output, or C classes with
/// one-hot targets and C outputs (the paper's multiclass predictor: one scalar kernel, Θ ⊗ I_C).
public enum KernelTask: Sendable, Equatable, CustomStringConvertible {
    /// Two classes: samples labelled `negative` get the target −1, those labelled `positive` +1, and
    /// the predictor has one output; it predicts `positive` where the output is > 0 (the paper's
    /// airplane (−1) vs automobile (+1) is `.binary(negative: 0, positive: 1)` on CIFAR-10 labels).
    case binary(negative: Int32, positive: Int32)
    /// Classes 0..<C with one-hot targets (1 at the label, 0 elsewhere) and C outputs; the prediction
    /// is the largest output.
    case multiclass(classes: Int)

    /// A binary task from a list of classes, the first mapped to −1.
    /// - Throws: ``KernelPredictorError/binaryTaskClassCount(_:)`` unless there are exactly two, and
    ///   ``KernelPredictorError/binaryTaskRepeatsClass(_:)`` when they are equal.
    public static func binary(classes: [Int32]) throws -> KernelTask {
        guard classes.count == 2 else { throw KernelPredictorError.binaryTaskClassCount(classes) }
        let task = KernelTask.binary(negative: classes[0], positive: classes[1])
        try task.validate()
        return task
    }

    /// The number of predictor outputs: 1 (binary) or C.
    public var outputs: Int {
        switch self {
        case .binary: return 1
        case .multiclass(let classes): return classes
        }
    }

    /// "binary 0 (−1) vs 1 (+1)" or "10-class".
    public var description: String {
        switch self {
        case .binary(let negative, let positive): return "binary \(negative) (−1) vs \(positive) (+1)"
        case .multiclass(let classes): return "\(classes)-class"
        }
    }

    /// The most classes a multiclass task may have (each is a column of targets and weights).
    public static let maximumClasses = 1 << 16

    /// Checks the task itself: two different classes, or 2…``maximumClasses`` classes.
    public func validate() throws {
        switch self {
        case .binary(let negative, let positive):
            guard negative != positive else { throw KernelPredictorError.binaryTaskRepeatsClass(negative) }
        case .multiclass(let classes):
            guard (2...Self.maximumClasses).contains(classes) else { throw KernelPredictorError.multiclassCount(classes) }
        }
    }

    /// The output index of `label` (0 for both binary classes), or nil when it is not a class of the task.
    func outputIndex(of label: Int32) -> Int? {
        switch self {
        case .binary(let negative, let positive): return label == negative || label == positive ? 0 : nil
        case .multiclass(let classes): return label >= 0 && Int(label) < classes ? Int(label) : nil
        }
    }

    /// Checks that every label is a class of the task.
    /// - Throws: ``KernelPredictorError/labelOutsideTask(index:label:task:)`` naming the first other label.
    public func checkLabels(_ labels: [Int32]) throws {
        try validate()
        if let i = labels.firstIndex(where: { outputIndex(of: $0) == nil }) {
            throw KernelPredictorError.labelOutsideTask(index: i, label: labels[i], task: description)
        }
    }

    /// The regression targets of `labels`: `N × 1` with ±1 (binary) or `N × C` one-hot rows.
    /// - Throws: as ``checkLabels(_:)``.
    public func targets(for labels: [Int32]) throws -> Float64Matrix {
        try checkLabels(labels)
        var y = Float64Matrix(rows: labels.count, columns: outputs)
        for (i, label) in labels.enumerated() {
            switch self {
            case .binary(_, let positive): y[i, 0] = label == positive ? 1 : -1
            case .multiclass: y[i, Int(label)] = 1
            }
        }
        return y
    }

    /// The class predicted from each row of `scores` (`N × outputs`): the sign for a binary task (> 0:
    /// the positive class), the first largest output otherwise.
    public func predictions(from scores: Float64Matrix) -> [Int32] {
        (0..<scores.rows).map { i in
            switch self {
            case .binary(let negative, let positive):
                return scores.columns > 0 && scores[i, 0] > 0 ? positive : negative
            case .multiclass:
                var best = 0
                for c in 0..<scores.columns where scores[i, c] > scores[i, best] { best = c }
                return Int32(truncatingIfNeeded: best)
            }
        }
    }
}
