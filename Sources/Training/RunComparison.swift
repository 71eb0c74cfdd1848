import Foundation
import NTK

/// Several runs' analyses side by side — the paper's central comparison, standard against adversarial
/// training, on one chart: kernel distance to K₀, magnitude, both top-k concentrations, velocity, polar
/// trajectories and spectra of every run overlaid, each run labelled, plus clean and robust accuracy.
///
/// Kernels are overlaid only when they are comparable: every run that tracked kernels must have tracked
/// the same kind (full or traced) on the same probe (the same training-set indices). Otherwise
/// ``kernelRefusal`` says why and only the accuracy curves are overlaid. Runs that tracked no kernels
/// join the accuracy charts only.
///
/// ```swift
/// let comparison = try RunComparison(runs: [
///     .init(label: "standard", analysis: try RunAnalysis.compute(runDirectory: "checkpoints/std")),
///     .init(label: "PGD", analysis: try RunAnalysis.compute(runDirectory: "checkpoints/pgd")),
/// ])
/// try comparison.write(to: "checkpoints/std-vs-pgd")
/// ```
public struct RunComparison: Sendable {
    /// One run and the name it goes by on the charts.
    public struct Run: Sendable {
        /// The name on legends and titles.
        public var label: String
        /// The run's analysis.
        public var analysis: RunAnalysis

        /// A run named `label`.
        public init(label: String, analysis: RunAnalysis) {
            self.label = label
            self.analysis = analysis
        }
    }

    /// Every run, in the order given (which fixes its colour).
    public let runs: [Run]
    /// Positions in ``runs`` of the runs drawn on the kernel charts: those with kernels, when their kernels
    /// are comparable; empty otherwise.
    public let kernelRuns: [Int]
    /// Why the kernels are not overlaid (different probes or kernel kinds), or nil.
    public let kernelRefusal: String?
    /// `epoch` when every compared run took its kernels at epoch boundaries, `step` otherwise.
    public let timeAxis: String

    /// Compares `runs` (at least one, with distinct, non-empty labels).
    public init(runs: [Run]) throws {
        guard !runs.isEmpty else { throw ConfigurationError("a comparison needs at least one run") }
        var seen = Set<String>()
        for run in runs {
            guard !run.label.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw ConfigurationError("the run \(run.analysis.runDirectory) has an empty label")
            }
            guard seen.insert(run.label).inserted else {
                throw ConfigurationError("two runs are labelled '\(run.label)'; give each run its own label")
            }
        }
        if let other = runs.first(where: { $0.analysis.options.topK != runs[0].analysis.options.topK }) {
            throw ConfigurationError("run '\(runs[0].label)' was analysed with top-k \(runs[0].analysis.options.topK) but run '\(other.label)' with \(other.analysis.options.topK); analyse every run with the same k")
        }
        self.runs = runs
        let tracked = runs.indices.filter { !runs[$0].analysis.times.isEmpty }
        kernelRefusal = Self.incompatibility(tracked.map { runs[$0] })
        kernelRuns = kernelRefusal == nil ? tracked : []
        timeAxis = kernelRuns.allSatisfy { runs[$0].analysis.timeAxis == "epoch" } ? "epoch" : "step"
    }

    /// Labels for `runDirectories`: `given` (one per run) or, when empty, each folder's name.
    public static func labels(for runDirectories: [String], given: [String] = []) throws -> [String] {
        if given.isEmpty {
            return runDirectories.map { (($0 as NSString).standardizingPath as NSString).lastPathComponent }
        }
        guard given.count == runDirectories.count else {
            throw ConfigurationError("\(given.count) labels for \(runDirectories.count) runs: give one label per run, in the runs' order")
        }
        return given
    }

    /// The time of each of run `r`'s kernels on ``timeAxis``.
    public func kernelTimes(_ r: Int) -> [Int] {
        let analysis = runs[r].analysis
        return timeAxis == "epoch" ? analysis.snapshots.map(\.epoch) : analysis.snapshots.map(\.step)
    }

    /// Why the kernels of `runs` cannot be compared, or nil when they can.
    static func incompatibility(_ runs: [Run]) -> String? {
        guard let first = runs.first, let reference = first.analysis.index else { return nil }
        for run in runs.dropFirst() {
            guard let index = run.analysis.index else { continue }
            if index.kind != reference.kind {
                return "run '\(first.label)' tracked \(reference.kind.rawValue) kernels but run '\(run.label)' \(index.kind.rawValue) kernels; kernels of different kinds are not comparable"
            }
            if index.probe != reference.probe {
                return "run '\(first.label)' tracked the kernel of \(describe(reference.probe)) but run '\(run.label)' of \(describe(index.probe)); kernels of different probes are not comparable (track the same probe, e.g. --ntk-probe-size or --ntk-probe)"
            }
            if index.classes != reference.classes {
                return "run '\(first.label)' has \(reference.classes ?? 1) classes per probe image but run '\(run.label)' \(index.classes ?? 1); kernels of different sizes are not comparable"
            }
        }
        return nil
    }

    /// `300 training images (0, 1, 2, …, 299)`.
    private static func describe(_ probe: [Int]) -> String {
        let shown = probe.count <= 6 ? probe.map(String.init).joined(separator: ", ")
            : (probe.prefix(3).map(String.init) + ["…", String(probe[probe.count - 1])]).joined(separator: ", ")
        return "\(probe.count) training image\(probe.count == 1 ? "" : "s") (\(shown))"
    }
}
