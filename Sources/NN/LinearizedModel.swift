import Autodiff

/// The first-order Taylor expansion of a network in its parameters around a point θ₀:
/// f_lin(θ, x) = f(θ₀, x) + J_θ f(θ₀, x) · (θ − θ₀).
///
/// It shares the network's `Parameter` objects (and their names: it adds no level to the module
/// tree), so the optimiser trains θ exactly as it trains the network, and checkpoints name the same
/// tensors. A forward pass runs the network once at θ₀ with forward-mode tangents (θ − θ₀) attached
/// to the parameters (one JVP) and returns value + tangent. Because JVP rules are differentiable ops,
/// reverse mode gives ∂f_lin/∂θ = J(θ₀, x) (for SGD) and ∂f_lin/∂x (for attacks against f_lin
/// itself). Its NTK is J(θ₀, x) J(θ₀, x')ᵀ, constant in θ. Works for any module.
public final class LinearizedModel: Module {
    /// The network whose parameters are θ.
    public let network: Module
    /// θ₀ by parameter name.
    public let anchor: [String: Tensor]

    /// Linearizes `network` around its current parameters.
    public init(network: Module) {
        self.network = network
        anchor = network.parameterValues()
    }

    /// Linearizes `network` around the given point (e.g. restored from a checkpoint).
    public init(network: Module, anchor: [String: Tensor]) throws {
        self.network = network
        let probe = network.parameterValues()
        var problems: [ModuleError.Mismatch] = []
        for (name, value) in probe.sorted(by: { $0.key < $1.key }) {
            guard let a = anchor[name] else { problems.append(.missing(name: name, shape: value.shape)); continue }
            if a.shape != value.shape { problems.append(.shape(name: name, expected: value.shape, found: a.shape)) }
        }
        for name in anchor.keys.sorted() where probe[name] == nil { problems.append(.unexpected(name: name, shape: anchor[name]!.shape)) }
        guard problems.isEmpty else { throw ModuleError.parametersDoNotMatch(problems) }
        self.anchor = anchor.mapValues(\.detached)
    }

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        let params = network.trainableParameters
        let live = params.map { $0.parameter.value }
        defer { for (p, current) in zip(params, live) { p.parameter.value = current } }
        for (p, current) in zip(params, live) {
            let theta0 = anchor[p.name]!
            p.parameter.value = try theta0.withTangent(try current - theta0)
        }
        let y = try network(input)
        guard let t = try y.tangent else { return y.primal }
        return try y.primal + t
    }

    public var children: [(name: String, module: Module)] { network.children }
    public var ownParameters: [(name: String, parameter: Parameter)] { network.ownParameters }

    /// Runs `body` with the network's parameters set to θ₀ (e.g. to compute f_lin's NTK,
    /// J(θ₀)J(θ₀)ᵀ, with the structured engine), restoring θ afterwards.
    public func withAnchorParameters<R>(_ body: (Module) throws -> R) rethrows -> R {
        let params = network.namedParameters
        let live = params.map { $0.parameter.value }
        for p in params { p.parameter.value = anchor[p.name]! }
        defer { for (p, current) in zip(params, live) { p.parameter.value = current } }
        return try body(network)
    }
}
