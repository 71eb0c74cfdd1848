import Autodiff

/// The first-order Taylor expansion of a network in its parameters around a point θ₀:
/// f_lin(θ, x) = f(θ₀, x) + J_θ f(θ₀, x) · (θ − θ₀).
///
/// It shares the network's `Parameter` objects, so the optimiser trains θ exactly as it trains the
/// network, and checkpoints name the same tensors. A forward pass runs the network once at θ₀ with
/// forward-mode tangents (θ − θ₀) attached to the parameters (one JVP) and returns value + tangent.
/// Because JVP rules are differentiable ops, reverse mode gives ∂f_lin/∂θ = J(θ₀, x) (for SGD) and
/// ∂f_lin/∂x (for attacks against f_lin itself). Its NTK is J(θ₀, x) J(θ₀, x')ᵀ, constant in θ.
public final class LinearizedModel: Module {
    /// The network whose parameters are θ.
    public let network: Sequential
    /// θ₀ by parameter name.
    public let anchor: [String: Tensor]

    /// Linearizes `network` around its current parameters.
    public init(network: Sequential) {
        self.network = network
        anchor = network.parameterValues()
    }

    /// Linearizes `network` around the given point (e.g. restored from a checkpoint).
    public init(network: Sequential, anchor: [String: Tensor]) throws {
        self.network = network
        for (name, p) in network.namedParameters {
            guard let a = anchor[name] else { throw ModuleError.missingParameter(name) }
            guard a.shape == p.value.shape else { throw ModuleError.shapeMismatch(name: name, expected: p.value.shape, found: a.shape) }
        }
        self.anchor = anchor.mapValues(\.detached)
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        let params = network.trainableParameters
        let live = params.map { $0.parameter.value }
        for (p, current) in zip(params, live) {
            let theta0 = anchor[p.name]!
            p.parameter.value = theta0.withTangent(current - theta0)
        }
        defer { for (p, current) in zip(params, live) { p.parameter.value = current } }
        let y = network(input)
        guard let t = y.tangent else { return y.primal }
        return y.primal + t
    }

    public var namedParameters: [(name: String, parameter: Parameter)] { network.namedParameters }

    /// Runs `body` with the network's parameters set to θ₀ (e.g. to compute f_lin's NTK,
    /// J(θ₀)J(θ₀)ᵀ, with the structured engine), restoring θ afterwards.
    public func withAnchorParameters<R>(_ body: (Sequential) throws -> R) rethrows -> R {
        let params = network.namedParameters
        let live = params.map { $0.parameter.value }
        for p in params { p.parameter.value = anchor[p.name]! }
        defer { for (p, current) in zip(params, live) { p.parameter.value = current } }
        return try body(network)
    }
}
