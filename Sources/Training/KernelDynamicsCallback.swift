import Autodiff
import Checkpoints
import Dispatch
import Foundation
import Kernels
import NN
import NTK
import Robustness

/// The model whose kernel is tracked. Every kernel the tracker computes goes through this one
/// function, so switching to another model (the linearized network, say) is a change in one place.
func withKernelNetwork<R>(_ loop: TrainingLoop, _ body: (Module) throws -> R) rethrows -> R {
    // A linearized run's kernel is J(θ₀, x) J(θ₀, x')ᵀ: the network's kernel at the anchor θ₀.
    if let linearized = loop.linearization { return try linearized.withAnchorParameters(body) }
    return try body(loop.network)
}

/// Kernel tracking (PAPER.md Section 5): the empirical NTK of one fixed probe batch, computed at the
/// start of training (K_0) and then every N steps and/or every epoch, with its dynamics logged and
/// every kernel saved for analysis after the run.
///
/// The probe is the first `probeSize` training images (default: one training batch) or given
/// indices; clean, or — with `adversarialProbe` — its PGD version against the current model (the
/// run's robust-evaluation attack, with a generator of its own derived from the seed, epoch and step,
/// so training's randomness is untouched). The same probe is used throughout.
///
/// Each kernel logs, through `loop.record`: `ntk_distance_to_initial` (d(K_t, K_0), 0 for K_0),
/// `ntk_distance_to_previous` (from the second kernel on), `ntk_norm` (‖K_t‖),
/// `ntk_concentration_top10`, `ntk_concentration_top20` (the paper's `Σ_{i≤k} λ_i² / ‖K‖²`),
/// `ntk_eigenvalue_mass_top10`, `ntk_eigenvalue_mass_top20` (`Σ_{i≤k} λ_i / trace K`),
/// `ntk_top_eigenvalue_1` … `ntk_top_eigenvalue_5`, and `ntk_seconds` (time spent on this kernel: attack,
/// kernel, metrics, snapshot). Each kernel is saved zstd-compressed as
/// `RUN/kernels/step-NNNNNNNN.safetensors.zst` and listed in `RUN/kernels/index.json` (see
/// ``KernelSnapshotStore``); `RunAnalysis` computes the all-pairs distances and polar dynamics from those
/// files afterwards. With `adversarialProbe` each kernel file also holds the attacked probe it was
/// computed on (tensors `inputs` and `labels`, see ``KernelFile/probeInputs(in:path:)``), so anyone can
/// recompute the kernel from the model at that step. Only K_0 and the previous kernel are held in memory.
///
/// State (``stateKey`` `kernel_dynamics`): the probe indices, K_0 and the previous kernel, the step of
/// the last kernel and the snapshot index — a resumed run continues the dynamics exactly.
public final class KernelDynamicsCallback: TrainingCallback {
    /// The tracking settings.
    public let configuration: KernelTrackingConfiguration
    /// The run folder; kernels go to its `kernels/` subfolder.
    public let runDirectory: String

    /// How many leading eigenvalues are logged (`ntk_top_eigenvalue_1` …).
    public static let loggedEigenvalueCount = 5
    /// The ranks k of the logged concentrations `ntk_concentration_topK`.
    public static let concentrationRanks = [10, 20]

    /// The probe's training-set indices (known from fit start on).
    public private(set) var probeIndices: [Int]?
    /// K_0, once computed.
    public private(set) var initialKernel: KernelMatrix?
    /// The most recent kernel.
    public private(set) var previousKernel: KernelMatrix?
    /// The optimiser step of the most recent kernel.
    public private(set) var lastKernelStep: Int?
    private var store: KernelSnapshotStore?

    /// A tracker writing its kernels under `runDirectory/kernels`.
    public init(configuration: KernelTrackingConfiguration, runDirectory: String) {
        self.configuration = configuration
        self.runDirectory = runDirectory
    }

    /// The snapshots saved so far, in order.
    public var snapshots: [KernelSnapshot] { store?.index.snapshots ?? [] }

    public func fitStart(_ loop: TrainingLoop) throws {
        try configuration.validate()
        if let probe = probeIndices {
            // Restored state was checked on its own; here it meets the run's data and position.
            try KernelTrackingConfiguration.checkProbe(probe, trainCount: loop.data.train.count)
            if let step = lastKernelStep, step > loop.step {
                throw ConfigurationError("the restored kernel tracking state has its last kernel at step \(step), after the run's step \(loop.step)")
            }
        } else {
            probeIndices = try configuration.probeIndices(batchSize: loop.settings.batchSize,
                                                          trainCount: loop.data.train.count)
        }
        if initialKernel == nil { try track(loop, trigger: .initial) }
    }

    public func batchEnd(_ loop: TrainingLoop) throws {
        guard let n = configuration.everySteps, loop.step % n == 0 else { return }
        // A step that ends an epoch is left to `epochEnd` when that tracks too, so the kernel is
        // labelled with the completed epoch.
        if configuration.everyEpoch && loop.batchOrder.isEpochFinished { return }
        try track(loop, trigger: .step)
    }

    public func epochEnd(_ loop: TrainingLoop) throws {
        guard configuration.everyEpoch, lastKernelStep != loop.step else { return }
        try track(loop, trigger: .epoch)
    }

    /// The probe batch as the kernel sees it now: clean, or attacked against the current model.
    public func probeInputs(_ loop: TrainingLoop) throws -> Tensor {
        try probeBatch(loop).inputs
    }

    /// The probe's inputs as the kernel sees them now, and its labels.
    private func probeBatch(_ loop: TrainingLoop) throws -> (inputs: Tensor, labels: [Int32]) {
        let indices = try probeIndices ?? configuration.probeIndices(batchSize: loop.settings.batchSize,
                                                                     trainCount: loop.data.train.count)
        try KernelTrackingConfiguration.checkProbe(indices, trainCount: loop.data.train.count)
        let (x, labels) = BatchAssembly.batch(loop.data.train, indices: indices)
        guard configuration.adversarialProbe else { return (x, labels) }
        var rng = Xoshiro256(seed: loop.settings.seed ^ 0x6e74_6b5f_7072_6f62
                             &+ UInt64(loop.epoch) &* 0x9e37_79b9_7f4a_7c15 &+ UInt64(loop.step))
        let attacked = try AttackKind.pgd(loop.settings.robustEvaluationAttack).perturb(loop.trainee, inputs: x, labels: labels,
                                                                                        loss: loop.loss, rng: &rng)
        return (attacked, labels)
    }

    /// Computes, logs and saves the kernel at the loop's current step.
    private func track(_ loop: TrainingLoop, trigger: KernelSnapshot.Trigger) throws {
        let start = DispatchTime.now().uptimeNanoseconds
        loop.announce("computing the probe's NTK (\(probeIndices?.count ?? 0) images\(configuration.adversarialProbe ? ", attacked" : ""))")
        let (inputs, labels) = try probeBatch(loop)
        let kernel = try withKernelNetwork(loop) { try EmpiricalNTK.compute($0, inputs: inputs, options: configuration.engineOptions) }
        let summary = try KernelMetrics.spectralSummary(kernel, topCount: Self.loggedEigenvalueCount,
                                                        ranks: Self.concentrationRanks)
        if store == nil {
            store = KernelSnapshotStore(runDirectory: runDirectory, index: KernelSnapshotIndex(
                kind: configuration.kind, adversarialProbe: configuration.adversarialProbe, probe: probeIndices ?? [],
                samples: kernel.sampleCount ?? kernel.n, classes: kernel.classCount))
        }
        // A clean probe is the training images at `probe`; an attacked one exists nowhere else, so it is kept.
        var extra: [StoredTensor] = []
        if configuration.adversarialProbe {
            extra = try KernelFile.probeTensors(inputs: inputs, labels: labels)
        }
        try store!.append(kernel, epoch: loop.epoch, step: loop.step, trigger: trigger, extraTensors: extra)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9

        try loop.record("ntk_distance_to_initial", initialKernel.map { try KernelMetrics.distance(kernel, $0) } ?? 0)
        if let previous = previousKernel {
            try loop.record("ntk_distance_to_previous", try KernelMetrics.distance(kernel, previous))
        }
        try loop.record("ntk_norm", summary.magnitude)
        for (rank, mass) in zip(summary.ranks, summary.concentration) {
            try loop.record("ntk_concentration_top\(rank)", mass)
        }
        for (rank, mass) in zip(summary.ranks, summary.eigenvalueMass) {
            try loop.record("ntk_eigenvalue_mass_top\(rank)", mass)
        }
        for (i, lambda) in summary.topEigenvalues.enumerated() {
            try loop.record("ntk_top_eigenvalue_\(i + 1)", lambda)
        }
        try loop.record("ntk_seconds", seconds)

        if initialKernel == nil { initialKernel = kernel }
        previousKernel = kernel
        lastKernelStep = loop.step
    }

    // MARK: Checkpoint state

    public var stateKey: String? { "kernel_dynamics" }

    public func saveState() throws -> CallbackState {
        var state = CallbackState()
        if let probe = probeIndices { state.doubles["probe_indices"] = probe.map(Double.init) }
        // K₀ and the newest kernel are the index's first and last snapshots, referenced by name and
        // checksum; they are embedded only when their files carry no checksum.
        let snapshots = store?.index.snapshots ?? []
        let referenced = snapshots.first?.checksum != nil && snapshots.last?.checksum != nil
            && snapshots.last?.step == lastKernelStep
        if let k = initialKernel {
            if !referenced { state.floats["initial_kernel"] = ([k.n, k.n], k.values) }
            state.doubles["kernel_shape"] = [Double(k.sampleCount ?? k.n), Double(k.classCount ?? 0)]
        }
        if let k = previousKernel, !referenced { state.floats["previous_kernel"] = ([k.n, k.n], k.values) }
        if let step = lastKernelStep { state.doubles["last_kernel_step"] = [Double(step)] }
        if let index = store?.index {
            state.strings["index"] = String(decoding: try index.jsonData(), as: UTF8.self)
        }
        state.strings["kind"] = configuration.kind.rawValue
        return state
    }

    /// Restores saved state after checking it (see `RestoredKernelTracking`; checkpoint restores check
    /// it against the run first, and `fitStart` checks the probe against the data). Kernels the state
    /// references are read from the run folder's `kernels/` and checked against their checksums before
    /// anything changes.
    public func restoreState(_ state: CallbackState) throws {
        let restored = try RestoredKernelTracking(state, expectedKind: configuration.kind, path: "kernel tracking state", run: nil)
        let kernels = try restored.kernels(in: (runDirectory as NSString).appendingPathComponent(KernelSnapshotStore.folderName))
        probeIndices = restored.probe
        initialKernel = kernels?.initial
        previousKernel = kernels?.previous
        lastKernelStep = restored.lastKernelStep
        if let index = restored.index {
            let restoredStore = KernelSnapshotStore(runDirectory: runDirectory, index: index)
            // Kernels saved after the checkpoint are dropped from the index; the resumed run recomputes
            // (and overwrites) them.
            try restoredStore.writeIndex()
            store = restoredStore
        } else {
            store = nil
        }
    }
}
