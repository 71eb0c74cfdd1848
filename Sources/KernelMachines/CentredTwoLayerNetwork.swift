import Autodiff
import Kernels
import NN

/// The paper's Appendix C network with its initial output subtracted:
///
///     f(x) = (1/√m) Σ_r a_r [relu((w⁰_r + Δ_r)·x) − relu(w⁰_r·x)],
///
/// first layer w_r = w⁰_r + Δ_r with w⁰_r ~ N(0, I) and Δ = 0 at initialisation, output signs a_r = ±1
/// frozen, so f ≡ 0 at initialisation and, as the width m grows, gradient descent on the squared loss
/// follows the kernel gradient flow of ``TwoLayerFrozenOutputKernel`` from a zero output
/// (``GradientFlowSolution``). The only trainable parameter is the change Δ (`hiddenChange.weight`; its
/// gradient and updates are those of w); the optimiser, the NTK engine and checkpoints see w⁰ and a as
/// frozen. With Δ apart, the input gradient of f is formed from small terms rather than as the difference
/// of two sums of m terms of size √d (on MNIST at width 16,384 both forms agreed to the printed 4 digits).
/// Input `[N, features…]` (flattened), output `[N, outputs]`.
public final class CentredTwoLayerNetwork: Module {
    /// The first layer at initialisation w⁰, `[m, d]`, frozen.
    public let initialHidden: Dense
    /// The trained change Δ = w − w⁰ of the first layer, `[m, d]`, zero at initialisation.
    public let hiddenChange: Dense
    /// The ±1 output signs a, `[outputs, m]`, frozen.
    public let output: Dense
    /// m.
    public let width: Int

    /// A network of `width` hidden units on `inputs` features with `outputs` outputs, drawn from `rng`
    /// as `PaperModels.twoLayer(inputs:width:outputs:rng:)` draws its layers.
    /// - Throws: ``KernelPredictorError/invalidSetting(name:value:requirement:)`` for a size below 1.
    public init(inputs: Int, width: Int, outputs: Int, rng: inout Xoshiro256) throws {
        for (name, value) in [("inputs", inputs), ("width", width), ("outputs", outputs)] where value < 1 {
            throw KernelPredictorError.invalidSetting(name: "network \(name)", value: Double(value), requirement: "at least 1")
        }
        initialHidden = Dense(weight: Initializers.normal([width, inputs], rng: &rng), bias: nil, trainable: false)
        hiddenChange = Dense(weight: Tensor.zeros([width, inputs]), bias: nil)
        output = Dense(weight: Initializers.randomSigns([outputs, width], rng: &rng), bias: nil, trainable: false)
        self.width = width
    }

    /// The trained first layer w = w⁰ + Δ.
    public var hiddenWeight: Tensor { get throws { try initialHidden.weight.value + hiddenChange.weight.value } }

    /// f(x) = f_w(x) − f_w⁰(x).
    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        let x = try input.flattenedBatch()
        return try centred(x, initialPreactivations: try callChild("initialHidden", initialHidden, x))
    }

    /// w⁰·x for a batch: the part of the forward pass training does not change, for
    /// ``centred(_:initialPreactivations:)``.
    public func initialPreactivations(_ input: Tensor) throws -> Tensor {
        try callChild("initialHidden", initialHidden, try input.flattenedBatch()).detached
    }

    /// f(x) given w⁰·x (from ``initialPreactivations(_:)``): training computes w⁰·X of the training set once.
    public func centred(_ input: Tensor, initialPreactivations h0: Tensor) throws -> Tensor {
        let h = try h0 + callChild("hiddenChange", hiddenChange, try input.flattenedBatch())
        return try callChild("output", output, try h.relu() - h0.relu()).scaled(by: 1 / Float(width).squareRoot())
    }
}
