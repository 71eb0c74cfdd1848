import Foundation
import NTK
import Plots

/// A chart of an analysis with its file name and caption, as written and as shown on `index.html`.
public struct AnalysisFigure: Sendable {
    /// The SVG file name.
    public var file: String
    /// The chart.
    public var chart: any Chart
    /// What it shows, for the index page.
    public var caption: String
}

extension RunAnalysis {
    /// Writes the analysis into `directory` (default `RUN/analysis`) and returns the paths written:
    /// - `kernel_distance.csv` / `.svg`: the all-pairs distance matrix and its heatmap;
    /// - `polar.csv` / `.svg`: radius and angle (radians) of the whole, top-k and bottom trajectories;
    /// - `kernel_spectrum.csv`, `concentration.svg`, `eigenvalue_mass.svg`, `magnitude.svg`,
    ///   `kernel_velocity.svg`: norm, both concentrations, leading eigenvalues and velocity per kernel;
    /// - `kernel_eigenvalues.csv`, `spectrum.svg`: each kernel's leading ``Options/spectrumCount`` eigenvalues;
    /// - `kernel_entries_start.svg`, `kernel_entries_end.svg`: the raw entries of the first and last kernels;
    /// - `accuracy.csv` / `.svg`: clean and robust accuracy per epoch;
    /// - `analysis.json`: all of the above in one document;
    /// - `index.html`: every chart with a caption, and links to the data files.
    /// Kernel files are skipped when the run tracked no kernels, accuracy files when it logged none.
    /// `title` heads the index page (default: the run folder's name).
    @discardableResult
    public func write(to directory: String? = nil, title: String? = nil) throws -> [String] {
        let folder = directory ?? (runDirectory as NSString).appendingPathComponent("analysis")
        try RunDirectory.create(folder)
        var written: [String] = []
        func path(_ name: String) -> String { (folder as NSString).appendingPathComponent(name) }
        func save(_ text: String, _ name: String) throws {
            try text.write(toFile: path(name), atomically: true, encoding: .utf8)
            written.append(path(name))
        }

        var data: [String] = []
        if !times.isEmpty {
            data = ["kernel_distance.csv", "polar.csv", "kernel_spectrum.csv", "kernel_eigenvalues.csv"]
            try save(distanceCSV(), "kernel_distance.csv")
            try save(polarCSV(), "polar.csv")
            try save(spectrumCSV(), "kernel_spectrum.csv")
            try save(eigenvaluesCSV(), "kernel_eigenvalues.csv")
        }
        if !accuracy.isEmpty {
            data.append("accuracy.csv")
            try save(accuracyCSV(), "accuracy.csv")
        }
        let shown = figures()
        for figure in shown {
            try figure.chart.write(to: path(figure.file))
            written.append(path(figure.file))
        }
        try save(String(decoding: try jsonData(), as: UTF8.self), "analysis.json")
        try save(indexPage(title: title, figures: shown, dataFiles: data + ["analysis.json"]).render(), "index.html")
        return written
    }

    /// The charts this analysis draws, with their file names and captions: the kernel charts when the run
    /// tracked kernels, the accuracy chart when it logged accuracy.
    public func figures() -> [AnalysisFigure] {
        var list: [AnalysisFigure] = []
        if !times.isEmpty {
            let k = options.topK
            let side = initialEntries.count
            list += [
                AnalysisFigure(file: "kernel_distance.svg", chart: distanceHeatmap(), caption: "Kernel distance d(Kₛ, Kₜ) = 1 − ⟨Kₛ, Kₜ⟩ / (‖Kₛ‖ ‖Kₜ‖) between every pair of the probe's kernels (PAPER.md Eq. 12); 0 means the two kernels point the same way."),
                AnalysisFigure(file: "polar.svg", chart: polarPlot(), caption: "Polar dynamics (Eq. 13): radius ‖Kₜ − K₀‖ / ‖K_T − K₀‖ and angle arccos sim(Kₜ, K₀), for the whole kernel and its top-\(k) and bottom (n − \(k)) spectral truncations; points are labelled with their \(timeAxis)."),
                AnalysisFigure(file: "concentration.svg", chart: concentrationChart(), caption: "The paper's concentration: the share of ‖K‖² = Σλᵢ² held by the top k eigenvalues, Σ_{i≤k} λᵢ² / ‖K‖². Squaring makes it saturate near 1 when a few eigenvalues dominate."),
                AnalysisFigure(file: "eigenvalue_mass.svg", chart: eigenvalueMassChart(), caption: "The eigenvalue share of the top k, Σ_{i≤k} λᵢ / trace K: the same question without squaring, so runs that all sit near 1 on the paper's measure separate here."),
                AnalysisFigure(file: "magnitude.svg", chart: magnitudeChart(), caption: "Kernel magnitude ‖Kₜ‖ (Frobenius norm), logarithmic axis."),
                AnalysisFigure(file: "kernel_velocity.svg", chart: velocityChart(), caption: "Kernel velocity ‖Kₜ − Kₜ₋₁‖ between consecutive kernels, plotted at the later one: how far the kernel moved since the previous kernel was taken."),
                AnalysisFigure(file: "spectrum.svg", chart: spectrumChart(), caption: "The kernel spectrum: the leading \(spectra.map(\.count).max() ?? 0) eigenvalues λᵢ against i (logarithmic axis), for up to eight kernels spread over the run, dark early to yellow late."),
                AnalysisFigure(file: "kernel_entries_start.svg", chart: entryHeatmap(final: false), caption: "Raw entries of the first kernel's leading \(side) × \(side) block\(index?.classes != nil ? " (rows and columns sample:class)" : "") (the paper's Fig. 15); read the scale off the colour bar."),
                AnalysisFigure(file: "kernel_entries_end.svg", chart: entryHeatmap(final: true), caption: "The same block of the last kernel: compare the colour bar with the first kernel's to see how much the entries grew."),
            ]
        }
        if !accuracy.isEmpty {
            list.append(AnalysisFigure(file: "accuracy.svg", chart: accuracyChart(), caption: "Clean (solid) and robust (dashed; \(Self.describe(robustAttack))) accuracy on the training subset and the test set, per epoch."))
        }
        return list
    }

    /// The `index.html` page: a note on the run and its kernels, every figure under its caption, and
    /// links to `dataFiles`.
    public func indexPage(title: String? = nil, figures: [AnalysisFigure]? = nil, dataFiles: [String] = []) -> HTMLIndexPage {
        let name = title ?? (runDirectory as NSString).lastPathComponent
        var page = HTMLIndexPage(title: "Analysis of \(name)", notes: [summaryLine])
        let shown = figures ?? self.figures()
        let kernelFigures = shown.filter { $0.file != "accuracy.svg" }
        if !kernelFigures.isEmpty {
            page.sections.append(.init(heading: "Kernel dynamics", figures: kernelFigures.map { .init(file: $0.file, caption: $0.caption) }))
        }
        if let accuracyFigure = shown.first(where: { $0.file == "accuracy.svg" }) {
            page.sections.append(.init(heading: "Accuracy", figures: [.init(file: accuracyFigure.file, caption: accuracyFigure.caption)]))
        }
        if !dataFiles.isEmpty {
            page.sections.append(.init(heading: "Data", links: dataFiles.map { .init(text: $0, target: $0) }))
        }
        return page
    }

    /// One line on the run and its kernels, for index pages and listings.
    public var summaryLine: String {
        guard let index, !times.isEmpty else {
            return "Run folder \(runDirectory): no kernels were tracked (train with kernel tracking to see the kernel dynamics)."
        }
        let probe = index.adversarialProbe ? "PGD-attacked probe" : "clean probe"
        return "Run folder \(runDirectory): \(times.count) \(index.kind.rawValue) kernels (\(index.kernelSide) × \(index.kernelSide)) of a \(probe) of \(index.samples) training images, by \(timeAxis) (\(times.first!)–\(times.last!))."
    }

    /// The distance matrix as CSV: a header of times, then one row per kernel led by its time.
    public func distanceCSV() -> String {
        var lines = [([timeAxis] + times.map(String.init)).joined(separator: ",")]
        for (t, row) in zip(times, distances) {
            lines.append(([String(t)] + row.map(Self.number)).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Polar coordinates per kernel as CSV (angles in radians; bottom columns empty when n ≤ k).
    public func polarCSV() -> String {
        let k = options.topK
        var lines = ["epoch,step,radius,angle,top\(k)_radius,top\(k)_angle,bottom_radius,bottom_angle"]
        for (t, snapshot) in snapshots.enumerated() {
            let b = t < polar.bottom.count ? [Self.number(polar.bottom[t].radius), Self.number(polar.bottom[t].angle)] : ["", ""]
            lines.append(([String(snapshot.epoch), String(snapshot.step),
                           Self.number(polar.whole[t].radius), Self.number(polar.whole[t].angle),
                           Self.number(polar.top[t].radius), Self.number(polar.top[t].angle)] + b).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Norm, concentration, leading eigenvalues, eigenvalue mass and velocity per kernel as CSV (the
    /// velocity is empty for the first kernel).
    public func spectrumCSV() -> String {
        let eigenColumns = (0..<options.eigenvalueCount).map { "eigenvalue_\($0 + 1)" }
        var lines = [(["epoch", "step", "norm"] + concentrationRanks.map { "concentration_top\($0)" } + eigenColumns
                      + concentrationRanks.map { "eigenvalue_mass_top\($0)" } + ["velocity"]).joined(separator: ",")]
        for (t, snapshot) in snapshots.enumerated() {
            let eigen = (0..<options.eigenvalueCount).map { i in
                i < topEigenvalues[t].count ? Self.number(topEigenvalues[t][i]) : ""
            }
            let velocity = t >= 1 ? Self.number(velocities[t - 1]) : ""
            lines.append(([String(snapshot.epoch), String(snapshot.step), Self.number(magnitudes[t])]
                          + concentration.map { Self.number($0[t]) } + eigen
                          + eigenvalueMass.map { Self.number($0[t]) } + [velocity]).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Each kernel's leading eigenvalues (its spectrum) as CSV, descending (empty cells past a kernel's side).
    public func eigenvaluesCSV() -> String {
        let count = spectra.map(\.count).max() ?? 0
        var lines = [(["epoch", "step"] + (0..<count).map { "eigenvalue_\($0 + 1)" }).joined(separator: ",")]
        for (t, snapshot) in snapshots.enumerated() {
            let cells = (0..<count).map { i in i < spectra[t].count ? Self.number(spectra[t][i]) : "" }
            lines.append(([String(snapshot.epoch), String(snapshot.step)] + cells).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Accuracy per epoch as CSV, one column per metric present (empty where an epoch lacks it).
    public func accuracyCSV() -> String {
        let epochs = Array(Set(accuracy.flatMap(\.epochs))).sorted()
        var lines = [(["epoch"] + accuracy.map(\.name)).joined(separator: ",")]
        for epoch in epochs {
            let cells = accuracy.map { curve in curve.epochs.firstIndex(of: epoch).map { Self.number(curve.values[$0]) } ?? "" }
            lines.append(([String(epoch)] + cells).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The snapshots analysed, in order.
    public var snapshots: [KernelSnapshot] { index?.snapshots ?? [] }

    /// Everything as one JSON document (non-finite numbers as the strings "nan", "inf", "-inf").
    public func jsonData() throws -> Data {
        struct Polar: Encodable { var radius: [Double]; var angle: [Double] }
        struct Attack: Encodable { var epsilon: Float; var step_size: Float; var steps: Int; var random_start: Bool; var clip_every_step: Bool }
        struct Document: Encodable {
            var run: String
            var top_k: Int
            var kernel_kind: String?
            var adversarial_probe: Bool?
            var probe: [Int]?
            var time_axis: String
            var times: [Int]
            var snapshots: [KernelSnapshot]
            var kernel_distance: [[Double]]
            var polar: [String: Polar]
            var magnitude: [Double]
            var concentration: [String: [Double]]
            var eigenvalue_mass: [String: [Double]]
            var top_eigenvalues: [[Double]]
            var spectra: [[Double]]
            var velocity: [Double]
            var accuracy: [String: [String: Double]]
            var robust_attack: Attack?
        }
        func polarJSON(_ points: [KernelMetrics.PolarPoint]) -> Polar { Polar(radius: points.map(\.radius), angle: points.map(\.angle)) }
        var polarByName = ["whole": polarJSON(polar.whole), "top\(options.topK)": polarJSON(polar.top)]
        if !polar.bottom.isEmpty { polarByName["bottom"] = polarJSON(polar.bottom) }
        let document = Document(
            run: runDirectory, top_k: options.topK, kernel_kind: index?.kind.rawValue,
            adversarial_probe: index?.adversarialProbe, probe: index?.probe, time_axis: timeAxis, times: times,
            snapshots: snapshots, kernel_distance: distances, polar: polarByName, magnitude: magnitudes,
            concentration: Dictionary(uniqueKeysWithValues: zip(concentrationRanks.map { "top\($0)" }, concentration)),
            eigenvalue_mass: Dictionary(uniqueKeysWithValues: zip(concentrationRanks.map { "top\($0)" }, eigenvalueMass)),
            top_eigenvalues: topEigenvalues, spectra: spectra, velocity: velocities,
            accuracy: Dictionary(uniqueKeysWithValues: accuracy.map { curve in
                (curve.name, Dictionary(uniqueKeysWithValues: zip(curve.epochs.map(String.init), curve.values)))
            }),
            robust_attack: robustAttack.map { Attack(epsilon: $0.epsilon, step_size: $0.stepSize, steps: $0.steps,
                                                     random_start: $0.randomStart, clip_every_step: $0.clipEveryStep) })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(document)
    }

    static func number(_ x: Double) -> String { x.isFinite ? "\(x)" : (x.isNaN ? "nan" : (x > 0 ? "inf" : "-inf")) }
}
