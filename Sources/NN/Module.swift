import Autodiff

/// A trainable (or frozen) tensor owned by a layer. Reference type: the optimiser, checkpoints and
/// the NTK engine all see the same parameter object the layer uses.
public final class Parameter {
    /// The current value. Plain (untracked) between steps.
    public var value: Tensor
    /// Frozen parameters (e.g. the ±1 output layer of the two-layer network) are not trained and
    /// not part of the NTK.
    public let trainable: Bool

    public init(_ value: Tensor, trainable: Bool = true) {
        self.value = value
        self.trainable = trainable
    }
}

/// A piece of a network: a differentiable function of its input with named parameters.
public protocol Module: AnyObject {
    /// Applies the module to a batch.
    func callAsFunction(_ input: Tensor) -> Tensor
    /// Every parameter reachable from this module, with stable dotted names (`conv1.weight`).
    var namedParameters: [(name: String, parameter: Parameter)] { get }
}

extension Module {
    /// The trainable parameters, in a fixed order, with their names.
    public var trainableParameters: [(name: String, parameter: Parameter)] {
        namedParameters.filter { $0.parameter.trainable }
    }

    /// Number of scalars over all parameters (trainable or not).
    public var parameterCount: Int { namedParameters.reduce(0) { $0 + $1.parameter.value.count } }

    /// A parameter by its dotted name.
    public func parameter(named name: String) -> Parameter? {
        namedParameters.first { $0.name == name }?.parameter
    }

    /// Evaluates `loss` (which should apply this module) with every trainable parameter tracked,
    /// and returns the loss value and the gradient of each trainable parameter by name.
    /// Parameters are plain tensors again afterwards.
    public func lossAndGradients(_ loss: () -> Tensor) -> (loss: Float, gradients: [String: Tensor]) {
        let params = trainableParameters
        let leaves = params.map { $0.parameter.value.requiringGradient() }
        for (p, leaf) in zip(params, leaves) { p.parameter.value = leaf }
        defer { for p in params { p.parameter.value = p.parameter.value.detached } }
        let value = loss()
        let grads = gradients(of: value, wrt: leaves)
        var byName: [String: Tensor] = [:]
        for (p, g) in zip(params, grads) { byName[p.name] = g }
        return (value.scalar, byName)
    }

    /// Current parameter values by name (copies share storage; cheap).
    public func parameterValues() -> [String: Tensor] {
        Dictionary(uniqueKeysWithValues: namedParameters.map { ($0.name, $0.parameter.value.detached) })
    }

    /// Replaces parameter values by name; every parameter must be present with its shape.
    public func loadParameterValues(_ values: [String: Tensor]) throws {
        for (name, p) in namedParameters {
            guard let v = values[name] else { throw ModuleError.missingParameter(name) }
            guard v.shape == p.value.shape else {
                throw ModuleError.shapeMismatch(name: name, expected: p.value.shape, found: v.shape)
            }
            p.value = v.detached
        }
    }
}

/// Errors raised when parameter sets do not match a model.
public enum ModuleError: Error, CustomStringConvertible, Equatable {
    case missingParameter(String)
    case shapeMismatch(name: String, expected: [Int], found: [Int])

    public var description: String {
        switch self {
        case .missingParameter(let n): return "parameter '\(n)' is missing"
        case .shapeMismatch(let n, let e, let f): return "parameter '\(n)' has shape \(f), the model expects \(e)"
        }
    }
}
