import Autodiff

/// A kernel Θ(x, x') between inputs: the analytic (infinite-width) NTK or NNGP of an architecture, and,
/// in the same shape, the empirical NTK of a network at given parameters.
///
/// Inputs are batches `[N, …]` (sample-major tensors: flattened rows, or NCHW images for the
/// convolutional kernels); the kernel of two batches is the `N₁ × N₂` matrix Θ(X₁, X₂), computed with
/// Float64 accumulation. Kernels are scalar: the infinite-width kernel of a network with C outputs is
/// Θ ⊗ I_C, and an empirical kernel of a C-output network is expected to give the class mean
/// (1/C) Σ_c Θ[c, c] (neural-tangents' `trace_axes` convention), which tends to Θ as the width grows.
///
/// Everything built on kernels — regression, eigen-features, attacks — needs only the requirements
/// below. The gradient is a vector-Jacobian product with respect to the *first* argument's inputs:
/// for a predictor f(x) = Θ(x, X) α and a loss L(f), the input gradient is
/// `inputGradient(x, X, cotangent: (∂L/∂f) αᵀ)`, or directly
/// `productInputGradient(x, X, weights: α, cotangent: ∂L/∂f)`.
///
/// The product requirements have default implementations through ``matrix(_:_:)`` and
/// ``inputGradient(_:_:cotangent:)``; a kernel that can apply Θ without forming it (the empirical NTK:
/// Θ(x, X) α = J(x) (J(X)ᵀ α), one reverse pass over X and one JVP at x) overrides them.
public protocol KernelFunction: Sendable, CustomStringConvertible {
    /// Θ(X₁, X₂): `N₁ × N₂`, rows for the samples of `x1`, columns for those of `x2`.
    /// - Throws: ``KernelMachineError`` for inputs of the wrong layout, of different per-sample
    ///   shapes, or holding non-finite values.
    func matrix(_ x1: Tensor, _ x2: Tensor) throws -> Float64Matrix

    /// The gradient of Σ_ij G_ij Θ(X₁, X₂)_ij with respect to `x1` (shape of `x1`), for a cotangent G of
    /// shape `N₁ × N₂`. Computed in Float64, returned rounded to Float.
    /// - Throws: ``KernelMachineError`` as ``matrix(_:_:)``, and for a cotangent of the wrong shape or
    ///   with non-finite entries.
    func inputGradient(_ x1: Tensor, _ x2: Tensor, cotangent: Float64Matrix) throws -> Tensor

    /// Θ(x_i, x_i) for every sample of `x`.
    func diagonal(_ x: Tensor) throws -> [Double]

    /// Θ(X₁, X₂) · W for weights W of shape `N₂ × k` (e.g. the dual coefficients of kernel regression):
    /// the predictions, `N₁ × k`.
    func product(_ x1: Tensor, _ x2: Tensor, weights: Float64Matrix) throws -> Float64Matrix

    /// The gradient of Σ_ik G_ik (Θ(X₁, X₂) W)_ik with respect to `x1`, for weights W (`N₂ × k`) and a
    /// cotangent G of the predictions (`N₁ × k`).
    func productInputGradient(_ x1: Tensor, _ x2: Tensor, weights: Float64Matrix,
                              cotangent: Float64Matrix) throws -> Tensor
}

extension KernelFunction {
    /// Θ(x_i, x_i), one sample at a time through ``matrix(_:_:)``; kernels with a cheaper closed form
    /// override it.
    public func diagonal(_ x: Tensor) throws -> [Double] {
        try (0..<(x.shape.first ?? 0)).map { i in
            let row = try KernelInputs.samples(x, i..<(i + 1))
            return try matrix(row, row).values[0]
        }
    }

    /// Θ(X₁, X₂) · W, forming Θ(X₁, X₂) first.
    public func product(_ x1: Tensor, _ x2: Tensor, weights: Float64Matrix) throws -> Float64Matrix {
        let kernel = try matrix(x1, x2)
        try KernelInputs.checkMatrix(weights, "weights", rows: kernel.columns, columns: weights.columns)
        return try kernel.multiplied(by: weights)
    }

    /// The input gradient of Σ_ik G_ik (Θ(X₁, X₂) W)_ik as ``inputGradient(_:_:cotangent:)`` with the
    /// cotangent G Wᵀ.
    public func productInputGradient(_ x1: Tensor, _ x2: Tensor, weights: Float64Matrix,
                                     cotangent: Float64Matrix) throws -> Tensor {
        let n1 = x1.shape.first ?? 0, n2 = x2.shape.first ?? 0
        try KernelInputs.checkMatrix(weights, "weights", rows: n2, columns: weights.columns)
        try KernelInputs.checkMatrix(cotangent, "cotangent", rows: n1, columns: weights.columns)
        return try inputGradient(x1, x2, cotangent: cotangent.multiplied(by: weights.transposed))
    }
}

/// What an analytic kernel describes: the NTK (the kernel of gradient-descent training, all layers
/// trained) or the NNGP (the output covariance at initialisation, Bayesian inference with the last
/// layer alone).
public enum AnalyticKernelOutput: String, Sendable, Codable, CaseIterable {
    /// The neural tangent kernel.
    case ntk
    /// The neural-network Gaussian-process kernel.
    case nngp
}
