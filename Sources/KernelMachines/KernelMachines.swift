// # KernelMachines
//
// Kernels as values behind one protocol, ``KernelFunction``: Θ(X₁, X₂) as a Float64 matrix, its
// gradient with respect to the first argument's inputs (a vector-Jacobian product with a cotangent
// matrix), its diagonal, and products Θ(X₁, X₂)·W. The analytic (infinite-width) kernels, each
// matching neural-tangents' `kernel_fn`:
//
// - ``FullyConnectedReLUKernel``: NTK or NNGP of 1–5 hidden Dense → ReLU layers (the stax
//   recursion), with the paper's reference-notebook kernel as ``FullyConnectedReLUKernel/notebook``.
// - ``TwoLayerFrozenOutputKernel``: the NTK of the paper's Appendix C two-layer net (first layer
//   trained, ±1 output layer frozen).
// - ``ConvolutionalReLUKernel``: NTK or NNGP of 1–2 3×3 SAME Conv → ReLU layers with a flatten
//   readout, on NCHW images.
//
// The empirical kernel, in the same shape: ``EmpiricalNTKKernel`` (any network at fixed parameters;
// products by J(x)(J(X)ᵀW), never forming Θ(x, X)). Built on the protocol:
//
// - ``KernelRegression``: the t → ∞ predictor by Cholesky, and the gradient-flow predictor at any time
//   (``GradientFlowSolution``), both giving a ``KernelPredictor`` for a ``KernelTask``.
// - ``KernelAttackObjective``: a predictor and a ``KernelAttackLoss``, attacked by the network attacks'
//   own loop (`Attacks.pgd`, `Attacks.fgsm`, `RobustEvaluation.evaluate`).
// - ``EigenFeatures``: the predictor split over the Gram matrix's eigenvectors (the paper's Section 4),
//   each feature a predictor; its usefulness and robustness (``FeatureEvaluation``), the split of the
//   full predictor's input gradient (``FeatureGradientDecomposition``), top-k eigenspaces of two
//   kernels compared (``EigenspaceComparison``), robust-feature selection (``RobustFeatureSelection``)
//   and pictures (``FeatureCharts``, gradient images).
