import Autodiff
import NN

/// What an attack climbs: the loss of a batch and its gradient with respect to the inputs. A network
/// with its loss (``ModuleObjective``) is one; a kernel predictor with an attack loss is another. The
/// attack loops (``Attacks/pgd(_:inputs:labels:configuration:norm:inputRange:rng:)``, FGSM) and
/// ``RobustEvaluation`` see only this protocol.
public protocol AttackObjective {
    /// The mean loss over the batch `x` (samples along the first axis) against `labels`, and its
    /// gradient with respect to `x` (same shape as `x`).
    func lossAndInputGradient(at x: Tensor, labels: [Int32]) throws -> (loss: Float, gradient: Tensor)

    /// The mean loss over the batch `x` and the fraction of its samples classified as `labels`.
    func lossAndAccuracy(at x: Tensor, labels: [Int32]) throws -> (loss: Float, accuracy: Double)

    /// The objective an attack on the clean batch `clean` climbs. Objectives whose loss refers to the
    /// clean input (a label-free loss that pushes away from the clean prediction) fix that reference
    /// here; the default is the objective itself.
    func anchored(at clean: Tensor, labels: [Int32]) throws -> AttackObjective
}

extension AttackObjective {
    /// The objective itself: its loss does not depend on the clean input.
    public func anchored(at clean: Tensor, labels: [Int32]) throws -> AttackObjective { self }
}

/// A network and the loss it is attacked through (mean cross-entropy by default). The attack reads
/// the parameters and never changes them.
public struct ModuleObjective: AttackObjective {
    /// The attacked network (any module, including a linearized one).
    public let model: Module
    /// The loss of its outputs.
    public let loss: Loss

    /// `model` attacked through `loss`.
    public init(_ model: Module, loss: Loss = .crossEntropy) {
        self.model = model
        self.loss = loss
    }

    /// The loss at `x` and its input gradient (``Attacks/inputGradient(of:at:labels:loss:)``).
    public func lossAndInputGradient(at x: Tensor, labels: [Int32]) throws -> (loss: Float, gradient: Tensor) {
        try Attacks.inputGradient(of: model, at: x, labels: labels, loss: loss)
    }

    /// The loss of the model's outputs at `x` and their accuracy (argmax, or the sign of a single output).
    public func lossAndAccuracy(at x: Tensor, labels: [Int32]) throws -> (loss: Float, accuracy: Double) {
        let outputs = try model(x)
        return (try loss(outputs, labels: labels).scalar, accuracy(logits: outputs, labels: labels))
    }
}
