import Autodiff
import Datasets
import Kernels
import NN

/// f(x) = (α/√m) Σ_r a_r σ(w_r·x) with one output, w_r ~ N(0, I_d) and a_r = ±1 at initialisation;
/// each layer trainable or frozen as the regime says. Centred, it subtracts the same network at its
/// initial parameters (frozen copies `initialHidden`, `initialOutput`), so it is zero at initialisation.
/// Input `[N, d]` (or anything that flattens to it), output `[N, 1]`.
public final class TwoLayerNetwork: Module {
    /// The first layer w, `[m, d]`.
    public let hidden: Dense
    /// The output layer a, `[1, m]`.
    public let output: Dense
    /// Frozen copies of both layers at initialisation when centred, else nil.
    public let initialHidden: Dense?
    /// The frozen initial output layer when centred, else nil.
    public let initialOutput: Dense?
    /// σ.
    public let activation: TwoLayerActivation
    /// The factor α/√m.
    public let scale: Float
    /// The width m.
    public let width: Int

    /// A network of `width` units on `inputs` features, drawn from `rng`, with the trainable layers and
    /// scale of `regime` (its `linearized` flag is the caller's: see ``TwoLayerModel``).
    public init(inputs: Int, width: Int, activation: TwoLayerActivation, regime: TwoLayerRegime, rng: inout Xoshiro256) throws {
        try regime.validate()
        for (name, value) in [("input dimension", inputs), ("width", width)] where value < 1 {
            throw WorkbenchError.invalidSetting(name: name, value: "\(value)", requirement: "at least 1")
        }
        let w = Initializers.normal([width, inputs], rng: &rng)
        let a = Initializers.randomSigns([1, width], rng: &rng)
        hidden = Dense(weight: w, bias: nil, trainable: regime.trainsFirstLayer)
        output = Dense(weight: a, bias: nil, trainable: regime.trainsOutputLayer)
        initialHidden = regime.centred ? Dense(weight: w, bias: nil, trainable: false) : nil
        initialOutput = regime.centred ? Dense(weight: a, bias: nil, trainable: false) : nil
        self.activation = activation
        scale = regime.alpha / Float(width).squareRoot()
        self.width = width
    }

    /// f(θ, x), minus f(θ₀, x) when centred.
    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        let x = try input.flattenedBatch()
        var y = try branch(x, hidden: ("hidden", hidden), output: ("output", output))
        if let initialHidden, let initialOutput {
            y = try y - branch(x, hidden: ("initialHidden", initialHidden), output: ("initialOutput", initialOutput))
        }
        return y.scaled(by: scale)
    }

    /// Σ_r a_r σ(w_r·x) for one pair of layers.
    private func branch(_ x: Tensor, hidden: (String, Dense), output: (String, Dense)) throws -> Tensor {
        let z = try callChild(hidden.0, hidden.1, x)
        let features: Tensor
        switch activation {
        case .relu: features = z.relu()
        case .softplus: features = z.softplus()
        case .tanh: features = z.tanh()
        }
        return try callChild(output.0, output.1, features)
    }
}

/// A two-layer network set up for a regime: the network itself, and what the optimiser trains — the
/// network, or in the lazy regime its linearization around the initialisation.
public struct TwoLayerModel {
    /// The network; its parameters are the θ trained.
    public let network: TwoLayerNetwork
    /// What is trained, attacked and measured: the network or its `LinearizedModel`.
    public let trainee: Module
    /// The regime it was built for.
    public let regime: TwoLayerRegime

    /// Draws a network for `regime` from `rng` and, for a linearized regime, linearizes it at θ₀.
    public init(inputs: Int, width: Int, activation: TwoLayerActivation, regime: TwoLayerRegime, rng: inout Xoshiro256) throws {
        let network = try TwoLayerNetwork(inputs: inputs, width: width, activation: activation, regime: regime, rng: &rng)
        self.network = network
        trainee = regime.linearized ? LinearizedModel(network: network) : network
        self.regime = regime
    }

    /// Rebuilds the model around a saved anchor θ₀ (a lazy run restored from a checkpoint).
    public init(network: TwoLayerNetwork, regime: TwoLayerRegime, anchor: [String: Tensor]?) throws {
        self.network = network
        self.regime = regime
        if regime.linearized {
            trainee = try anchor.map { try LinearizedModel(network: network, anchor: $0) } ?? LinearizedModel(network: network)
        } else {
            trainee = network
        }
    }
}
