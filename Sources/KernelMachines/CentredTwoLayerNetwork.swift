import Autodiff
import Kernels
import NN

/// The paper's Appendix C network with its initial output subtracted:
///
///     f(x) = (1/√m) Σ_r a_r [relu(w_r·x) − relu(w⁰_r·x)],
///
/// first layer w_r ~ N(0, I) trained, output signs a_r = ±1 frozen, and w⁰ the first layer at
/// initialisation (a frozen copy), so f ≡ 0 at initialisation and, as the width m grows, gradient
/// descent on the squared loss follows the kernel gradient flow of ``TwoLayerFrozenOutputKernel`` from
/// a zero output (``GradientFlowSolution``). The only trainable parameter is `hidden.weight`; the
/// optimiser, the NTK engine and checkpoints see the other two as frozen. Input `[N, features…]`
/// (flattened), output `[N, outputs]`.
public final class CentredTwoLayerNetwork: Module {
    /// The trained first layer w, `[m, d]`.
    public let hidden: Dense
    /// The first layer at initialisation w⁰, frozen.
    public let initialHidden: Dense
    /// The ±1 output signs a, `[outputs, m]`, frozen.
    public let output: Dense
    /// m.
    public let width: Int

    /// A network of `width` hidden units on `inputs` features with `outputs` outputs, drawn from `rng`
    /// as ``PaperModels/twoLayer(inputs:width:outputs:rng:)`` draws its layers.
    /// - Throws: ``KernelPredictorError/invalidSetting(name:value:requirement:)`` for a size below 1.
    public init(inputs: Int, width: Int, outputs: Int, rng: inout Xoshiro256) throws {
        for (name, value) in [("inputs", inputs), ("width", width), ("outputs", outputs)] where value < 1 {
            throw KernelPredictorError.invalidSetting(name: "network \(name)", value: Double(value), requirement: "at least 1")
        }
        let w = Initializers.normal([width, inputs], rng: &rng)
        hidden = Dense(weight: w, bias: nil)
        initialHidden = Dense(weight: w, bias: nil, trainable: false)
        output = Dense(weight: Initializers.randomSigns([outputs, width], rng: &rng), bias: nil, trainable: false)
        self.width = width
    }

    /// f(x) − f⁰(x).
    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        let x = try input.flattenedBatch()
        return try readout(try callChild("hidden", hidden, x).relu() - callChild("initialHidden", initialHidden, x).relu())
    }

    /// The network without the subtraction, (1/√m) Σ_r a_r relu(w_r·x): training subtracts the initial
    /// outputs of the training set once instead of recomputing them every step.
    public func uncentred(_ input: Tensor) throws -> Tensor {
        try readout(try callChild("hidden", hidden, try input.flattenedBatch()).relu())
    }

    /// The frozen initial network's outputs f⁰(x).
    public func initialOutputs(_ input: Tensor) throws -> Tensor {
        try readout(try callChild("initialHidden", initialHidden, try input.flattenedBatch()).relu()).detached
    }

    private func readout(_ features: Tensor) throws -> Tensor {
        try callChild("output", output, features).scaled(by: 1 / Float(width).squareRoot())
    }
}
