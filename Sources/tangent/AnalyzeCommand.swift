import ArgumentParser
import Foundation
import Tangent

/// `tangent analyze RUN [RUN …]`: the post-run kernel-dynamics analysis — all-pairs kernel distances,
/// polar trajectories (whole, top-k, bottom), concentration, eigenvalue mass, magnitude, velocity and
/// spectrum curves, raw kernel entries, accuracy curves — as CSV/JSON, SVG plots and an `index.html`
/// in `RUN/analysis/`. With several runs, the same charts overlaid per run (labelled by folder name or
/// `--label`), each run's own analysis beside them.
struct AnalyzeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "Analyse run folders: kernel distances, polar dynamics, concentration, magnitude, velocity, spectra and accuracy plots; several runs are overlaid on one chart each.")

    @Argument(help: "The run folder(s) (each holding metrics.jsonl and, with kernel tracking, kernels/).")
    var runDirectories: [String] = []

    @Option(name: .customLong("label"), help: ArgumentHelp("A run's name on the charts; repeat once per run, in order (default: the folder names).", valueName: "NAME"))
    var labels: [String] = []

    @Option(help: "k of the top-k / bottom (n − k) spectral truncations and of the second concentration curve.")
    var topK: Int = 20

    @Option(help: "Output folder (default: RUN/analysis for one run; comparison-A-vs-B… beside the first run for several).")
    var out: String?

    @Option(help: "Memory for kernels held at once by the distance pass, in MB.")
    var memoryBudget: Int = 2048

    func validate() throws {
        guard !runDirectories.isEmpty else { throw ValidationError("give at least one run folder") }
        try requireOption(labels.isEmpty || labels.count == runDirectories.count,
                          "--label was given \(labels.count) times for \(runDirectories.count) runs: give one per run, in the runs' order")
        try requireOption(labels.allSatisfy { !$0.trimmingCharacters(in: .whitespaces).isEmpty }, "--label takes a non-empty name")
        try requireOption(Set(labels).count == labels.count, "--label names must differ")
        try requireOption(topK >= 1, "--top-k must be positive, got \(topK)")
        try requireOption(memoryBudget >= 1, "--memory-budget must be positive, got \(memoryBudget)")
    }

    func run() throws {
        let start = Date()
        let names = try RunComparison.labels(for: runDirectories, given: labels)
        var runs: [RunComparison.Run] = []
        for (directory, label) in zip(runDirectories, names) {
            var analysis = try RunAnalysis.compute(runDirectory: directory,
                                                   options: RunAnalysis.Options(topK: topK, memoryBudgetMB: memoryBudget))
            // The command line's config.json leaves the data set's default attack implicit; its description knows it.
            if FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent("config.json")) {
                analysis.robustAttack = try RunDescription.stored(inRunFolder: directory).settings.robustEvaluationAttack
            }
            if analysis.times.isEmpty {
                print("\(label): no kernels in \(directory) (train with --ntk-every N or --ntk-every-epoch to track them)")
            } else {
                print("\(label): \(analysis.times.count) kernels (\(analysis.index?.kind.rawValue ?? "?"), by \(analysis.timeAxis))")
            }
            runs.append(.init(label: label, analysis: analysis))
        }
        if runs.count == 1 {
            for path in try runs[0].analysis.write(to: out, title: labels.first) { print("wrote \(path)") }
        } else {
            let comparison = try RunComparison(runs: runs)
            if let reason = comparison.kernelRefusal {
                print("kernels not overlaid: \(reason); accuracy curves only (each run's own kernel plots are in its subfolder)")
            }
            let folder = out ?? defaultComparisonFolder(comparison)
            let written = try comparison.write(to: folder)
            print("wrote \(written.count) files to \(folder)")
            print("open \((folder as NSString).appendingPathComponent("index.html"))")
        }
        print(String(format: "analysis took %.1f s", Date().timeIntervalSince(start)))
    }

    /// `comparison-A-vs-B` in the first run's parent folder.
    private func defaultComparisonFolder(_ comparison: RunComparison) -> String {
        let parent = ((runDirectories[0] as NSString).standardizingPath as NSString).deletingLastPathComponent
        let name = "comparison-" + comparison.runs.indices.map { String(comparison.runFolderName($0).dropFirst(4)) }.joined(separator: "-vs-")
        return ((parent.isEmpty ? "." : parent) as NSString).appendingPathComponent(String(name.prefix(120)))
    }
}
