import Autodiff
import NN
import Robustness

/// A model attacked (or trained) through the mean squared error against real targets, one target per
/// sample of the batch it is built for: the attack loop's objective for regression. Its labels are
/// ignored; its "accuracy" is the fraction of samples whose output has the sign of the target.
public struct RegressionObjective: AttackObjective {
    /// The model, with one output per sample.
    public let model: Module
    /// The targets, `[N, 1]`.
    public let targets: Tensor

    /// `model` against `targets` (N values).
    public init(_ model: Module, targets: [Float]) {
        self.model = model
        self.targets = Tensor(shape: [targets.count, 1], scalars: targets)
    }

    /// mean_i (f(x_i) − y_i)² and its gradient in x.
    public func lossAndInputGradient(at x: Tensor, labels: [Int32]) throws -> (loss: Float, gradient: Tensor) {
        try Self.lossAndInputGradient(model, at: x, squaredError)
    }

    /// The mean squared error at `x` and the fraction of outputs with the target's sign.
    public func lossAndAccuracy(at x: Tensor, labels: [Int32]) throws -> (loss: Float, accuracy: Double) {
        try Self.lossAndSignAccuracy(model, at: x, targets: targets, squaredError)
    }

    /// `loss` of `model`'s outputs at `x` and its gradient in x (the attack step of a regression objective).
    static func lossAndInputGradient(_ model: Module, at x: Tensor, _ loss: (Tensor) throws -> Tensor) throws -> (loss: Float, gradient: Tensor) {
        let leaf = x.detached.requiringGradient()
        let value = try loss(try model(leaf))
        return (value.scalar, try gradients(of: value, wrt: [leaf], allowUnconnected: true)[0])
    }

    /// `loss` of `model`'s outputs at `x` and the fraction of outputs on the same side of zero as `targets`.
    static func lossAndSignAccuracy(_ model: Module, at x: Tensor, targets: Tensor,
                                    _ loss: (Tensor) throws -> Tensor) throws -> (loss: Float, accuracy: Double) {
        let outputs = try model(x)
        let agreeing = zip(outputs.scalars, targets.scalars).filter { ($0 > 0) == ($1 > 0) }.count
        return (try loss(outputs).scalar, targets.count == 0 ? 0 : Double(agreeing) / Double(targets.count))
    }

    /// The mean squared error of `outputs` (`[N, 1]`) against the targets.
    public func squaredError(_ outputs: Tensor) throws -> Tensor {
        guard outputs.shape == targets.shape else {
            throw WorkbenchError.mismatch("the model gives outputs of shape \(outputs.shape) for \(targets.shape[0]) targets; a regression needs [\(targets.shape[0]), 1]")
        }
        return try meanSquaredError(predictions: outputs, targets: targets)
    }
}
