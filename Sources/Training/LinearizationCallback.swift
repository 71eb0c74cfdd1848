import Autodiff
import NN

/// Switches the loop to the network's linearization around the parameters it has when epoch `k`
/// starts (k = 0: at initialisation; PAPER.md Appendix E.1). From then on SGD trains f_lin, attacks
/// (training and evaluation) target f_lin, and kernel tracking uses f_lin's constant kernel.
/// The anchor θ₀ is saved in checkpoints, so a linearized run resumes exactly.
public final class LinearizationCallback: TrainingCallback {
    public let epoch: Int
    private var model: LinearizedModel?
    private var restoredAnchor: [String: Tensor]?

    public init(atEpoch epoch: Int) { self.epoch = epoch }

    public func fitStart(_ loop: TrainingLoop) throws {
        if restoredAnchor == nil, model == nil,
           loop.epoch > epoch || (loop.epoch == epoch && loop.batchOrder.position > 0) {
            throw ConfigurationError("cannot linearize at the start of epoch \(epoch): this run is already at epoch \(loop.epoch), step \(loop.step); resume from the checkpoint written at the end of epoch \(epoch) instead")
        }
        if let anchor = restoredAnchor {
            let linearized = try LinearizedModel(network: loop.network, anchor: anchor)
            model = linearized
            loop.trainee = linearized
            restoredAnchor = nil
        }
    }

    public func epochStart(_ loop: TrainingLoop) throws {
        guard loop.epoch == epoch, model == nil else { return }
        let linearized = LinearizedModel(network: loop.network)
        model = linearized
        loop.trainee = linearized
        try loop.record("linearized", 1)
    }

    public var stateKey: String? { "linearization" }

    public func saveState() throws -> CallbackState {
        var state = CallbackState()
        state.strings["active"] = model == nil ? "0" : "1"
        state.strings["epoch"] = "\(epoch)"
        if let model {
            for (name, t) in model.anchor { state.floats["anchor.\(name)"] = (t.shape, t.scalars) }
        }
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
