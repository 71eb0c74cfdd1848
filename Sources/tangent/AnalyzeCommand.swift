import ArgumentParser
import Foundation
import Tangent

/// `tangent analyze RUN`: the post-run kernel-dynamics analysis — all-pairs kernel distances, polar
/// trajectories (whole, top-k, bottom), concentration and magnitude curves, accuracy curves — as
/// CSV/JSON and SVG plots in `RUN/analysis/`.
struct AnalyzeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "Analyse a run folder: kernel distances, polar dynamics, concentration, magnitude and accuracy plots.")

    @Argument(help: "The run folder (holding metrics.jsonl and, with kernel tracking, kernels/).")
    var runDirectory: String

    @Option(help: "k of the top-k / bottom (n − k) spectral truncations and of the second concentration curve.")
    var topK: Int = 20

    @Option(help: "Output folder (default: RUN/analysis).")
    var out: String?

    @Option(help: "Memory for kernels held at once by the distance pass, in MB.")
    var memoryBudget: Int = 2048

    func run() throws {
        let start = Date()
        let analysis = try RunAnalysis.compute(runDirectory: runDirectory,
                                               options: RunAnalysis.Options(topK: topK, memoryBudgetMB: memoryBudget))
        if analysis.times.isEmpty {
            print("no kernels in \(runDirectory) (train with --ntk-every N or --ntk-every-epoch to track them)")
        } else {
            print("\(analysis.times.count) kernels (\(analysis.index?.kind.rawValue ?? "?"), by \(analysis.timeAxis))")
        }
        for path in try analysis.write(to: out) { print("wrote \(path)") }
        print(String(format: "analysis took %.1f s", Date().timeIntervalSince(start)))
    }
}
