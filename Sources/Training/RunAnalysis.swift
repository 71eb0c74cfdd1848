import Checkpoints
import Foundation
import NTK
import Robustness

/// Post-run analysis of a run folder (PAPER.md Section 5): from `metrics.jsonl` and the saved kernels
/// (`kernels/index.json`), the all-pairs kernel-distance matrix, polar trajectories relative to K_0 and
/// the final K_T (whole kernel, top-k and bottom (n − k) spectral truncations), top-k concentration and
/// magnitude curves, the kernel velocity ‖K_t − K_{t−1}‖, each kernel's leading spectrum, the raw entries of
/// the first and last kernels, and clean/robust accuracy curves. ``RunComparison`` overlays several runs.
///
/// Kernels are streamed from disk: the spectral pass holds K_0 (and its two truncations) plus the
/// current and previous kernels; the distance matrix is built in blocks sized to ``Options/memoryBudgetMB``.
///
/// ```swift
/// let analysis = try RunAnalysis.compute(runDirectory: "checkpoints/mnist-cnn-20261121-130000")
/// for path in try analysis.write() { print(path) }
/// ```
public struct RunAnalysis: Sendable {
    /// Analysis settings.
    public struct Options: Sendable, Equatable {
        /// k of the spectral truncations (top k and bottom n − k) and of the second concentration rank.
        public var topK: Int
        /// Memory the all-pairs distance pass may use for kernels held at once, in megabytes.
        public var memoryBudgetMB: Int
        /// How many leading eigenvalues to report per kernel.
        public var eigenvalueCount: Int
        /// How many leading eigenvalues make up each kernel's spectrum (``RunAnalysis/spectra``).
        public var spectrumCount: Int
        /// The raw-entry heatmaps show the leading block of at most this many rows and columns of the first
        /// and last kernels (for a full kernel, whose rows are sample-major, the first samples' classes).
        public var entryBlockSide: Int

        /// The paper's settings: top 20, five eigenvalues, 2 GB for the distance pass; spectra of 50
        /// eigenvalues and raw-entry blocks of at most 100 × 100.
        public init(topK: Int = 20, memoryBudgetMB: Int = 2048, eigenvalueCount: Int = 5, spectrumCount: Int = 50,
                    entryBlockSide: Int = 100) {
            self.topK = topK
            self.memoryBudgetMB = memoryBudgetMB
            self.eigenvalueCount = eigenvalueCount
            self.spectrumCount = spectrumCount
            self.entryBlockSide = entryBlockSide
        }
    }

    /// The three polar trajectories of PAPER.md Eq. 13, one point per kernel.
    public struct PolarTrajectories: Sendable, Equatable {
        /// Of the whole kernels.
        public var whole: [KernelMetrics.PolarPoint]
        /// Of each kernel's top-k truncation.
        public var top: [KernelMetrics.PolarPoint]
        /// Of each kernel's bottom (n − k) truncation; empty when n ≤ k.
        public var bottom: [KernelMetrics.PolarPoint]
    }

    /// One accuracy metric per epoch.
    public struct Curve: Sendable, Equatable {
        /// The metric name, e.g. `test_robust_accuracy`.
        public var name: String
        /// The epochs that logged it.
        public var epochs: [Int]
        /// Its value at each of those epochs (the last one logged in the epoch).
        public var values: [Double]
    }

    /// The accuracy metrics plotted, in legend order.
    public static let accuracyMetrics = ["train_accuracy", "test_accuracy", "train_robust_accuracy", "test_robust_accuracy"]

    /// The analysed run folder.
    public var runDirectory: String
    /// The settings used.
    public var options: Options
    /// The kernel index, nil when the run tracked no kernels.
    public var index: KernelSnapshotIndex?
    /// `epoch` when every kernel was taken at an epoch boundary (or at the start), `step` otherwise.
    public var timeAxis: String
    /// Each kernel's position on ``timeAxis``.
    public var times: [Int]
    /// `D[s][t] = d(K_s, K_t)`, T × T with a zero diagonal.
    public var distances: [[Double]]
    /// Polar trajectories relative to K_0 and K_T.
    public var polar: PolarTrajectories
    /// `‖K_t‖` per kernel.
    public var magnitudes: [Double]
    /// The concentration ranks (10 and ``Options/topK``, without duplicates).
    public var concentrationRanks: [Int]
    /// `mass_k(t) = Σ_{i≤k} λ_i² / ‖K_t‖²` (the paper's concentration) per rank (outer, in
    /// ``concentrationRanks`` order) and kernel (inner).
    public var concentration: [[Double]]
    /// `Σ_{i≤k} λ_i / trace K_t`, the eigenvalue share of the top k, per rank (outer, in
    /// ``concentrationRanks`` order) and kernel (inner).
    public var eigenvalueMass: [[Double]]
    /// The leading ``Options/eigenvalueCount`` eigenvalues of each kernel, descending.
    public var topEigenvalues: [[Double]]
    /// The leading ``Options/spectrumCount`` eigenvalues of each kernel, descending.
    public var spectra: [[Double]]
    /// The kernel velocity `‖K_t − K_{t−1}‖` (Frobenius) between consecutive kernels: entry `t − 1` belongs
    /// to kernel `t`, so there is one value fewer than kernels.
    public var velocities: [Double]
    /// The leading block (``Options/entryBlockSide``) of the first kernel's entries, as rows; empty
    /// without kernels.
    public var initialEntries: [[Double]]
    /// The same block of the last kernel's entries.
    public var finalEntries: [[Double]]
    /// Accuracy curves present in the metrics, in ``accuracyMetrics`` order.
    public var accuracy: [Curve]
    /// The attack the robust accuracy curves were measured with, from the run's stored settings (see
    /// ``storedRobustAttack(runDirectory:)``); nil when the run folder does not record it. Callers that
    /// know it another way may set it before writing.
    public var robustAttack: PGDConfiguration?

    /// Analyses the run folder at `runDirectory`.
    public static func compute(runDirectory: String, options: Options = Options()) throws -> RunAnalysis {
        guard options.topK >= 1 else { throw ConfigurationError("the number of top eigenvalues must be positive, got \(options.topK)") }
        guard options.memoryBudgetMB >= 1 else { throw ConfigurationError("the analysis memory budget must be positive, got \(options.memoryBudgetMB) MB") }
        guard options.eigenvalueCount >= 0 else { throw ConfigurationError("the number of reported eigenvalues cannot be negative, got \(options.eigenvalueCount)") }
        guard options.spectrumCount >= 0 else { throw ConfigurationError("the number of spectrum eigenvalues cannot be negative, got \(options.spectrumCount)") }
        guard options.entryBlockSide >= 1 else { throw ConfigurationError("the raw-entry block side must be positive, got \(options.entryBlockSide)") }
        let metricsPath = (runDirectory as NSString).appendingPathComponent("metrics.jsonl")
        guard FileManager.default.fileExists(atPath: metricsPath) else {
            throw ConfigurationError("\(runDirectory) has no metrics.jsonl: not a run folder")
        }
        let rows = try MetricRow.read(path: metricsPath)
        // The index is checked when read, and every kernel against it when loaded.
        let index = try KernelSnapshotStore.readIndex(runDirectory: runDirectory)
        let snapshots = index?.snapshots ?? []

        let byEpoch = snapshots.allSatisfy { $0.trigger != .step }
        let ranks = Array(Set([10, options.topK])).sorted()
        var analysis = RunAnalysis(
            runDirectory: runDirectory, options: options, index: index, timeAxis: byEpoch ? "epoch" : "step",
            times: snapshots.map { byEpoch ? $0.epoch : $0.step }, distances: [],
            polar: PolarTrajectories(whole: [], top: [], bottom: []), magnitudes: [], concentrationRanks: ranks,
            concentration: ranks.map { _ in [] }, eigenvalueMass: ranks.map { _ in [] }, topEigenvalues: [], spectra: [],
            velocities: [], initialEntries: [], finalEntries: [], accuracy: accuracyCurves(rows),
            robustAttack: try storedRobustAttack(runDirectory: runDirectory))
        guard let index, !snapshots.isEmpty else { return analysis }

        let kernelDirectory = (runDirectory as NSString).appendingPathComponent(KernelSnapshotStore.folderName)
        let load = { (t: Int) throws -> KernelMatrix in try KernelSnapshotStore.load(snapshots[t], in: kernelDirectory, index: index) }
        try analysis.spectralPass(count: snapshots.count, load: load)
        let kernelMB = max(1, (KernelSize.bytes(samples: index.samples, classes: index.classes) ?? 0) >> 20)
        let blockSize = max(1, options.memoryBudgetMB / kernelMB - 1)
        analysis.distances = try KernelMetrics.allPairsDistance(count: snapshots.count, blockSize: blockSize, load: load)
        return analysis
    }

    /// One pass over the kernels: magnitude, concentration, eigenvalues, velocity, the raw-entry blocks and
    /// the three polar trajectories. Each kernel is loaded once and eigen-solved once (its top-k
    /// eigenspace gives both truncations).
    private mutating func spectralPass(count: Int, load: (Int) throws -> KernelMatrix) throws {
        let k = options.topK
        let solved = max(k, concentrationRanks.max() ?? 0, options.eigenvalueCount, options.spectrumCount)
        var initial: (whole: KernelMatrix, top: KernelMatrix, bottom: KernelMatrix?)?
        var previous: KernelMatrix?
        var displacement = (whole: [Double](), top: [Double](), bottom: [Double]())
        var angle = (whole: [Double](), top: [Double](), bottom: [Double]())
        for t in 0..<count {
            let kernel = try load(t)
            let eigenspace = try KernelMetrics.topEigenspace(kernel, count: solved)
            let summary = eigenspace.summary(topCount: max(options.eigenvalueCount, options.spectrumCount), ranks: concentrationRanks)
            magnitudes.append(summary.magnitude)
            topEigenvalues.append(Array(summary.topEigenvalues.prefix(options.eigenvalueCount)))
            spectra.append(Array(summary.topEigenvalues.prefix(options.spectrumCount)))
            for (r, mass) in summary.concentration.enumerated() { concentration[r].append(mass) }
            for (r, mass) in summary.eigenvalueMass.enumerated() { eigenvalueMass[r].append(mass) }
            if let previous { velocities.append(try KernelMetrics.differenceNorm(kernel, previous)) }
            previous = kernel
            if t == 0 { initialEntries = Self.leadingBlock(of: kernel, side: options.entryBlockSide) }
            if t == count - 1 { finalEntries = Self.leadingBlock(of: kernel, side: options.entryBlockSide) }

            let top = eigenspace.truncation(.top(min(k, kernel.n)))!
            let bottom = k < kernel.n ? eigenspace.truncation(.bottom(kernel.n - k)) : nil
            if initial == nil { initial = (kernel, top, bottom) }
            let k0 = initial!
            if t == 0 {
                // K_0 against itself: exactly the origin (arccos of a rounded 1 would give ~1e-8).
                displacement.whole.append(0); angle.whole.append(0)
                displacement.top.append(0); angle.top.append(0)
                if bottom != nil { displacement.bottom.append(0); angle.bottom.append(0) }
                continue
            }
            displacement.whole.append(try KernelMetrics.differenceNorm(kernel, k0.whole))
            angle.whole.append(try KernelMetrics.angle(kernel, k0.whole))
            displacement.top.append(try KernelMetrics.differenceNorm(top, k0.top))
            angle.top.append(try KernelMetrics.angle(top, k0.top))
            if let bottom, let b0 = k0.bottom {
                displacement.bottom.append(try KernelMetrics.differenceNorm(bottom, b0))
                angle.bottom.append(try KernelMetrics.angle(bottom, b0))
            }
        }
        polar = PolarTrajectories(
            whole: KernelMetrics.polarDynamics(displacements: displacement.whole, angles: angle.whole),
            top: KernelMetrics.polarDynamics(displacements: displacement.top, angles: angle.top),
            bottom: KernelMetrics.polarDynamics(displacements: displacement.bottom, angles: angle.bottom))
    }

    /// The leading `side` × `side` block of a kernel's entries (the whole kernel when it is smaller).
    static func leadingBlock(of kernel: KernelMatrix, side: Int) -> [[Double]] {
        let m = min(side, kernel.n)
        return (0..<m).map { i in (0..<m).map { j in Double(kernel.values[i * kernel.n + j]) } }
    }

    /// The robust-evaluation attack recorded under `robustEvaluationAttack` in a run folder's `config.json`
    /// (as ``TrainingSettings`` and `tangent train` write it). Nil when the folder has no `config.json` or
    /// the file does not record the attack (a run that used its data set's default); an unreadable file or
    /// a malformed value is an error naming the file and key.
    public static func storedRobustAttack(runDirectory: String) throws -> PGDConfiguration? {
        let path = (runDirectory as NSString).appendingPathComponent("config.json")
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let bytes: [UInt8]
        do { bytes = try PlainFile.read(path) }
        catch let error as CheckpointError { throw ConfigurationError("cannot read \(path): \(error.message)") }
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)), let settings = object as? [String: Any] else {
            throw ConfigurationError("\(path) is not a JSON object")
        }
        guard let stored = settings["robustEvaluationAttack"], !(stored is NSNull) else { return nil }
        do {
            guard let fields = stored as? [String: Any] else { throw ConfigurationError("not an object") }
            let value = try JSONDecoder().decode(PGDConfiguration.self, from: JSONSerialization.data(withJSONObject: fields))
            try value.validate()
            return value
        } catch {
            throw ConfigurationError("\(path): 'robustEvaluationAttack' is not an attack setting (\(error))")
        }
    }

    /// The accuracy metrics found in `rows`, one value per epoch (the last logged).
    static func accuracyCurves(_ rows: [MetricRow]) -> [Curve] {
        accuracyMetrics.compactMap { name in
            var byEpoch: [Int: Double] = [:]
            for row in rows where row.name == name {
                if let v = row.value { byEpoch[row.epoch] = v }
            }
            guard !byEpoch.isEmpty else { return nil }
            let epochs = byEpoch.keys.sorted()
            return Curve(name: name, epochs: epochs, values: epochs.map { byEpoch[$0]! })
        }
    }
}
