/// An observer of the training loop. Every method defaults to doing nothing; implement the ones
/// you need. Callbacks see the whole loop state (`TrainingLoop`: model, batch, loss, step, epoch,
/// metrics log) and can stop the run by throwing `StopTraining` (a clean stop) or any other error
/// (an aborted run).
///
/// Callbacks run in the order they were added. A stateful callback gives `stateKey` and implements
/// `saveState`/`restoreState`, so checkpoints carry its state and a resumed run continues it.
public protocol TrainingCallback: AnyObject {
    func fitStart(_ loop: TrainingLoop) throws
    func epochStart(_ loop: TrainingLoop) throws
    /// Before the batch is transformed (e.g. attacked) and the step taken; `loop.batch` is set.
    func batchStart(_ loop: TrainingLoop) throws
    /// After gradients are computed and before the parameter update; `loop.gradients` is set.
    func afterBackward(_ loop: TrainingLoop) throws
    /// After the update; `loop.lastLoss` is the batch loss.
    func batchEnd(_ loop: TrainingLoop) throws
    /// After an epoch; the loop has logged `train_loss`. `loop.epoch` counts completed epochs.
    func epochEnd(_ loop: TrainingLoop) throws
    func fitEnd(_ loop: TrainingLoop) throws
    /// Another callback started a long piece of work (evaluation, an attack, a kernel, a checkpoint),
    /// described in a few words: for progress displays.
    func activity(_ loop: TrainingLoop, _ description: String)

    /// Key of this callback's state in checkpoints; nil for stateless callbacks.
    var stateKey: String? { get }
    /// The callback's state as named tensors and strings.
    func saveState() throws -> CallbackState
    /// Restores state saved by `saveState`.
    func restoreState(_ state: CallbackState) throws
}

extension TrainingCallback {
    public func fitStart(_ loop: TrainingLoop) throws {}
    public func epochStart(_ loop: TrainingLoop) throws {}
    public func batchStart(_ loop: TrainingLoop) throws {}
    public func afterBackward(_ loop: TrainingLoop) throws {}
    public func batchEnd(_ loop: TrainingLoop) throws {}
    public func epochEnd(_ loop: TrainingLoop) throws {}
    public func fitEnd(_ loop: TrainingLoop) throws {}
    public func activity(_ loop: TrainingLoop, _ description: String) {}
    public var stateKey: String? { nil }
    public func saveState() throws -> CallbackState { CallbackState() }
    public func restoreState(_ state: CallbackState) throws {}
}

/// A callback's checkpointable state: named Float/Double arrays with shapes, and strings.
public struct CallbackState: Sendable, Equatable {
    /// Float tensors by name, with their shapes.
    public var floats: [String: (shape: [Int], values: [Float])] = [:]
    /// Double arrays by name.
    public var doubles: [String: [Double]] = [:]
    /// Strings by name (stored as checkpoint metadata).
    public var strings: [String: String] = [:]
    /// Empty state.
    public init() {}

    public static func == (a: CallbackState, b: CallbackState) -> Bool {
        a.doubles == b.doubles && a.strings == b.strings && a.floats.keys == b.floats.keys
            && a.floats.allSatisfy { k, v in b.floats[k].map { $0.shape == v.shape && $0.values == v.values } ?? false }
    }
}

/// Thrown by a callback to end the run cleanly after the current event (`fitEnd` still runs).
public struct StopTraining: Error, CustomStringConvertible {
    /// Why the run stopped, in words.
    public let reason: String
    /// A clean stop for `reason`.
    public init(_ reason: String) { self.reason = reason }
    public var description: String { "training stopped: \(reason)" }
}
