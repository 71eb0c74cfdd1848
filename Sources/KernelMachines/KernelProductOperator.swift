import Autodiff

/// Θ(·, X)·W for fixed inputs X and weights W (`N₂ × k`): a predictor's outputs and their input
/// gradient at any batch x. Built once per predictor, so that a kernel which can fold X and W into
/// something cheaper (the empirical NTK folds them into k·C parameter-space vectors) does it once.
protocol KernelProductOperator {
    /// Θ(x, X)·W, `N₁ × k`.
    func apply(_ x: Tensor) throws -> Float64Matrix
    /// The gradient of Σ_ik G_ik (Θ(x, X)·W)_ik with respect to x, for a cotangent G (`N₁ × k`).
    func inputGradient(_ x: Tensor, cotangent: Float64Matrix) throws -> Tensor
}

/// A kernel that prepares its own ``KernelProductOperator`` for fixed X and W.
protocol PreparedProductKernel: KernelFunction {
    /// The operator Θ(·, `x2`)·`weights`, with `memoryBudgetBytes` for its working memory.
    func productOperator(_ x2: Tensor, weights: Float64Matrix, memoryBudgetBytes: Int) throws -> KernelProductOperator
}

/// The operator Θ(·, `inputs`)·`weights` of `kernel`: its own when it prepares one, blocked rows otherwise.
func kernelProductOperator(_ kernel: KernelFunction, _ inputs: Tensor, weights: Float64Matrix,
                           memoryBudgetBytes: Int) throws -> KernelProductOperator {
    if let prepared = kernel as? PreparedProductKernel {
        return try prepared.productOperator(inputs, weights: weights, memoryBudgetBytes: memoryBudgetBytes)
    }
    return BlockedKernelProduct(kernel: kernel, inputs: inputs, weights: weights, memoryBudgetBytes: memoryBudgetBytes)
}

/// The operator of any kernel through its ``KernelFunction/product(_:_:weights:)`` and
/// ``KernelFunction/productInputGradient(_:_:weights:cotangent:)``, on row blocks of x sized so that
/// the `rows × N₂` kernel block and its Float64 temporaries fit the memory budget.
struct BlockedKernelProduct: KernelProductOperator {
    let kernel: KernelFunction
    let inputs: Tensor
    let weights: Float64Matrix
    let memoryBudgetBytes: Int

    /// Rows of x per block: a kernel block, a cotangent block of the same size and the Float64 copies of
    /// the inputs (both arguments) per row, after X's own Float64 copy.
    func blockRows(features: Int) throws -> Int {
        let n2 = inputs.shape.first ?? 0
        let fixed = 8 * n2 * features
        let perRow = 8 * (2 * n2 + 2 * features + 2 * weights.columns)
        guard fixed + perRow <= memoryBudgetBytes else {
            throw KernelPredictorError.exceedsMemoryBudget(neededBytes: fixed + perRow, budgetBytes: memoryBudgetBytes,
                                                           detail: "one row of the kernel Θ(x, X) against \(n2) training inputs")
        }
        return max(1, (memoryBudgetBytes - fixed) / perRow)
    }

    func apply(_ x: Tensor) throws -> Float64Matrix {
        let n1 = x.shape.first ?? 0
        var out = Float64Matrix(rows: n1, columns: weights.columns)
        let features = x.shape.dropFirst().reduce(1, *)
        let block = try blockRows(features: features)
        guard block < n1 else { return try kernel.product(x, inputs, weights: weights) }
        for lo in stride(from: 0, to: n1, by: block) {
            let hi = min(lo + block, n1)
            let part = try kernel.product(try KernelInputs.samples(x, lo..<hi), inputs, weights: weights)
            out.values.replaceSubrange((lo * weights.columns)..<(hi * weights.columns), with: part.values)
        }
        return out
    }

    func inputGradient(_ x: Tensor, cotangent: Float64Matrix) throws -> Tensor {
        let n1 = x.shape.first ?? 0
        try KernelInputs.checkMatrix(cotangent, "cotangent", rows: n1, columns: weights.columns)
        let features = x.shape.dropFirst().reduce(1, *)
        let block = try blockRows(features: features)
        guard block < n1 else { return try kernel.productInputGradient(x, inputs, weights: weights, cotangent: cotangent) }
        var gradient = [Float]()
        gradient.reserveCapacity(x.count)
        for lo in stride(from: 0, to: n1, by: block) {
            let hi = min(lo + block, n1)
            let g = try Float64Matrix(rows: hi - lo, columns: cotangent.columns,
                                      values: Array(cotangent.values[(lo * cotangent.columns)..<(hi * cotangent.columns)]))
            gradient += try kernel.productInputGradient(try KernelInputs.samples(x, lo..<hi), inputs, weights: weights,
                                                        cotangent: g).scalars
        }
        return Tensor(shape: x.shape, scalars: gradient)
    }
}

/// Θ(·, X)·(F·B) for dual weights of rank r given as factors F (`N₂ × r`) and coefficients B
/// (`r × k`): the inner operator multiplies by F only, so a kernel that folds X and its weights into
/// per-column work (the empirical NTK: r·C parameter-space vectors and r·C JVPs per sample instead of
/// k·C) does r columns' work. An eigen-feature's weights (1/λ_j) v_j (v_jᵀY) have rank one.
struct FactoredKernelProduct: KernelProductOperator {
    /// Θ(·, X)·F.
    let inner: KernelProductOperator
    /// B, `r × k`.
    let coefficients: Float64Matrix

    func apply(_ x: Tensor) throws -> Float64Matrix {
        try inner.apply(x).multiplied(by: coefficients)
    }

    /// The cotangent of Θ(x, X)·F is G·Bᵀ.
    func inputGradient(_ x: Tensor, cotangent: Float64Matrix) throws -> Tensor {
        try KernelInputs.checkMatrix(cotangent, "cotangent", rows: x.shape.first ?? 0, columns: coefficients.columns)
        return try inner.inputGradient(x, cotangent: cotangent.multiplied(by: coefficients.transposed))
    }
}
