import Foundation
import NTK
import TensorBoard

/// Mirrors a run into TensorBoard event files in `directory`, live: every metric the run logs (through
/// its ``MetricsLog``), the batch loss and learning rate of every step, and the spectrum of every kernel
/// the ``KernelDynamicsCallback`` tracks.
///
/// - Scalars: each metric row becomes a point at its step, tagged by its group — `train_loss` →
///   `train/loss`, `test_robust_accuracy` → `test/robust_accuracy`, `ntk_distance_to_initial` →
///   `ntk/distance_to_initial` (see ``tag(forMetric:)``); the value is stored as a 32-bit float. Every
///   step adds `train/batch_loss` and `train/learning_rate`, which the metric files do not hold.
/// - Histograms: every tracked kernel's full eigenvalue spectrum at the kernel's step, as
///   `ntk/eigenvalues` and, for the positive ones, `ntk/log10_eigenvalues` (the readable one: a few
///   eigenvalues dominate a kernel's spectrum). Its top eigenvalues are scalars already
///   (`ntk/top_eigenvalue_1` …). The spectrum costs one more eigensolve of the probe's kernel per
///   snapshot (no eigenvectors).
///
/// Add it after the kernel tracker (``TrainingSession/standardCallbacks(_:runDirectory:extra:progress:)``
/// puts `extra` callbacks there). Each event is written as soon as it exists, with no buffering, so a
/// TensorBoard reading the folder shows curves while the run trains.
///
/// **Files and resume.** Every `fit` of a new loop writes a new file (`events.out.tfevents.SECONDS.HOST`;
/// TensorBoard reads the files of a folder in name order as one run). A new run refuses a folder that
/// already holds event files. A resumed run — whose steps after its checkpoint may already be in the
/// folder, written before the run stopped — starts its file with a session-log `START` at the
/// checkpoint's step, which tells TensorBoard to drop what it read at that step or later, then writes
/// again the events of that step that preceded the checkpoint (kept as this callback's state), and goes
/// on: TensorBoard shows each step once, with the resumed run's values. (TensorBoard's Rust data server
/// reaches the same view by keeping, per series, the newest write of a step and dropping later steps.)
/// A resumed run whose folder holds no event files (a branch into a new folder, or TensorBoard switched
/// on at the resume) first writes every row of the metric log as scalars; spectra of earlier kernels
/// are not recomputed then, only the latest kernel's.
///
/// State (``stateKey`` `tensorboard`): the records of the newest step written and the step of the
/// newest spectrum.
public final class TensorBoardCallback: TrainingCallback, MetricsLogObserver {
    /// The folder of the event files.
    public let directory: String
    /// Buckets of each spectrum histogram.
    public static let histogramBucketCount = 30
    /// Metric-name prefixes that become tag groups (`train_loss` → `train/loss`).
    public static let tagGroups = ["train", "test", "ntk"]

    private var writer: EventFileWriter?
    /// Rows logged before this callback's `fitStart` opened its file (another callback's, e.g. K₀'s metrics).
    private var pendingRows: [(name: String, value: Double, step: Int)] = []
    /// The newest step written and the records of its events so far.
    private var group: (step: Int, records: [UInt8])?
    /// Whether a checkpoint's state was restored (the run resumes).
    private var restored = false
    /// The step of the newest kernel whose spectrum was written.
    public private(set) var lastSpectrumStep: Int?

    /// A callback writing event files into `directory` (created when the run starts).
    public init(directory: String) {
        self.directory = directory
    }

    /// The TensorBoard tag of a metric: `GROUP/REST` for a name `GROUP_REST` whose group is one of
    /// ``tagGroups``, else the name itself.
    public static func tag(forMetric name: String) -> String {
        for group in tagGroups where name.hasPrefix(group + "_") && name.count > group.count + 1 {
            return group + "/" + name.dropFirst(group.count + 1)
        }
        return name
    }

    /// Checks, before a run starts, that `directory` can take a run's event files: it is created if
    /// missing and must be writable, and for a new run (`newRun`) it must not hold event files already.
    public static func prepare(directory: String, newRun: Bool) throws {
        do {
            try EventFileWriter.createDirectory(directory)
            let existing = try EventFileWriter.eventFiles(in: directory)
            if newRun, !existing.isEmpty {
                throw ConfigurationError("the TensorBoard folder \(directory) already holds event files (\(existing.prefix(2).joined(separator: ", "))\(existing.count > 2 ? ", …" : "")); TensorBoard would mix a new run with them: choose an empty folder")
            }
        } catch let error as EventFileError { throw ConfigurationError(error.description) }
    }

    // MARK: Events

    public func fitStart(_ loop: TrainingLoop) throws {
        loop.log.addObserver(self)
        if writer == nil { try open(loop) }
        try writeNewSpectrum(loop)
    }

    public func batchEnd(_ loop: TrainingLoop) throws {
        try write(step: loop.step, [TensorBoardSummaryValue(tag: "train/batch_loss", .scalar(loop.lastLoss)),
                                    TensorBoardSummaryValue(tag: "train/learning_rate", .scalar(loop.optimizer.learningRate))])
        try writeNewSpectrum(loop)
    }

    public func epochEnd(_ loop: TrainingLoop) throws {
        try writeNewSpectrum(loop)
    }

    public func fitEnd(_ loop: TrainingLoop) throws {
        try writeNewSpectrum(loop)
    }

    /// Writes the row as a scalar event (or keeps it until `fitStart` opens the file).
    public func metricLogged(_ name: String, _ value: Double, epoch: Int, step: Int) throws {
        guard writer != nil else {
            pendingRows.append((name, value, step))
            return
        }
        try write(step: step, [TensorBoardSummaryValue(tag: Self.tag(forMetric: name), .scalar(Float(value)))])
    }

    // MARK: Writing

    /// Opens this fit's file and brings TensorBoard's view of the folder up to the loop's step.
    private func open(_ loop: TrainingLoop) throws {
        let existing: [String]
        do { existing = try EventFileWriter.eventFiles(in: directory) }
        catch let error as EventFileError { throw ConfigurationError(error.description) }
        let fresh = !restored && loop.step == 0
        if fresh { try Self.prepare(directory: directory, newRun: true) }
        do { writer = try EventFileWriter(directory: directory) }
        catch let error as EventFileError { throw ConfigurationError(error.description) }
        let rows = pendingRows
        pendingRows = []
        if fresh {
            for row in rows { try metricLogged(row.name, row.value, epoch: loop.epoch, step: row.step) }
        } else if restored, !existing.isEmpty {
            // The folder holds this run up to the checkpoint, and maybe beyond: restart TensorBoard's view
            // at the checkpoint's step, then put back what the checkpoint's step held.
            let kept = group
            group = nil
            try writer!.write([TensorBoardEvent(wallTime: Date().timeIntervalSince1970, step: Int64(loop.step),
                                                payload: .sessionLog(.start))])
            if let kept, kept.step == loop.step {
                try writer!.write(records: kept.records)
                group = kept
            }
            for row in rows { try metricLogged(row.name, row.value, epoch: loop.epoch, step: row.step) }
        } else {
            // No history of this run in the folder (or history this callback did not write): write the
            // metric log, which holds every row up to now, in full.
            if !existing.isEmpty {
                try writer!.write([TensorBoardEvent(wallTime: Date().timeIntervalSince1970, step: 0, payload: .sessionLog(.start))])
            }
            group = nil
            lastSpectrumStep = nil
            for row in try MetricRow.read(path: loop.log.jsonlPath) {
                try metricLogged(row.name, row.value ?? .nan, epoch: row.epoch, step: row.step)
            }
        }
    }

    /// Writes one event at `step` holding `values`, and keeps its record with the step's others.
    private func write(step: Int, _ values: [TensorBoardSummaryValue]) throws {
        guard let writer else { throw ConfigurationError("the TensorBoard callback wrote before the run started (fitStart opens its file)") }
        let records: [UInt8]
        do { records = try writer.write([TensorBoardEvent(wallTime: Date().timeIntervalSince1970, step: Int64(step), payload: .summary(values))]) }
        catch let error as EventFileError { throw ConfigurationError(error.description) }
        if let current = group, current.step == step { group = (step, current.records + records) } else { group = (step, records) }
    }

    /// Writes the spectrum of the tracker's newest kernel unless it is written already.
    private func writeNewSpectrum(_ loop: TrainingLoop) throws {
        guard let tracker = loop.callbacks.lazy.compactMap({ $0 as? KernelDynamicsCallback }).first,
              let step = tracker.lastKernelStep, step != lastSpectrumStep, let kernel = tracker.previousKernel else { return }
        loop.announce("computing the kernel's spectrum for TensorBoard (\(kernel.n) eigenvalues)")
        let eigenvalues = try KernelMetrics.topEigenvalues(kernel, count: kernel.n)
        var values = [TensorBoardSummaryValue(tag: "ntk/eigenvalues", .histogram(try histogram(eigenvalues)))]
        let positive = eigenvalues.filter { $0 > 0 }
        if !positive.isEmpty {
            values.append(TensorBoardSummaryValue(tag: "ntk/log10_eigenvalues", .histogram(try histogram(positive.map { log10($0) }))))
        }
        try write(step: step, values)
        lastSpectrumStep = step
    }

    private func histogram(_ values: [Double]) throws -> TensorBoardHistogram {
        do { return try TensorBoardHistogram(values: values, bucketCount: Self.histogramBucketCount) }
        catch let error as EventFileError { throw ConfigurationError("the kernel's spectrum cannot be written to TensorBoard: \(error.description)") }
    }

    // MARK: Checkpoint state

    public var stateKey: String? { "tensorboard" }

    public func saveState() throws -> CallbackState {
        var state = CallbackState()
        if let group {
            state.strings["group_step"] = "\(group.step)"
            state.strings["group_records"] = Data(group.records).base64EncodedString()
        }
        if let lastSpectrumStep { state.strings["spectrum_step"] = "\(lastSpectrumStep)" }
        return state
    }

    public func restoreState(_ state: CallbackState) throws {
        func step(_ key: String) throws -> Int? {
            guard let text = state.strings[key] else { return nil }
            guard let value = Int(text), value >= 0 else { throw ConfigurationError("the TensorBoard state's \(key) is not a step: '\(text.prefix(40))'") }
            return value
        }
        var restoredGroup: (step: Int, records: [UInt8])?
        if let groupStep = try step("group_step") {
            guard let encoded = state.strings["group_records"], let data = Data(base64Encoded: encoded) else {
                throw ConfigurationError("the TensorBoard state has a step but no readable records")
            }
            let records = [UInt8](data)
            do {
                let events = try EventFileReader.events(in: records, source: "the TensorBoard state's records")
                guard events.allSatisfy({ $0.step == Int64(groupStep) }) else {
                    throw ConfigurationError("the TensorBoard state's records are not all at step \(groupStep)")
                }
            } catch let error as EventFileError { throw ConfigurationError(error.description) }
            restoredGroup = (groupStep, records)
        }
        group = restoredGroup
        lastSpectrumStep = try step("spectrum_step")
        restored = true
    }
}
