import Autodiff
import Kernels

/// Kernel regression: the predictor a network in the kernel regime converges to under gradient flow on
/// the squared loss from a zero (centred) output, f(x) = Θ(x, X) (Θ(X, X) + λI)⁻¹ Y, solved by Cholesky
/// in Float64 — and, through ``gradientFlow(kernel:inputs:labels:task:ridge:learningRate:decomposition:memoryBudgetBytes:)``,
/// the same flow stopped at a finite time.
///
/// Y holds ±1 (binary task) or one-hot (multiclass task) targets; λ (the ridge, default 0) is added to
/// the Gram matrix. Memory is checked before anything is computed: the Gram matrix alone is 8N² bytes.
public enum KernelRegression {
    /// The t → ∞ predictor Θ(x, X) (Θ(X, X) + λI)⁻¹ Y by Cholesky (Float64, LAPACK `dpotrf`/`dpotrs`).
    /// - Parameters:
    ///   - kernel: Θ.
    ///   - inputs: the training inputs X, `[N, …]`.
    ///   - labels: N labels, classes of `task`.
    ///   - task: binary (±1 targets, one output) or multiclass (one-hot targets).
    ///   - ridge: λ ≥ 0, added to the diagonal of Θ(X, X).
    ///   - memoryBudgetBytes: the most memory the fit (and later the predictor) may use.
    /// - Throws: ``KernelPredictorError/notPositiveDefinite(index:pivot:threshold:ridge:)`` naming the
    ///   failing pivot; ``KernelPredictorError/exceedsMemoryBudget(neededBytes:budgetBytes:detail:)``
    ///   before any work; errors for labels that are not classes of the task, a label count other than
    ///   N, an empty training set, a negative ridge; the kernel's errors.
    public static func fit(kernel: KernelFunction, inputs: Tensor, labels: [Int32], task: KernelTask,
                           ridge: Double = 0, memoryBudgetBytes: Int = 4 << 30) throws -> KernelPredictor {
        let targets = try checkedTargets(inputs: inputs, labels: labels, task: task, ridge: ridge)
        let n = labels.count
        try checkBudget(requiredBytes(samples: n, features: featureCount(inputs), outputs: task.outputs, method: .cholesky),
                        memoryBudgetBytes, "kernel regression on \(n) training inputs (Gram matrix and Cholesky factor)")
        var gram = try kernel.matrix(inputs, inputs)
        let (weights, pivot) = try CholeskySolver.solve(values: &gram.values, dimension: n, targets, ridge: ridge)
        return try KernelPredictor(kernel: kernel, trainingInputs: inputs, weights: weights, task: task,
                                   memoryBudgetBytes: memoryBudgetBytes, smallestPivot: pivot)
    }

    /// Gradient flow on ½‖f(X) − Y‖² in function space from f₀ = 0 with learning rate η, through one
    /// eigen-decomposition of Θ(X, X) + λI; ``GradientFlowSolution/predictor(atTime:)`` gives
    /// f_t(x) = Θ(x, X) (Θ + λI)⁻¹ (I − e^{−η(Θ + λI)t}) Y for any t ≥ 0 (t = ∞: the fit above).
    ///
    /// With `decomposition: .top(K)` only the K largest eigenpairs are computed (block Krylov): enough
    /// for eigen-features 1…K, not for the flow's predictor, which then throws
    /// ``KernelPredictorError/incompleteDecomposition(computed:samples:)``, and only the computed
    /// eigenvalues are checked for positivity.
    /// - Throws: ``KernelPredictorError/notPositiveSemidefinite(eigenvalue:threshold:ridge:)`` for a Gram
    ///   matrix with an eigenvalue below what rounding explains; a learning rate that is not finite and
    ///   positive; ``KernelPredictorError/invalidSetting(name:value:requirement:)`` for K outside 1…N;
    ///   `SymmetricEigenError` from the block Krylov solver (bad settings, no convergence); otherwise as
    ///   ``fit(kernel:inputs:labels:task:ridge:memoryBudgetBytes:)``.
    public static func gradientFlow(kernel: KernelFunction, inputs: Tensor, labels: [Int32], task: KernelTask,
                                    ridge: Double = 0, learningRate: Double = 1, decomposition: GramDecomposition = .complete,
                                    memoryBudgetBytes: Int = 4 << 30) throws -> GradientFlowSolution {
        let targets = try checkedTargets(inputs: inputs, labels: labels, task: task, ridge: ridge)
        guard learningRate.isFinite, learningRate > 0 else {
            throw KernelPredictorError.invalidSetting(name: "learning rate", value: learningRate, requirement: "finite and positive")
        }
        let n = labels.count
        if case .top(let k, _) = decomposition, !(1...n).contains(k) {
            throw KernelPredictorError.invalidSetting(name: "number of eigenpairs", value: Double(k),
                                                      requirement: "in 1…\(n) (one per training input)")
        }
        try checkBudget(requiredBytes(samples: n, features: featureCount(inputs), outputs: task.outputs, method: Method(decomposition)),
                        memoryBudgetBytes, "the gradient-flow predictor on \(n) training inputs (Gram matrix and its eigen-decomposition)")
        return try GradientFlowSolution(kernel: kernel, inputs: inputs, targets: targets, task: task, ridge: ridge,
                                        learningRate: learningRate, decomposition: decomposition,
                                        memoryBudgetBytes: memoryBudgetBytes)
    }

    /// How the Gram system is solved, for ``requiredBytes(samples:features:outputs:method:)``.
    public enum Method: Sendable, Equatable {
        /// Cholesky in place: the Gram matrix is the only N × N buffer.
        case cholesky
        /// A full symmetric eigen-decomposition: the Gram matrix, LAPACK's copy and its 2N² workspace.
        case eigendecomposition
        /// The `count` largest eigenpairs by block Krylov iteration: the Gram matrix and the solver's
        /// basis (`BlockKrylovSettings.workingBytes(count:dimension:)`).
        case topEigenpairs(count: Int, settings: BlockKrylovSettings)

        /// The method of a gradient-flow solution decomposed as `decomposition`.
        public init(_ decomposition: GramDecomposition) {
            switch decomposition {
            case .complete: self = .eigendecomposition
            case .top(let k, let settings): self = .topEigenpairs(count: k, settings: settings)
            }
        }
    }

    /// The memory a fit needs at least: its N × N buffers in Float64 (one for Cholesky and for the top
    /// eigenpairs, four at the peak of the full eigen-decomposition), the block Krylov solver's basis, the
    /// Float64 copies of the training inputs a kernel makes for Θ(X, X), and the targets and weights.
    public static func requiredBytes(samples n: Int, features: Int, outputs: Int, method: Method) -> Int {
        // Saturating arithmetic: a request too large to count is as refused as one that merely does not fit.
        func times(_ a: Int, _ b: Int) -> Int {
            let (p, overflow) = a.multipliedReportingOverflow(by: b)
            return overflow ? Int.max : p
        }
        func plus(_ a: Int, _ b: Int) -> Int {
            let (s, overflow) = a.addingReportingOverflow(b)
            return overflow ? Int.max : s
        }
        let n = max(n, 0), features = max(features, 0), outputs = max(outputs, 0)
        let buffers: Int
        switch method {
        case .cholesky: buffers = times(times(n, n), 8)
        case .eigendecomposition: buffers = times(times(n, n), 8 * 4)
        case .topEigenpairs(let count, let settings):
            buffers = plus(times(times(n, n), 8), settings.workingBytes(count: min(max(count, 1), max(n, 1)), dimension: n))
        }
        let rest = times(plus(times(times(2, n), features), times(times(3, n), outputs)), 8)
        return plus(buffers, rest)
    }

    /// The targets of `labels` after checking the inputs, the label count and the ridge.
    static func checkedTargets(inputs: Tensor, labels: [Int32], task: KernelTask, ridge: Double) throws -> Float64Matrix {
        try KernelInputs.checkBatch(inputs, "X")
        let n = inputs.shape[0]
        guard n > 0 else { throw KernelPredictorError.emptyTrainingSet }
        guard labels.count == n else { throw KernelPredictorError.labelCount(labels: labels.count, samples: n) }
        guard ridge.isFinite, ridge >= 0 else {
            throw KernelPredictorError.invalidSetting(name: "ridge", value: ridge, requirement: "finite and not negative")
        }
        return try task.targets(for: labels)
    }

    static func featureCount(_ x: Tensor) -> Int { x.shape.dropFirst().reduce(1, *) }

    static func checkBudget(_ needed: Int, _ budget: Int, _ what: String) throws {
        guard needed <= budget else {
            throw KernelPredictorError.exceedsMemoryBudget(neededBytes: needed, budgetBytes: budget, detail: what)
        }
    }
}
