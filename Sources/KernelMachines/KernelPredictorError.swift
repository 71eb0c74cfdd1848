import Foundation

/// Errors of kernel regression, gradient-flow predictors and attacks on kernel predictors, each
/// naming the offending argument and value.
public enum KernelPredictorError: Error, CustomStringConvertible, Equatable {
    /// Θ(X, X) (+ ridge) is not numerically positive definite: the Cholesky pivot at `index` (the
    /// training sample whose leading block fails) is `pivot`, at most `threshold`.
    case notPositiveDefinite(index: Int, pivot: Double, threshold: Double, ridge: Double)
    /// Θ(X, X) (+ ridge) has an eigenvalue below what rounding explains (`threshold` is negative).
    case notPositiveSemidefinite(eigenvalue: Double, threshold: Double, ridge: Double)
    /// The t → ∞ limit needs every eigenvalue of Θ(X, X) (+ ridge) above `threshold`.
    case singularAtInfiniteTime(eigenvalue: Double, threshold: Double, ridge: Double)
    /// A computation would need `neededBytes`, more than the memory budget; `detail` says what for.
    case exceedsMemoryBudget(neededBytes: Int, budgetBytes: Int, detail: String)
    /// A binary task was given a number of classes other than two.
    case binaryTaskClassCount([Int32])
    /// A binary task names the same class twice.
    case binaryTaskRepeatsClass(Int32)
    /// A multiclass task needs 2…`KernelTask.maximumClasses` classes.
    case multiclassCount(Int)
    /// Label `label` of sample `index` is not a class of the task.
    case labelOutsideTask(index: Int, label: Int32, task: String)
    /// `labels` labels were given for `samples` inputs.
    case labelCount(labels: Int, samples: Int)
    /// No training inputs.
    case emptyTrainingSet
    /// A numeric setting (ridge, learning rate, time, confidence) is out of its range.
    case invalidSetting(name: String, value: Double, requirement: String)
    /// The weights of a predictor do not fit its task or training inputs.
    case weightsShape(expected: [Int], got: [Int])
    /// An attack loss that does not apply to the predictor's task (`reason` says why).
    case lossDoesNotFitTask(loss: String, task: String, reason: String)
    /// A max-of-k or sum-of-k loss with k outside `allowed`.
    case competitorCount(loss: String, k: Int, allowed: ClosedRange<Int>)
    /// A LAPACK routine failed for a reason other than the matrix (`info` is its return code).
    case lapack(routine: String, info: Int)
    /// Something that needs every eigenpair of the N × N Gram matrix (`samples` = N) was asked of a
    /// decomposition that computed only the top `computed`.
    case incompleteDecomposition(computed: Int, samples: Int)

    /// A sentence naming the problem.
    public var description: String {
        switch self {
        case .notPositiveDefinite(let index, let pivot, let threshold, let ridge):
            return String(format: "the Gram matrix Θ(X, X)%@ is not positive definite: Cholesky pivot %d (training sample %d) is %.3e, at most the rounding threshold %.3e; add a ridge or remove duplicate training inputs",
                          ridge > 0 ? String(format: " + %g·I", ridge) : "", index, index, pivot, threshold)
        case .notPositiveSemidefinite(let eigenvalue, let threshold, let ridge):
            return String(format: "the Gram matrix Θ(X, X)%@ has the eigenvalue %.3e, below the rounding threshold %.3e: it is not a valid kernel matrix",
                          ridge > 0 ? String(format: " + %g·I", ridge) : "", eigenvalue, threshold)
        case .singularAtInfiniteTime(let eigenvalue, let threshold, let ridge):
            return String(format: "the t → ∞ predictor needs Θ(X, X)%@ to be invertible; its smallest eigenvalue %.3e is at most the rounding threshold %.3e; add a ridge or use a finite time",
                          ridge > 0 ? String(format: " + %g·I", ridge) : "", eigenvalue, threshold)
        case .exceedsMemoryBudget(let needed, let budget, let detail):
            return String(format: "%@ needs %.1f MB but the memory budget is %.1f MB; raise the budget or use fewer samples",
                          detail, Double(needed) / 1e6, Double(budget) / 1e6)
        case .binaryTaskClassCount(let classes):
            return "a binary task needs exactly two classes; got \(classes.count): \(classes)"
        case .binaryTaskRepeatsClass(let c):
            return "a binary task needs two different classes; got class \(c) twice"
        case .multiclassCount(let c):
            return "a multiclass task needs 2 to \(KernelTask.maximumClasses) classes; got \(c)"
        case .labelOutsideTask(let index, let label, let task):
            return "label \(label) of sample \(index) is not a class of the \(task) task"
        case .labelCount(let labels, let samples):
            return "\(labels) labels were given for \(samples) inputs"
        case .emptyTrainingSet:
            return "kernel regression needs at least one training input"
        case .invalidSetting(let name, let value, let requirement):
            return "the \(name) is \(value); it must be \(requirement)"
        case .weightsShape(let expected, let got):
            return "the predictor's weights are \(got[0])×\(got[1]); expected \(expected[0])×\(expected[1]) (training samples × outputs)"
        case .lossDoesNotFitTask(let loss, let task, let reason):
            return "the \(loss) loss does not fit the \(task) task: \(reason)"
        case .competitorCount(let loss, let k, let allowed):
            return "the \(loss) loss needs k in \(allowed.lowerBound)…\(allowed.upperBound); got \(k)"
        case .lapack(let routine, let info):
            return "\(routine) failed (info = \(info))"
        case .incompleteDecomposition(let computed, let samples):
            return "this needs every eigenpair of the \(samples)×\(samples) Gram matrix, but only the top \(computed) were computed; "
                + "decompose it completely (GramDecomposition.complete)"
        }
    }
}
