import Autodiff
import Foundation
import Kernels

/// Gradient flow of a kernel machine in closed form, from one eigen-decomposition Θ(X, X) + λI = V Λ Vᵀ.
///
/// The flow dF/dt = −η (Θ + λI) (F − Y) on the training outputs, from F₀ = 0 (a centred network: its
/// initial output subtracted), gives the dual weights
///
///     A_t = V diag((1 − e^{−ηλ_k t}) / λ_k) Vᵀ Y,   f_t(x) = Θ(x, X) A_t,
///
/// so f_0 = 0 and f_t → Θ(x, X)(Θ + λI)⁻¹ Y as t → ∞. Time is in the units of the loss ½‖F − Y‖²
/// summed over samples and outputs: a network trained by full-batch gradient descent with step η on
/// that loss is at t = its number of steps. For a loss averaged over the N·outputs entries (as
/// neural-tangents' `predict.gradient_descent_mse`), the same flow is at t/(N·outputs). Eigenvalues
/// below zero by no more than rounding (n·ε·λ_max) are treated as zero.
///
/// A solution may hold only the largest eigenpairs (``GramDecomposition/top(_:settings:)``): then
/// ``isComplete`` is false and everything that needs the whole spectrum — the flow's weights, predictor
/// and training outputs — throws ``KernelPredictorError/incompleteDecomposition(computed:samples:)``.
public struct GradientFlowSolution {
    /// Θ.
    public let kernel: KernelFunction
    /// The training inputs X.
    public let trainingInputs: Tensor
    /// The task of the targets.
    public let task: KernelTask
    /// λ, added to the diagonal of Θ(X, X).
    public let ridge: Double
    /// η.
    public let learningRate: Double
    /// The memory budget handed to the predictors.
    public let memoryBudgetBytes: Int
    /// The eigenvalues of Θ(X, X) + λI that were computed, largest first: all N of them, or the top K.
    public let eigenvalues: [Double]
    /// Row k: the unit eigenvector of `eigenvalues[k]` (K × N, row-major).
    let eigenvectors: [Double]
    /// Vᵀ Y, K × outputs.
    let projectedTargets: Float64Matrix
    /// n·ε·λ_max: eigenvalues within it of zero are rounding.
    let threshold: Double
    /// How the eigenpairs were computed.
    public let decomposition: GramDecomposition
    /// For a block Krylov decomposition, its residuals ‖(Θ + λI)v − λ_k v‖, cycles and products; nil
    /// for LAPACK's complete decomposition.
    public let blockKrylovReport: BlockKrylovReport?

    init(kernel: KernelFunction, inputs: Tensor, targets: Float64Matrix, task: KernelTask, ridge: Double,
         learningRate: Double, decomposition: GramDecomposition, memoryBudgetBytes: Int) throws {
        let n = targets.rows
        let eigen: SymmetricEigen.Decomposition<Double>
        do {
            var gram = try kernel.matrix(inputs, inputs)
            for k in 0..<n { gram[k, k] += ridge }
            switch decomposition {
            case .complete:
                eigen = try SymmetricEigen.decompose(gram.values, dimension: n)
                blockKrylovReport = nil
            case .top(let k, let settings):
                let found = try SymmetricEigen.blockKrylov(largest: k, of: gram.values, dimension: n, settings: settings)
                eigen = found.decomposition
                blockKrylovReport = found.report
            }
        }
        threshold = Double(n) * Double.ulpOfOne * max(eigen.values.first ?? 0, 0)
        if let smallest = eigen.values.last, smallest < -threshold {
            throw KernelPredictorError.notPositiveSemidefinite(eigenvalue: smallest, threshold: -threshold, ridge: ridge)
        }
        let vectors = try Float64Matrix(rows: eigen.count, columns: n, values: eigen.vectors)
        projectedTargets = try vectors.multiplied(by: targets)
        self.kernel = kernel
        trainingInputs = inputs.detached
        self.task = task
        self.ridge = ridge
        self.learningRate = learningRate
        self.memoryBudgetBytes = memoryBudgetBytes
        self.decomposition = decomposition
        eigenvalues = eigen.values
        eigenvectors = eigen.vectors
    }

    /// N, the number of training inputs (and of eigenpairs of the Gram matrix).
    public var samples: Int { trainingInputs.shape.first ?? 0 }

    /// Whether every eigenpair was computed (a top-K decomposition with K = N counts as complete).
    public var isComplete: Bool { eigenvalues.count == samples }

    /// Refuses what needs the whole spectrum when only the top eigenpairs were computed.
    func requireComplete() throws {
        guard isComplete else {
            throw KernelPredictorError.incompleteDecomposition(computed: eigenvalues.count, samples: samples)
        }
    }

    /// The dual weights A_t (`N × outputs`) at time t ≥ 0 (`.infinity`: the t → ∞ limit).
    /// - Throws: ``KernelPredictorError/invalidSetting(name:value:requirement:)`` for a negative or NaN
    ///   time; ``KernelPredictorError/singularAtInfiniteTime(eigenvalue:threshold:ridge:)`` for t = ∞ when
    ///   an eigenvalue is within rounding of zero; ``KernelPredictorError/incompleteDecomposition(computed:samples:)``
    ///   when only the top eigenpairs were computed.
    public func weights(atTime t: Double) throws -> Float64Matrix {
        guard t >= 0 else {
            throw KernelPredictorError.invalidSetting(name: "time", value: t, requirement: "at least 0 (or infinity)")
        }
        try requireComplete()
        if t == .infinity, let smallest = eigenvalues.last, smallest <= threshold {
            throw KernelPredictorError.singularAtInfiniteTime(eigenvalue: smallest, threshold: threshold, ridge: ridge)
        }
        let gains = eigenvalues.map { gain($0, time: t) }
        return try fromEigenbasis(scaling: gains)
    }

    /// The predictor f_t = Θ(·, X) A_t.
    /// - Throws: as ``weights(atTime:)``.
    public func predictor(atTime t: Double) throws -> KernelPredictor {
        try KernelPredictor(kernel: kernel, trainingInputs: trainingInputs, weights: try weights(atTime: t), task: task,
                            memoryBudgetBytes: memoryBudgetBytes)
    }

    /// The training outputs F_t = V diag(1 − e^{−ηλ_k t}) Vᵀ Y (`N × outputs`; Y at t = ∞), e.g. for the
    /// training loss along the flow.
    /// - Throws: for a negative or NaN time; ``KernelPredictorError/incompleteDecomposition(computed:samples:)``
    ///   when only the top eigenpairs were computed.
    public func trainingOutputs(atTime t: Double) throws -> Float64Matrix {
        guard t >= 0 else {
            throw KernelPredictorError.invalidSetting(name: "time", value: t, requirement: "at least 0 (or infinity)")
        }
        try requireComplete()
        return try fromEigenbasis(scaling: eigenvalues.map { λ in
            t == .infinity ? 1 : -expm1(-learningRate * max(λ, 0) * t)
        })
    }

    /// (1 − e^{−ηλt})/λ, its limit ηt at λ = 0, and 1/λ at t = ∞.
    func gain(_ lambda: Double, time t: Double) -> Double {
        if t == .infinity { return 1 / lambda }
        let λ = max(lambda, 0), x = learningRate * λ * t
        // expm1 keeps the small-x case exact; below 1e-12 the ratio is ηt to double precision.
        return x < 1e-12 ? learningRate * t * (1 - x / 2) : -expm1(-x) / λ
    }

    /// V diag(s) Vᵀ Y, as ((diag(s) VᵀY)ᵀ V)ᵀ so that every product is a plain row-major GEMM.
    func fromEigenbasis(scaling s: [Double]) throws -> Float64Matrix {
        var scaled = projectedTargets
        for k in 0..<scaled.rows {
            for j in 0..<scaled.columns { scaled[k, j] *= s[k] }
        }
        let vectors = try Float64Matrix(rows: eigenvalues.count, columns: samples, values: eigenvectors)
        return try scaled.transposed.multiplied(by: vectors).transposed
    }
}
