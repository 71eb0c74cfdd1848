import NN

/// Logs clean accuracy on a training subset and on the test set after every `evalEvery` epochs
/// (and after the last): `train_accuracy`, `test_accuracy`, `test_loss`.
public final class EvaluationCallback: TrainingCallback {
    /// Evaluation after every evaluated epoch.
    public init() {}

    public func epochEnd(_ loop: TrainingLoop) throws {
        let c = loop.settings
        guard loop.epoch % c.evalEvery == 0 || loop.epoch == c.epochs else { return }
        loop.announce("evaluating (\(min(c.evalTrainSubset, loop.data.train.count)) training, \(loop.data.test.count) test images)")
        let train = try Evaluation.evaluate(loop.trainee, on: loop.data.train, limit: c.evalTrainSubset, loss: loop.loss)
        let test = try Evaluation.evaluate(loop.trainee, on: loop.data.test, loss: loop.loss)
        try loop.record("train_accuracy", train.accuracy)
        try loop.record("test_accuracy", test.accuracy)
        try loop.record("test_loss", test.loss)
    }
}
