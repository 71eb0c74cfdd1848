import Foundation
import Plots

extension RunComparison {
    /// The subfolder of the comparison folder holding run `r`'s own analysis: `run-LABEL`, with characters
    /// other than letters, digits, `.`, `_` and `-` replaced by `-` (and a number added when two labels
    /// would give the same name).
    public func runFolderName(_ r: Int) -> String {
        var used: [String: Int] = [:]
        var names: [String] = []
        for run in runs {
            let safe = String(run.label.unicodeScalars.map { scalar -> Character in
                scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "._-".unicodeScalars.contains(scalar))
                    ? Character(scalar) : "-"
            })
            let base = "run-" + safe
            used[base, default: 0] += 1
            names.append(used[base]! == 1 ? base : "\(base)-\(used[base]!)")
        }
        return names[r]
    }

    /// The overlay charts with their file names and captions: the kernel charts when kernels are compared,
    /// the accuracy charts when any run logged accuracy.
    public func figures() -> [AnalysisFigure] {
        var list: [AnalysisFigure] = []
        let k = runs[0].analysis.options.topK
        if !kernelRuns.isEmpty {
            list += [
                AnalysisFigure(file: "kernel_distance_to_initial.svg", chart: distanceToInitialChart(), caption: "Kernel distance to each run's own initial kernel, d(Kₜ, K₀) = 1 − sim(Kₜ, K₀): how far the kernel has rotated."),
                AnalysisFigure(file: "magnitude.svg", chart: magnitudeChart(), caption: "Kernel magnitude ‖Kₜ‖ (Frobenius norm) per run, logarithmic axis."),
                AnalysisFigure(file: "concentration.svg", chart: concentrationChart(), caption: "The paper's concentration Σ_{i≤k} λᵢ² / ‖K‖² per run (top-\(k) solid, top-10 dashed)."),
                AnalysisFigure(file: "eigenvalue_mass.svg", chart: eigenvalueMassChart(), caption: "The eigenvalue share Σ_{i≤k} λᵢ / trace K per run (top-\(k) solid, top-10 dashed): unsquared, so it separates runs that all sit near 1 on the paper's measure."),
                AnalysisFigure(file: "kernel_velocity.svg", chart: velocityChart(), caption: "Kernel velocity ‖Kₜ − Kₜ₋₁‖ per run, between consecutive kernels, plotted at the later one."),
                AnalysisFigure(file: "polar.svg", chart: polarPlot(), caption: "Polar dynamics of the whole kernel per run (Eq. 13): radius ‖Kₜ − K₀‖ / ‖K_T − K₀‖ relative to each run's own first and last kernels, angle arccos sim(Kₜ, K₀); points labelled with their \(timeAxis)."),
                AnalysisFigure(file: "polar_top\(k).svg", chart: polarPlot(top: true), caption: "The same for each kernel's top-\(k) spectral truncation."),
                AnalysisFigure(file: "spectrum.svg", chart: spectrumChart(), caption: "Leading eigenvalues of each run's first (dashed) and last (solid) kernel, logarithmic axis."),
            ]
        }
        if runs.contains(where: { $0.analysis.accuracy.contains { $0.name.hasPrefix("test_") } }) {
            list.append(AnalysisFigure(file: "accuracy.svg", chart: accuracyChart(), caption: "Test accuracy per run: clean (solid) and robust (dashed), each robust curve labelled with the attack and ε of its run's stored settings."))
        }
        if runs.contains(where: { $0.analysis.accuracy.contains { $0.name.hasPrefix("train_") } }) {
            list.append(AnalysisFigure(file: "train_accuracy.svg", chart: accuracyChart(train: true), caption: "The same on each run's training subset."))
        }
        return list
    }

    /// Writes every run's own analysis into `directory/run-LABEL/` (see ``RunAnalysis/write(to:title:)``),
    /// then the overlay charts, `comparison.csv` and `index.html` into `directory`; returns the paths written.
    @discardableResult
    public func write(to directory: String) throws -> [String] {
        try RunDirectory.create(directory)
        func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
        var written: [String] = []
        for (r, run) in runs.enumerated() {
            written += try run.analysis.write(to: path(runFolderName(r)), title: run.label)
        }
        let shown = figures()
        for figure in shown {
            try figure.chart.write(to: path(figure.file))
            written.append(path(figure.file))
        }
        try csv().write(toFile: path("comparison.csv"), atomically: true, encoding: .utf8)
        written.append(path("comparison.csv"))
        try indexPage(figures: shown).write(to: path("index.html"))
        written.append(path("index.html"))
        return written
    }

    /// Every compared value in long form: `run,metric,epoch,step,value`, one row per run, metric and kernel
    /// (or epoch, for accuracy). Kernel metrics: `kernel_distance_to_initial`, `kernel_norm`,
    /// `concentration_topK`, `eigenvalue_mass_topK`, `kernel_velocity`; accuracy under its logged names.
    public func csv() -> String {
        var lines = ["run,metric,epoch,step,value"]
        for r in kernelRuns {
            let analysis = runs[r].analysis, label = CSVText.field(runs[r].label)
            func rows(_ metric: String, _ values: [Double], from first: Int = 0) {
                for (offset, value) in values.enumerated() {
                    let snapshot = analysis.snapshots[first + offset]
                    lines.append("\(label),\(metric),\(snapshot.epoch),\(snapshot.step),\(RunAnalysis.number(value))")
                }
            }
            rows("kernel_distance_to_initial", analysis.distances.first ?? [])
            rows("kernel_norm", analysis.magnitudes)
            for (rank, values) in zip(analysis.concentrationRanks, analysis.concentration) { rows("concentration_top\(rank)", values) }
            for (rank, values) in zip(analysis.concentrationRanks, analysis.eigenvalueMass) { rows("eigenvalue_mass_top\(rank)", values) }
            rows("kernel_velocity", analysis.velocities, from: 1)
        }
        for run in runs {
            for curve in run.analysis.accuracy {
                for (epoch, value) in zip(curve.epochs, curve.values) {
                    lines.append("\(CSVText.field(run.label)),\(curve.name),\(epoch),,\(RunAnalysis.number(value))")
                }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The comparison's `index.html`: the runs, why kernels are not overlaid (if so), the overlays, each
    /// run's raw kernel entries, and links to every run's own page.
    public func indexPage(figures: [AnalysisFigure]? = nil) -> HTMLIndexPage {
        let shown = figures ?? self.figures()
        var page = HTMLIndexPage(title: "Comparison of " + runs.map(\.label).joined(separator: ", "),
                                 notes: runs.map { "\($0.label): \($0.analysis.summaryLine)" })
        if let kernelRefusal { page.notes.append("Kernels are not overlaid: \(kernelRefusal). Each run's own page still shows its kernels.") }
        let kernelFigures = shown.filter { !$0.file.hasSuffix("accuracy.svg") }
        if !kernelFigures.isEmpty {
            page.sections.append(.init(heading: "Kernel dynamics", figures: kernelFigures.map { .init(file: $0.file, caption: $0.caption) }))
            var entries: [HTMLIndexPage.Figure] = []
            for r in kernelRuns {
                let folder = runFolderName(r), times = kernelTimes(r)
                entries.append(.init(file: folder + "/kernel_entries_start.svg", caption: "\(runs[r].label): raw kernel entries at \(timeAxis) \(times[0])."))
                entries.append(.init(file: folder + "/kernel_entries_end.svg", caption: "\(runs[r].label): the same entries at \(timeAxis) \(times[times.count - 1]); compare the colour bars."))
            }
            page.sections.append(.init(heading: "Raw kernel entries, first and last kernel (the paper's Fig. 15)",
                                       paragraphs: ["The leading block of each run's kernel on the shared probe; every heatmap has its own colour bar."],
                                       figures: entries))
        }
        let accuracyFigures = shown.filter { $0.file.hasSuffix("accuracy.svg") }
        if !accuracyFigures.isEmpty {
            page.sections.append(.init(heading: "Accuracy", figures: accuracyFigures.map { .init(file: $0.file, caption: $0.caption) }))
        }
        page.sections.append(.init(heading: "Each run", links: runs.indices.map {
            .init(text: "\(runs[$0].label) (\(runs[$0].analysis.runDirectory))", target: runFolderName($0) + "/index.html")
        } + [.init(text: "comparison.csv", target: "comparison.csv")]))
        return page
    }
}
