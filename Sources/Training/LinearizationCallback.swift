import Autodiff
import NN

/// Switches the loop to the network's linearization around the parameters it has when epoch `k`
/// starts (k = 0: at initialisation; PAPER.md Appendix E.1), through ``TrainingLoop/linearize(anchor:)``.
/// From then on the optimiser trains f_lin, attacks (training and evaluation) target f_lin, and kernel
/// tracking uses f_lin's constant kernel. The anchor θ₀ is saved in checkpoints, so a linearized run
/// resumes exactly.
public final class LinearizationCallback: TrainingCallback {
    /// The epoch at whose start the loop switches.
    public let epoch: Int
    private var restoredAnchor: [String: Tensor]?
    /// The loop whose linearization is saved (set at fit start).
    private weak var loop: TrainingLoop?

    /// Linearizes at the start of epoch `epoch`.
    public init(atEpoch epoch: Int) { self.epoch = epoch }

    public func fitStart(_ loop: TrainingLoop) throws {
        self.loop = loop
        if let anchor = restoredAnchor {
            try loop.linearize(anchor: anchor)
            restoredAnchor = nil
            return
        }
        if loop.linearization == nil, loop.epoch > epoch || (loop.epoch == epoch && loop.batchOrder.position > 0) {
            throw ConfigurationError("cannot linearize at the start of epoch \(epoch): this run is already at epoch \(loop.epoch), step \(loop.step); resume from the checkpoint written at the end of epoch \(epoch) instead")
        }
    }

    public func epochStart(_ loop: TrainingLoop) throws {
        guard loop.epoch == epoch, loop.linearization == nil else { return }
        try loop.linearize()
        try loop.record("linearized", 1)
    }

    public var stateKey: String? { "linearization" }

    public func saveState() throws -> CallbackState {
        var state = CallbackState()
        let anchor = loop?.linearization?.anchor ?? restoredAnchor
        state.strings["active"] = anchor == nil ? "0" : "1"
        state.strings["epoch"] = "\(epoch)"
        for (name, t) in anchor ?? [:] { state.floats["anchor.\(name)"] = (t.shape, t.scalars) }
        return state
    }

    public func restoreState(_ state: CallbackState) throws {
        guard state.strings["active"] == "1" else { return }
        var anchor: [String: Tensor] = [:]
        for (key, t) in state.floats where key.hasPrefix("anchor.") {
            anchor[String(key.dropFirst("anchor.".count))] = Tensor(shape: t.shape, scalars: t.values)
        }
        restoredAnchor = anchor
    }
}
