import Autodiff

/// The NTK eigen-features of a kernel machine (the paper's Section 4). With the eigen-decomposition
/// Θ(X, X) + λI = Σ_j λ_j v_j v_jᵀ (eigenvalues descending, λ the ridge, 0 in the paper), the predictor
/// f(x) = Θ(x, X) (Θ(X, X) + λI)⁻¹ Y splits into one feature per eigenvector,
///
///     f_j(x) = (1/λ_j) Θ(x, X) v_j (v_jᵀ Y),   Σ_j f_j = f.
///
/// Features are numbered from 1, as in the paper: feature 1 has the largest eigenvalue. Each feature
/// (or any set of them) is a ``KernelPredictor`` with the dual weights (1/λ_j) v_j (v_jᵀ Y), so it is
/// evaluated, attacked (``KernelAttackObjective``) and plotted like any predictor. At a finite time t of
/// gradient flow (``time``) the gain 1/λ_j becomes (1 − e^{−ηλ_j t})/λ_j and the features sum to f_t.
///
/// Built on ``GradientFlowSolution``: one eigen-decomposition serves every feature and time. When only
/// the top features are wanted, `decomposition: .top(K)` computes the K largest eigenpairs without a
/// full decomposition (block Krylov, see ``GramDecomposition``); features above K, and the full
/// predictor Σ_j f_j, are then refused with an error rather than approximated.
///
/// ```swift
/// let features = try EigenFeatures.decompose(kernel: FullyConnectedReLUKernel.notebook, inputs: x,
///                                            labels: y, task: .binary(negative: 0, positive: 1))
/// let top = try features.predictor(feature: 1)
/// let usefulness = try top.accuracy(xTest, labels: yTest)
/// ```
public struct EigenFeatures {
    /// The decomposition the features come from.
    public let solution: GradientFlowSolution
    /// The gradient-flow time t of the features (`.infinity`: the kernel-regression limit).
    public let time: Double

    /// The features of `solution` at time `time` (default: the t → ∞ kernel-regression predictor).
    /// - Throws: ``KernelPredictorError/invalidSetting(name:value:requirement:)`` for a negative or NaN time.
    public init(_ solution: GradientFlowSolution, time: Double = .infinity) throws {
        guard time >= 0 else {
            throw KernelPredictorError.invalidSetting(name: "time", value: time, requirement: "at least 0 (or infinity)")
        }
        self.solution = solution
        self.time = time
    }

    /// The t → ∞ features of kernel regression on (`inputs`, `labels`): one eigen-decomposition of
    /// Θ(X, X) + λI through ``KernelRegression/gradientFlow(kernel:inputs:labels:task:ridge:learningRate:decomposition:memoryBudgetBytes:)``,
    /// complete or of the top K eigenpairs only (`decomposition: .top(K)`: features 1…K).
    /// - Throws: as that function (bad inputs or labels, a Gram matrix that is not positive semidefinite,
    ///   K outside 1…N, the memory budget, a block Krylov search that does not converge).
    public static func decompose(kernel: KernelFunction, inputs: Tensor, labels: [Int32], task: KernelTask,
                                 ridge: Double = 0, decomposition: GramDecomposition = .complete,
                                 memoryBudgetBytes: Int = 4 << 30) throws -> EigenFeatures {
        try EigenFeatures(try KernelRegression.gradientFlow(kernel: kernel, inputs: inputs, labels: labels, task: task,
                                                             ridge: ridge, decomposition: decomposition,
                                                             memoryBudgetBytes: memoryBudgetBytes))
    }

    /// The number of features: one per training input.
    public var count: Int { solution.samples }
    /// The number of features whose eigenpair was computed: ``count`` after a complete decomposition,
    /// K after a top-K one. Features 1…computedCount can be used.
    public var computedCount: Int { solution.eigenvalues.count }
    /// Whether every feature's eigenpair was computed (and so the full predictor is available).
    public var isComplete: Bool { solution.isComplete }
    /// λ_1 ≥ λ_2 ≥ … of Θ(X, X) + λI, for the computed features; feature j has `eigenvalues[j - 1]`.
    public var eigenvalues: [Double] { solution.eigenvalues }
    /// The kernel Θ.
    public var kernel: KernelFunction { solution.kernel }
    /// The training inputs X.
    public var trainingInputs: Tensor { solution.trainingInputs }
    /// The task of the targets Y.
    public var task: KernelTask { solution.task }
    /// Every feature, 1…``count``.
    public var all: [Int] { Array(stride(from: 1, through: count, by: 1)) }
    /// The features whose eigenpair was computed, 1…``computedCount`` (``all`` after a complete decomposition).
    public var computed: [Int] { Array(stride(from: 1, through: computedCount, by: 1)) }

    /// The unit eigenvector v_j (N values; its sign is the solver's, and f_j does not depend on it).
    /// - Throws: ``EigenFeatureError/featureOutOfRange(feature:count:)``;
    ///   ``EigenFeatureError/featureNotComputed(feature:computed:count:)`` beyond a top-K decomposition.
    public func eigenvector(_ j: Int) throws -> [Double] {
        try checkIndex(j)
        let n = count
        return Array(solution.eigenvectors[((j - 1) * n)..<(j * n)])
    }

    /// v_jᵀ Y: the targets' coordinates along v_j (one per output).
    /// - Throws: ``EigenFeatureError/featureOutOfRange(feature:count:)``.
    public func projectedTargets(_ j: Int) throws -> [Double] {
        try checkIndex(j)
        return Array(solution.projectedTargets.row(j - 1))
    }

    /// The gain of feature j: 1/λ_j at t = ∞, (1 − e^{−ηλ_j t})/λ_j at a finite time.
    /// - Throws: ``EigenFeatureError/featureOutOfRange(feature:count:)``;
    ///   ``EigenFeatureError/nonPositiveEigenvalue(feature:eigenvalue:threshold:)`` at t = ∞ for an
    ///   eigenvalue within rounding of zero (or below), instead of dividing by it.
    public func gain(_ j: Int) throws -> Double {
        try checkIndex(j)
        let lambda = solution.eigenvalues[j - 1]
        if time == .infinity, lambda <= solution.threshold {
            throw EigenFeatureError.nonPositiveEigenvalue(feature: j, eigenvalue: lambda, threshold: solution.threshold)
        }
        return solution.gain(lambda, time: time)
    }

    /// The dual weights Σ_{j ∈ features} gain_j v_j (v_jᵀ Y), `N × outputs`: the predictor of the sum of
    /// the features is Θ(x, X) times these.
    /// - Throws: ``EigenFeatureError`` for an empty or repeated list, an index outside 1…N, or a feature
    ///   whose eigenvalue cannot be divided by.
    public func weights<Features: Sequence<Int>>(features: Features) throws -> Float64Matrix {
        let list = try checkedFeatures(features)
        let n = count, outputs = task.outputs
        var w = Float64Matrix(rows: n, columns: outputs)
        for j in list {
            let g = try gain(j)
            let v = solution.eigenvectors[((j - 1) * n)..<(j * n)]
            let coefficients = solution.projectedTargets.row(j - 1).map { $0 * g }
            for (i, vi) in zip(0..<n, v) {
                for c in 0..<outputs { w[i, c] += vi * coefficients[c] }
            }
        }
        return w
    }

    /// The predictor f_j of feature j alone.
    /// - Throws: as ``weights(features:)``.
    public func predictor(feature j: Int) throws -> KernelPredictor {
        try predictor(features: [j])
    }

    /// The predictor Σ_{j ∈ features} f_j of a set of features (a range such as `1...10`, or any list).
    ///
    /// Fewer features than outputs are kept as factors (gain_j v_j) and coefficients (v_jᵀY), so the
    /// predictor multiplies Θ(x, X) by one vector per feature (see
    /// ``KernelPredictor/init(kernel:trainingInputs:factors:coefficients:task:memoryBudgetBytes:)``).
    /// - Throws: as ``weights(features:)``.
    public func predictor<Features: Sequence<Int>>(features: Features) throws -> KernelPredictor {
        let list = try checkedFeatures(features)
        guard list.count < task.outputs else {
            return try KernelPredictor(kernel: kernel, trainingInputs: trainingInputs, weights: try weights(features: list),
                                       task: task, memoryBudgetBytes: solution.memoryBudgetBytes)
        }
        let n = count
        var factors = Float64Matrix(rows: n, columns: list.count)
        var coefficients = Float64Matrix(rows: list.count, columns: task.outputs)
        for (k, j) in list.enumerated() {
            let g = try gain(j)
            for i in 0..<n { factors[i, k] = g * solution.eigenvectors[(j - 1) * n + i] }
            for c in 0..<task.outputs { coefficients[k, c] = solution.projectedTargets[j - 1, c] }
        }
        return try KernelPredictor(kernel: kernel, trainingInputs: trainingInputs, factors: factors,
                                   coefficients: coefficients, task: task, memoryBudgetBytes: solution.memoryBudgetBytes)
    }

    /// The full predictor f = Σ_j f_j (at ``time``), straight from the decomposition.
    /// - Throws: as ``GradientFlowSolution/predictor(atTime:)`` (t = ∞ with an eigenvalue within
    ///   rounding of zero; ``KernelPredictorError/incompleteDecomposition(computed:samples:)`` after a
    ///   top-K decomposition).
    public func fullPredictor() throws -> KernelPredictor {
        try solution.predictor(atTime: time)
    }

    /// The outputs f_j(x) of every requested feature at a batch x, in the order of `features`: one
    /// `N₁ × outputs` matrix each. Θ(x, X) is applied once to all the eigenvectors together, so this is
    /// much cheaper than one predictor per feature.
    /// - Throws: as ``weights(features:)``; ``KernelMachineError/incompatibleShapes(first:second:)`` for
    ///   an x whose per-sample shape is not the training inputs'; the kernel's errors.
    public func outputs<Features: Sequence<Int>>(_ x: Tensor, features: Features) throws -> [Float64Matrix] {
        let list = try checkedFeatures(features)
        let gains = try list.map(gain)
        try KernelInputs.checkCompatible(x, with: trainingInputs)
        let n = count
        var vectors = Float64Matrix(rows: n, columns: list.count)
        for (k, j) in list.enumerated() {
            for i in 0..<n { vectors[i, k] = solution.eigenvectors[(j - 1) * n + i] }
        }
        let projections = try kernelProductOperator(kernel, trainingInputs, weights: vectors,
                                                    memoryBudgetBytes: solution.memoryBudgetBytes).apply(x)
        return list.enumerated().map { k, j in
            var out = Float64Matrix(rows: projections.rows, columns: task.outputs)
            for i in 0..<projections.rows {
                let p = projections[i, k] * gains[k]
                for c in 0..<task.outputs { out[i, c] = p * solution.projectedTargets[j - 1, c] }
            }
            return out
        }
    }

    func checkIndex(_ j: Int) throws {
        guard j >= 1, j <= count else {
            throw EigenFeatureError.featureOutOfRange(feature: j, count: count)
        }
        guard j <= computedCount else {
            throw EigenFeatureError.featureNotComputed(feature: j, computed: computedCount, count: count)
        }
    }

    /// The features as a list after checking that it is not empty, has no repeats and stays in 1…N
    /// (and among the computed ones).
    func checkedFeatures<Features: Sequence<Int>>(_ features: Features) throws -> [Int] {
        let list = Array(features)
        guard !list.isEmpty else { throw EigenFeatureError.noFeatures }
        var seen = Set<Int>()
        for j in list {
            try checkIndex(j)
            guard seen.insert(j).inserted else { throw EigenFeatureError.repeatedFeature(j) }
        }
        return list
    }
}
