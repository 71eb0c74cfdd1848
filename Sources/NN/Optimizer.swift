import Autodiff

/// An optimiser: a per-parameter update rule with per-parameter state (momentum buffers, Adam's
/// moments) keyed by the parameter's dotted name, so checkpoints can save and restore it exactly.
///
/// Conformers implement ``applySingle(name:parameter:gradient:)``; ``update(_:gradients:)`` runs it over
/// a model's trainable parameters (mlx-swift's `applySingle` design).
public protocol Optimizer: AnyObject {
    /// The step size used by the next update (a schedule sets it before each step).
    var learningRate: Float { get set }
    /// Updates one parameter in place from its gradient.
    func applySingle(name: String, parameter: Parameter, gradient: Tensor) throws
    /// Everything the optimiser carries between steps, as named tensors (`velocity.conv1.weight`,
    /// `step`, …), for checkpoints.
    var state: [String: Tensor] { get }
    /// Restores ``state`` saved from an optimiser of the same kind for `model`; refuses tensors that do
    /// not match the model's parameters, naming them.
    func restore(state: [String: Tensor], for model: Module) throws
}

extension Optimizer {
    /// Applies one update to every trainable parameter of `model` that has a gradient; a gradient whose
    /// shape differs from its parameter's is refused before anything changes.
    public func update(_ model: Module, gradients: [String: Tensor]) throws {
        let params = model.trainableParameters
        for (name, p) in params {
            if let g = gradients[name], g.shape != p.value.shape {
                throw OptimizerError.gradientShape(name: name, expected: p.value.shape, found: g.shape)
            }
        }
        for (name, p) in params {
            guard let g = gradients[name] else { continue }
            try applySingle(name: name, parameter: p, gradient: g)
        }
    }
}

/// Errors of optimisers and their settings.
public enum OptimizerError: Error, CustomStringConvertible, Equatable {
    /// A setting outside its range (a learning rate that is negative or not finite, β outside [0, 1), …).
    case invalidSetting(name: String, value: Double, requirement: String)
    /// A gradient whose shape does not match its parameter.
    case gradientShape(name: String, expected: [Int], found: [Int])
    /// Saved optimiser state that does not fit the model or the optimiser.
    case stateMismatch(String)

    public var description: String {
        switch self {
        case .invalidSetting(let name, let value, let requirement):
            return "\(name) = \(value) is invalid: it must be \(requirement)"
        case .gradientShape(let name, let e, let f):
            return "the gradient of '\(name)' has shape \(f), the parameter has \(e)"
        case .stateMismatch(let detail):
            return "the saved optimiser state does not match: \(detail)"
        }
    }
}

/// Checks an optimiser setting: finite and within `range`.
func requireSetting(_ name: String, _ value: Float, in range: ClosedRange<Float>, _ requirement: String) throws {
    guard value.isFinite, range.contains(value) else {
        throw OptimizerError.invalidSetting(name: name, value: Double(value), requirement: requirement)
    }
}

/// Splits saved state `prefix.NAME` into a dictionary by parameter name, checking every name and shape
/// against `model`'s trainable parameters.
func parameterState(_ state: [String: Tensor], prefix: String, for model: Module) throws -> [String: Tensor] {
    let shapes = Dictionary(uniqueKeysWithValues: model.trainableParameters.map { ($0.name, $0.parameter.value.shape) })
    var result: [String: Tensor] = [:]
    for (key, value) in state where key.hasPrefix(prefix + ".") {
        let name = String(key.dropFirst(prefix.count + 1))
        guard let shape = shapes[name] else { throw OptimizerError.stateMismatch("'\(key)' names no trainable parameter of the model") }
        guard shape == value.shape else {
            throw OptimizerError.stateMismatch("'\(key)' has shape \(value.shape), the parameter has \(shape)")
        }
        guard value.scalars.allSatisfy(\.isFinite) else { throw OptimizerError.stateMismatch("'\(key)' holds non-finite values") }
        result[name] = value.detached
    }
    return result
}
