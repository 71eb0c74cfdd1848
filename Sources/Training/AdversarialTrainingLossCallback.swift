import Kernels
import Robustness

/// Logs `train_adversarial_loss` after every evaluated epoch: the loss the run trains with, on the
/// attacked version of the whole training set, under the run's adversarial-training attack (or PGD with
/// the robust-evaluation settings for a clean run), with `train_clean_loss` on the same images. The
/// attack draws from a generator derived from the seed and the epoch, never from training's.
public final class AdversarialTrainingLossCallback: TrainingCallback {
    /// The adversarial loss over the whole training set after each evaluated epoch.
    public init() {}

    public func epochEnd(_ loop: TrainingLoop) throws {
        let c = loop.settings
        guard loop.epoch % c.evalEvery == 0 || loop.epoch == c.epochs else { return }
        var rng = Xoshiro256(seed: c.seed &+ 0xad7e &+ UInt64(loop.epoch))
        let attack = c.adversarial ?? .pgd(c.robustEvaluationAttack)
        loop.announce("adversarial loss on the whole training set (\(loop.data.train.count) images)")
        let report = try RobustEvaluation.evaluate(loop.trainee, on: loop.data.train, limit: loop.data.train.count,
                                                   attack: attack, loss: loop.loss, rng: &rng)
        try loop.record("train_adversarial_loss", report.adversarialLoss)
        try loop.record("train_clean_loss", report.cleanLoss)
    }
}
