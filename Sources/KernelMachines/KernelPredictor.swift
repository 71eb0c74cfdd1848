import Autodiff

/// A kernel predictor f(x) = Θ(x, X) A: a kernel, its training inputs X and dual weights A (`N × outputs`),
/// for a ``KernelTask``. ``KernelRegression`` makes them (A = Θ(X, X)⁻¹ Y, or the gradient-flow weights at
/// a time t); eigen-features and other linear read-outs are predictors with other weights.
///
/// The outputs and their input gradient go through one product operator built when the predictor is
/// made, so a kernel that can fold X and A into something cheaper (the empirical NTK) does it once;
/// other kernels compute Θ(x, X) on row blocks of x sized to the memory budget.
public struct KernelPredictor {
    /// The kernel Θ.
    public let kernel: KernelFunction
    /// The training inputs X, `[N, …]`.
    public let trainingInputs: Tensor
    /// The dual weights A, `N × outputs`.
    public let weights: Float64Matrix
    /// The task: the number of outputs and how outputs become classes.
    public let task: KernelTask
    /// The working-memory budget of predictions and their gradients, in bytes.
    public let memoryBudgetBytes: Int
    /// For a Cholesky fit, its smallest pivot (a lower bound on the conditioning); nil otherwise.
    public let smallestPivot: CholeskySolver.Pivot?
    let product: KernelProductOperator

    /// The predictor Θ(x, `trainingInputs`)·`weights` for `task`.
    /// - Throws: ``KernelPredictorError/weightsShape(expected:got:)`` when `weights` is not
    ///   `N × task.outputs`; ``KernelMachineError`` for training inputs of a bad layout or with non-finite
    ///   values, or non-finite weights; ``KernelPredictorError/exceedsMemoryBudget(neededBytes:budgetBytes:detail:)``.
    public init(kernel: KernelFunction, trainingInputs: Tensor, weights: Float64Matrix, task: KernelTask,
                memoryBudgetBytes: Int = 4 << 30) throws {
        try self.init(kernel: kernel, trainingInputs: trainingInputs, weights: weights, task: task,
                      memoryBudgetBytes: memoryBudgetBytes, smallestPivot: nil)
    }

    /// The predictor Θ(x, `trainingInputs`)·(`factors`·`coefficients`) for `task`: dual weights of rank r
    /// given as `N × r` factors and `r × outputs` coefficients. When r is below the number of outputs,
    /// outputs and input gradients multiply Θ(x, X) by the factors only — for the empirical NTK, r·C
    /// parameter-space vectors and JVPs per sample instead of C² (an eigen-feature has rank one).
    /// - Throws: ``KernelPredictorError/weightsShape(expected:got:)`` when the factors are not `N × r` or the
    ///   coefficients not `r × task.outputs`, and as ``init(kernel:trainingInputs:weights:task:memoryBudgetBytes:)``.
    public init(kernel: KernelFunction, trainingInputs: Tensor, factors: Float64Matrix, coefficients: Float64Matrix,
                task: KernelTask, memoryBudgetBytes: Int = 4 << 30) throws {
        try task.validate()
        try KernelInputs.checkBatch(trainingInputs, "X")
        let n = trainingInputs.shape[0]
        guard factors.rows == n, factors.columns >= 1 else {
            throw KernelPredictorError.weightsShape(expected: [n, max(factors.columns, 1)], got: [factors.rows, factors.columns])
        }
        guard coefficients.rows == factors.columns, coefficients.columns == task.outputs else {
            throw KernelPredictorError.weightsShape(expected: [factors.columns, task.outputs], got: [coefficients.rows, coefficients.columns])
        }
        try KernelInputs.checkMatrix(coefficients, "coefficients", rows: factors.columns, columns: task.outputs)
        let weights = try factors.multiplied(by: coefficients)
        guard factors.columns < task.outputs else {
            try self.init(kernel: kernel, trainingInputs: trainingInputs, weights: weights, task: task,
                          memoryBudgetBytes: memoryBudgetBytes, smallestPivot: nil)
            return
        }
        try self.init(kernel: kernel, trainingInputs: trainingInputs, weights: weights, task: task,
                      memoryBudgetBytes: memoryBudgetBytes, smallestPivot: nil) { x in
            FactoredKernelProduct(inner: try kernelProductOperator(kernel, x, weights: factors, memoryBudgetBytes: memoryBudgetBytes),
                                  coefficients: coefficients)
        }
    }

    init(kernel: KernelFunction, trainingInputs: Tensor, weights: Float64Matrix, task: KernelTask,
         memoryBudgetBytes: Int, smallestPivot: CholeskySolver.Pivot?,
         product makeProduct: ((Tensor) throws -> KernelProductOperator)? = nil) throws {
        try task.validate()
        try KernelInputs.checkBatch(trainingInputs, "X")
        let n = trainingInputs.shape[0]
        guard weights.rows == n, weights.columns == task.outputs else {
            throw KernelPredictorError.weightsShape(expected: [n, task.outputs], got: [weights.rows, weights.columns])
        }
        try KernelInputs.checkMatrix(weights, "weights", rows: n, columns: task.outputs)
        guard memoryBudgetBytes >= 1 else {
            throw KernelPredictorError.invalidSetting(name: "memory budget", value: Double(memoryBudgetBytes),
                                                      requirement: "at least 1 byte")
        }
        self.kernel = kernel
        self.trainingInputs = trainingInputs.detached
        self.weights = weights
        self.task = task
        self.memoryBudgetBytes = memoryBudgetBytes
        self.smallestPivot = smallestPivot
        product = try makeProduct?(self.trainingInputs)
            ?? kernelProductOperator(kernel, self.trainingInputs, weights: weights, memoryBudgetBytes: memoryBudgetBytes)
    }

    /// The outputs f(x) = Θ(x, X) A, `N₁ × outputs`, for a batch x with X's per-sample shape.
    /// - Throws: ``KernelMachineError/incompatibleShapes(first:second:)`` when x's per-sample shape is not
    ///   X's, and the kernel's errors.
    public func outputs(_ x: Tensor) throws -> Float64Matrix {
        try checkCompatible(x)
        return try product.apply(x)
    }

    /// The gradient of Σ_ik G_ik f_k(x_i) with respect to x, for a cotangent G of the outputs (`N₁ × outputs`).
    /// - Throws: as ``outputs(_:)``, and for a cotangent of the wrong shape.
    public func outputsInputGradient(_ x: Tensor, cotangent: Float64Matrix) throws -> Tensor {
        try checkCompatible(x)
        return try product.inputGradient(x, cotangent: cotangent)
    }

    /// The predicted class of every sample of x.
    public func predictions(_ x: Tensor) throws -> [Int32] { task.predictions(from: try outputs(x)) }

    /// The fraction of x's samples predicted as `labels`.
    /// - Throws: ``KernelPredictorError/labelCount(labels:samples:)`` when the counts differ, and as ``outputs(_:)``.
    public func accuracy(_ x: Tensor, labels: [Int32]) throws -> Double {
        guard labels.count == (x.shape.first ?? 0) else {
            throw KernelPredictorError.labelCount(labels: labels.count, samples: x.shape.first ?? 0)
        }
        guard !labels.isEmpty else { return 0 }
        let predicted = try predictions(x)
        return Double(zip(predicted, labels).filter { $0 == $1 }.count) / Double(labels.count)
    }

    /// Checks that x is a batch with X's per-sample shape and finite values.
    func checkCompatible(_ x: Tensor) throws { try KernelInputs.checkCompatible(x, with: trainingInputs) }
}
