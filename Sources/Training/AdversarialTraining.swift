import Autodiff
import Kernels
import NN
import Robustness

/// Adversarial training as a batch transform: every batch is replaced by its attacked version
/// (against the model being trained, the linearized one included) before the SGD step.
public final class AdversarialTraining: BatchTransform {
    /// The attack each batch is replaced with.
    public let attack: AttackKind
    /// Adversarial training with `attack`.
    public init(attack: AttackKind) { self.attack = attack }

    public func transform(_ inputs: Tensor, labels: [Int32], model: Module, loss: Loss, rng: inout Xoshiro256) throws -> Tensor {
        try attack.perturb(model, inputs: inputs, labels: labels, loss: loss, rng: &rng)
    }
}

/// Logs clean and PGD accuracy on the same N training and test images each evaluated epoch (the first N
/// training images; the first N test images in `TrainingData.testSampleOrder`, a seeded sample for
/// CIFAR-10's class-grouped test file):
/// `train_robust_accuracy`, `test_robust_accuracy` (beside `train_accuracy`/`test_accuracy` from
/// `EvaluationCallback`), plus `test_adversarial_loss` and a gradient-masking warning if needed.
public final class RobustEvaluationCallback: TrainingCallback {
    private let warn: (String) -> Void
    /// Robust evaluation reporting gradient-masking warnings through `warn` (default: printed).
    public init(warn: @escaping (String) -> Void = { print("warning: \($0)") }) { self.warn = warn }

    public func epochEnd(_ loop: TrainingLoop) throws {
        let c = loop.settings
        guard c.robustEvalSubset > 0, loop.epoch % c.evalEvery == 0 || loop.epoch == c.epochs else { return }
        // A generator of its own, derived from the epoch, so evaluation never shifts training's randomness.
        var rng = Xoshiro256(seed: c.seed &+ 0xe7a1 &+ UInt64(loop.epoch))
        let attack = AttackKind.pgd(c.robustEvaluationAttack)
        loop.announce("robust evaluation (PGD-\(c.robustEvaluationAttack.steps) on \(c.robustEvalSubset) training and test images)")
        let train = try RobustEvaluation.evaluate(loop.trainee, on: loop.data.train, limit: c.robustEvalSubset, attack: attack,
                                                  loss: loop.loss, rng: &rng)
        let test = try RobustEvaluation.evaluate(loop.trainee, on: loop.data.testSample(c.robustEvalSubset), limit: c.robustEvalSubset, attack: attack,
                                                 loss: loop.loss, rng: &rng)
        try loop.record("train_robust_accuracy", train.robustAccuracy)
        try loop.record("test_robust_accuracy", test.robustAccuracy)
        try loop.record("test_adversarial_loss", test.adversarialLoss)
        if let w = test.gradientMaskingWarning { warn("epoch \(loop.epoch): \(w)") }
    }
}
