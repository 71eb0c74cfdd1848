import Checkpoints
import Foundation
import NTK

/// The kernel tracker's checkpoint state (``KernelDynamicsCallback``, key `kernel_dynamics`) decoded and
/// checked before anything uses it: the probe indices, the step of the last kernel and the kernel shape
/// are whole numbers in range; K₀ and the previous kernel — referenced as the first and last snapshots of
/// the index, by file name and checksum, or (in checkpoints written before references) embedded — are
/// square, of the side the shape and probe give, and finite; the snapshot index agrees with all of them. With a ``Run`` the state is also checked
/// against the run it is restored into (training-set size, step, epoch, the model's outputs).
///
/// Errors are ``CheckpointStateError``s naming the file, the key (as stored: `callback.kernel_dynamics.NAME`)
/// and the value.
struct RestoredKernelTracking {
    /// What the state must fit besides itself.
    struct Run {
        /// Images in the training set (probe indices must be below it).
        var trainingImages: Int
        /// The checkpoint's step (no kernel or snapshot can be later).
        var step: Int
        /// The checkpoint's completed epochs (no snapshot can be later).
        var epoch: Int
        /// Logits per sample of the run's model, when known (the classes of a full kernel).
        var outputs: Int?
    }

    /// The checkpoint key prefix of the state.
    static let keyPrefix = "callback.kernel_dynamics."

    var kind: KernelKind?
    var probe: [Int]?
    /// K₀ as embedded in the checkpoint (older checkpoints); newer ones reference its file, see ``references``.
    var initialKernel: KernelMatrix?
    /// The newest kernel as embedded in the checkpoint (older checkpoints).
    var previousKernel: KernelMatrix?
    /// The snapshots of K₀ and of the newest kernel when the checkpoint references their files (by name
    /// and checksum) instead of embedding them.
    var references: (initial: KernelSnapshot, previous: KernelSnapshot)?
    var lastKernelStep: Int?
    var index: KernelSnapshotIndex?

    /// Decodes and checks `state`; `expectedKind` is the kind the restoring tracker computes, `path` the
    /// file the state came from.
    init(_ state: CallbackState, expectedKind: KernelKind?, path: String, run: Run?) throws {
        func fail(_ problem: String) -> CheckpointStateError { CheckpointStateError(path: path, problem) }
        func key(_ name: String) -> String { "'\(Self.keyPrefix)\(name)'" }
        /// A stored Double that must be a whole number in `range`.
        func count(_ value: Double, _ name: String, position: Int? = nil, in range: ClosedRange<Int>, meaning: String) throws -> Int {
            guard let v = Int(exactly: value), range.contains(v) else {
                let at = position.map { "[\($0)]" } ?? ""
                let upper = range.upperBound == Int.max ? "" : "\(range.upperBound)"
                throw fail("\(key(name))\(at) = \(value) is not \(meaning) (a whole number in \(range.lowerBound)…\(upper))")
            }
            return v
        }

        if let text = state.strings["kind"] {
            guard let stored = KernelKind(rawValue: text) else {
                throw fail("metadata \(key("kind")) = '\(text)' is not a kernel kind (\(KernelKind.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            if let expectedKind, stored != expectedKind {
                throw fail("the checkpoint tracked \(stored.rawValue) kernels but this run asks for \(expectedKind.rawValue) ones; their dynamics cannot continue each other")
            }
            kind = stored
        }

        if let stored = state.doubles["probe_indices"] {
            guard !stored.isEmpty else { throw fail("\(key("probe_indices")) is empty") }
            let limit = run.map { $0.trainingImages - 1 } ?? Int.max
            guard limit >= 0 else { throw fail("\(key("probe_indices")) lists indices but the training set is empty") }
            let indices = try stored.enumerated().map {
                try count($1, "probe_indices", position: $0, in: 0...limit, meaning: "a training-set index")
            }
            guard Set(indices).count == indices.count else { throw fail("\(key("probe_indices")) lists an index twice") }
            probe = indices
        }

        if let stored = state.doubles["last_kernel_step"] {
            guard stored.count == 1 else { throw fail("\(key("last_kernel_step")) holds \(stored.count) values, expected 1") }
            lastKernelStep = try count(stored[0], "last_kernel_step", in: 0...(run?.step ?? Int.max),
                                       meaning: "a step of this run")
        }

        // The kernels' side follows from the probe and kernel_shape = [samples, classes (0: traced)].
        var shape: (samples: Int, classes: Int?)?
        if let stored = state.doubles["kernel_shape"] {
            guard stored.count == 2 else { throw fail("\(key("kernel_shape")) holds \(stored.count) values, expected [samples, classes]") }
            let samples = try count(stored[0], "kernel_shape", position: 0, in: 1...Int.max, meaning: "a sample count")
            let classes = try count(stored[1], "kernel_shape", position: 1, in: 0...Int.max, meaning: "a class count")
            guard let probe else { throw fail("\(key("kernel_shape")) is stored without \(key("probe_indices"))") }
            guard samples == probe.count else {
                throw fail("\(key("kernel_shape"))[0] = \(samples) samples but \(key("probe_indices")) lists \(probe.count)")
            }
            switch (kind, classes) {
            case (.full?, 0): throw fail("\(key("kernel_shape"))[1] = 0 classes, but full kernels have at least one")
            case (.traced?, let c) where c != 0: throw fail("\(key("kernel_shape"))[1] = \(c) classes, but traced kernels have none (0)")
            default: break
            }
            if classes > 0, let outputs = run?.outputs, classes != outputs {
                throw fail("\(key("kernel_shape"))[1] = \(classes) classes but the model has \(outputs) outputs")
            }
            guard KernelSize.bytes(samples: samples, classes: classes > 0 ? classes : nil) != nil else {
                throw fail("\(key("kernel_shape")) = [\(samples), \(classes)] describes a kernel too large to hold")
            }
            shape = (samples, classes > 0 ? classes : nil)
        }

        func kernel(_ name: String) throws -> KernelMatrix? {
            guard let stored = state.floats[name] else { return nil }
            guard let shape else { throw fail("\(key(name)) is stored without \(key("kernel_shape"))") }
            let side = KernelSize.side(samples: shape.samples, classes: shape.classes) ?? 0
            guard stored.shape == [side, side], stored.values.count == side * side else {
                throw fail("\(key(name)) has shape \(stored.shape) (\(stored.values.count) values) but \(key("kernel_shape")) = [\(shape.samples), \(shape.classes ?? 0)] gives a \(side)×\(side) kernel")
            }
            if let bad = stored.values.firstIndex(where: { !$0.isFinite }) {
                throw fail("\(key(name)) entry (\(bad / side), \(bad % side)) is \(stored.values[bad]); a kernel holds finite values")
            }
            return KernelMatrix(n: side, values: stored.values, sampleCount: shape.samples, classCount: shape.classes)
        }
        initialKernel = try kernel("initial_kernel")
        previousKernel = try kernel("previous_kernel")
        let embedded = initialKernel != nil || previousKernel != nil
        // The tracker sets K₀, the previous kernel and its step together (the kernels embedded, or
        // referenced through the index).
        if embedded {
            let present = [initialKernel != nil, previousKernel != nil, lastKernelStep != nil]
            guard present.allSatisfy({ $0 }) else {
                throw fail("\(key("initial_kernel")), \(key("previous_kernel")) and \(key("last_kernel_step")) are stored together; this state has \(zip(["initial_kernel", "previous_kernel", "last_kernel_step"], present).filter(\.1).map(\.0).joined(separator: ", ")) only")
            }
        }

        if let json = state.strings["index"] {
            let stored = try KernelSnapshotIndex.decode(Data(json.utf8), path: "\(path): metadata \(key("index"))")
            let indexKey = "metadata \(key("index"))"
            if let kind, stored.kind != kind { throw fail("\(indexKey) lists \(stored.kind.rawValue) kernels, the state \(kind.rawValue) ones") }
            if let probe, stored.probe != probe { throw fail("\(indexKey) has probe \(stored.probe), \(key("probe_indices")) \(probe)") }
            if let shape, stored.samples != shape.samples || stored.classes != shape.classes {
                throw fail("\(indexKey) describes \(stored.samples) samples and \(stored.classes.map(String.init) ?? "no") classes, \(key("kernel_shape")) = [\(shape.samples), \(shape.classes ?? 0)]")
            }
            if let last = stored.snapshots.last, last.step != lastKernelStep {
                throw fail("\(indexKey) ends at step \(last.step) but \(key("last_kernel_step")) is \(lastKernelStep.map(String.init) ?? "missing")")
            }
            if let run, let late = stored.snapshots.first(where: { $0.step > run.step || $0.epoch > run.epoch }) {
                throw fail("\(indexKey) lists '\(late.file)' at step \(late.step), epoch \(late.epoch), after the checkpoint (step \(run.step), epoch \(run.epoch))")
            }
            index = stored
            if !embedded, lastKernelStep != nil, let first = stored.snapshots.first, let last = stored.snapshots.last {
                guard first.checksum != nil, last.checksum != nil else {
                    throw fail("\(indexKey) records no checksum for '\((first.checksum == nil ? first : last).file)', and the state embeds no kernels: K₀ and the newest kernel cannot be restored")
                }
                references = (first, last)
            }
        }
        if !embedded, lastKernelStep != nil, references == nil {
            throw fail("\(key("last_kernel_step")) is stored without the kernels: neither embedded (\(key("initial_kernel")), \(key("previous_kernel"))) nor referenced by \(key("index"))")
        }
        if embedded, lastKernelStep == nil {
            throw fail("\(key("initial_kernel")) and \(key("previous_kernel")) are stored without \(key("last_kernel_step"))")
        }
    }

    /// K₀ and the newest kernel: the embedded ones, or the referenced files read from `kernelsFolder` (a
    /// run's `kernels/`), each checked against its recorded checksum and the index's kernel size. Nil
    /// when the tracker had computed no kernel yet.
    func kernels(in kernelsFolder: String) throws -> (initial: KernelMatrix, previous: KernelMatrix)? {
        if let initialKernel, let previousKernel { return (initialKernel, previousKernel) }
        guard let references, let index else { return nil }
        let initial = try KernelSnapshotStore.load(references.initial, in: kernelsFolder, index: index)
        let previous = references.previous == references.initial
            ? initial : try KernelSnapshotStore.load(references.previous, in: kernelsFolder, index: index)
        return (initial, previous)
    }
}

extension TrainingCheckpoint {
    /// The state a checkpoint holds for the callback with `key` (tensors `callback.KEY.NAME`, metadata
    /// strings `callback.KEY.NAME`), or nil when it holds none.
    static func callbackState(_ c: Checkpoint, key: String, path: String) throws -> CallbackState? {
        guard c.metadata["callback.\(key)"] != nil else { return nil }
        var state = CallbackState()
        let prefix = "callback.\(key)."
        for name in c.names where name.hasPrefix(prefix) {
            guard let t = c[name] else { continue }
            let short = String(name.dropFirst(prefix.count))
            switch t.dtype {
            case .float32: state.floats[short] = (t.shape, try t.floats())
            case .float64: state.doubles[short] = try t.doubles()
            default: throw CheckpointStateError(path: path, "callback tensor '\(name)' has unsupported type \(t.dtype)")
            }
        }
        for (k, v) in c.metadata where k.hasPrefix(prefix) { state.strings[String(k.dropFirst(prefix.count))] = v }
        return state
    }

    /// Checks that the kernels the tracker's state in `c` references — K₀ and the newest kernel, by file
    /// name and checksum — are in `runFolder`'s `kernels/`, unchanged and of the right size, before
    /// anything is written. A checkpoint that references kernels but lies outside a run folder (nil) is
    /// refused: its K₀ cannot be found.
    static func checkReferencedKernels(_ c: Checkpoint, path: String, runFolder: String?) throws {
        guard let state = try callbackState(c, key: "kernel_dynamics", path: path) else { return }
        let restored = try RestoredKernelTracking(state, expectedKind: nil, path: path, run: nil)
        guard let references = restored.references else { return }
        guard let runFolder else {
            throw CheckpointStateError(path: path, "references the kernels '\(references.initial.file)' (K₀) and '\(references.previous.file)' (the newest) of its run folder's \(KernelSnapshotStore.folderName)/, but lies outside a run folder; continue the checkpoint from inside its run folder")
        }
        do { _ = try restored.kernels(in: (runFolder as NSString).appendingPathComponent(KernelSnapshotStore.folderName)) }
        catch { throw CheckpointStateError(path: path, "references kernels that cannot be used: \(error)") }
    }

    /// Checks the kernel tracker's state in `c` (when it holds one) against itself and the run, before
    /// anything is restored or written (see ``RestoredKernelTracking``).
    static func checkKernelTracking(_ run: RunComponents, _ c: Checkpoint, path: String, step: Int, epoch: Int) throws {
        guard let state = try callbackState(c, key: "kernel_dynamics", path: path) else { return }
        var outputs: Int?
        if state.doubles["kernel_shape"].map({ $0.count == 2 && $0[1] != 0 }) == true, run.data.train.count > 0 {
            // A full kernel has one row per sample and logit: the model's outputs (one image tells).
            outputs = try? run.model(BatchAssembly.batch(run.data.train, indices: 0..<1).inputs).shape.last
        }
        _ = try RestoredKernelTracking(state, expectedKind: run.settings.kernelTracking?.kind, path: path,
                                       run: .init(trainingImages: run.data.train.count, step: step, epoch: epoch, outputs: outputs))
    }
}
