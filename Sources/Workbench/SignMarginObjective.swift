import Autodiff
import NN
import Robustness

/// A one-output model attacked through its signed margin against ±1 targets: the loss is
/// mean_i(−y_i f(x_i)), so projected gradient ascent drives each output towards the sign opposite to
/// its target — the attack of robust sign accuracy. The squared error's attack
/// (``RegressionObjective``) instead pushes an output away from its target in whichever direction it
/// already errs, so it can overshoot (f = 1.2 → 3 against y = 1) and miss a sign flip within reach.
/// Labels are ignored; the accuracy is the fraction of outputs with the target's sign.
public struct SignMarginObjective: AttackObjective {
    /// The model, with one output per sample.
    public let model: Module
    /// The targets, `[N, 1]` (only their signs matter).
    public let targets: Tensor

    /// `model` against `targets` (N values, usually ±1).
    public init(_ model: Module, targets: [Float]) {
        self.model = model
        self.targets = Tensor(shape: [targets.count, 1], scalars: targets.map { $0 > 0 ? 1 : -1 })
    }

    /// mean_i(−sign(y_i) f(x_i)) and its gradient in x.
    public func lossAndInputGradient(at x: Tensor, labels: [Int32]) throws -> (loss: Float, gradient: Tensor) {
        try RegressionObjective.lossAndInputGradient(model, at: x, negativeMargin)
    }

    /// The mean negative margin at `x` and the fraction of outputs with the target's sign.
    public func lossAndAccuracy(at x: Tensor, labels: [Int32]) throws -> (loss: Float, accuracy: Double) {
        try RegressionObjective.lossAndSignAccuracy(model, at: x, targets: targets, negativeMargin)
    }

    /// mean_i(−sign(y_i) f_i) of `outputs` (`[N, 1]`).
    private func negativeMargin(_ outputs: Tensor) throws -> Tensor {
        guard outputs.shape == targets.shape else {
            throw WorkbenchError.mismatch("the model gives outputs of shape \(outputs.shape) for \(targets.shape[0]) targets; a sign margin needs [\(targets.shape[0]), 1]")
        }
        return try (outputs * targets).mean().scaled(by: -1)
    }
}
