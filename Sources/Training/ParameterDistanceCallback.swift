import Autodiff
import NN

/// The distance a model's trainable parameters have travelled from a starting point, relative to it:
/// ‖θ − θ₀‖ / ‖θ₀‖ over all trainable tensors together (Frobenius norms, accumulated in Double).
public enum ParameterDistance {
    /// ‖θ − θ₀‖ / ‖θ₀‖ for `model`'s trainable parameters against `initial` (by name); infinite when
    /// θ₀ = 0 and θ ≠ θ₀, 0 when both are zero. A parameter missing from `initial` or of another shape
    /// is an error naming it.
    public static func relative(_ model: Module, from initial: [String: Tensor]) throws -> Double {
        var difference = 0.0, reference = 0.0
        for (name, p) in model.trainableParameters {
            guard let start = initial[name], start.shape == p.value.shape else {
                throw TrainingError.incompatible("the starting point of the parameter distance has no tensor '\(name)' of shape \(p.value.shape)")
            }
            let now = p.value.scalars, then = start.scalars
            for i in now.indices {
                let delta = Double(now[i]) - Double(then[i])
                difference += delta * delta
                reference += Double(then[i]) * Double(then[i])
            }
        }
        if reference == 0 { return difference == 0 ? 0 : .infinity }
        return (difference / reference).squareRoot()
    }

    /// The trainable parameters of `model` by name (detached copies), the θ₀ of ``relative(_:from:)``.
    public static func snapshot(_ model: Module) -> [String: Tensor] {
        Dictionary(uniqueKeysWithValues: model.trainableParameters.map { ($0.name, $0.parameter.value.detached) })
    }
}

/// Logs `parameter_distance` = ‖θ − θ₀‖ / ‖θ₀‖ after every epoch, θ₀ the trainable parameters when the
/// run first started (kept in checkpoints, so a resumed run measures from the same point).
public final class ParameterDistanceCallback: TrainingCallback {
    private var initial: [String: Tensor]?

    /// A distance logger; θ₀ is taken at the first `fitStart` (or restored from a checkpoint).
    public init() {}

    public func fitStart(_ loop: TrainingLoop) throws {
        if initial == nil { initial = ParameterDistance.snapshot(loop.trainee) }
    }

    public func epochEnd(_ loop: TrainingLoop) throws {
        guard let initial else { return }
        try loop.record("parameter_distance", try ParameterDistance.relative(loop.trainee, from: initial))
    }

    public var stateKey: String? { "parameter_distance" }

    public func saveState() throws -> CallbackState {
        var state = CallbackState()
        for (name, value) in initial ?? [:] { state.floats[name] = (value.shape, value.scalars) }
        return state
    }

    public func restoreState(_ state: CallbackState) throws {
        guard !state.floats.isEmpty else { return }
        initial = state.floats.mapValues { Tensor(shape: $0.shape, scalars: $0.values) }
    }
}
