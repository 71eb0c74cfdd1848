import Foundation
import NTK
import Plots

extension RunAnalysis {
    /// Writes the analysis into `directory` (default `RUN/analysis`) and returns the paths written:
    /// - `kernel_distance.csv` / `.svg`: the all-pairs distance matrix and its heatmap;
    /// - `polar.csv` / `.svg`: radius and angle (radians) of the whole, top-k and bottom trajectories;
    /// - `kernel_spectrum.csv`, `concentration.svg`, `magnitude.svg`: norm, concentration and leading
    ///   eigenvalues per kernel;
    /// - `accuracy.csv` / `.svg`: clean and robust accuracy per epoch;
    /// - `analysis.json`: all of the above in one document.
    /// Kernel files are skipped when the run tracked no kernels, accuracy files when it logged none.
    @discardableResult
    public func write(to directory: String? = nil) throws -> [String] {
        let folder = directory ?? (runDirectory as NSString).appendingPathComponent("analysis")
        try RunDirectory.create(folder)
        var written: [String] = []
        func path(_ name: String) -> String { (folder as NSString).appendingPathComponent(name) }
        func save(_ text: String, _ name: String) throws {
            try text.write(toFile: path(name), atomically: true, encoding: .utf8)
            written.append(path(name))
        }
        func plot(_ chart: some Chart, _ name: String) throws {
            try chart.write(to: path(name))
            written.append(path(name))
        }

        if !times.isEmpty {
            try save(distanceCSV(), "kernel_distance.csv")
            try plot(distanceHeatmap(), "kernel_distance.svg")
            try save(polarCSV(), "polar.csv")
            try plot(polarPlot(), "polar.svg")
            try save(spectrumCSV(), "kernel_spectrum.csv")
            try plot(concentrationChart(), "concentration.svg")
            try plot(magnitudeChart(), "magnitude.svg")
        }
        if !accuracy.isEmpty {
            try save(accuracyCSV(), "accuracy.csv")
            try plot(accuracyChart(), "accuracy.svg")
        }
        try save(String(decoding: try jsonData(), as: UTF8.self), "analysis.json")
        return written
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

    /// Norm, concentration and leading eigenvalues per kernel as CSV.
    public func spectrumCSV() -> String {
        let eigenColumns = (0..<options.eigenvalueCount).map { "eigenvalue_\($0 + 1)" }
        var lines = [(["epoch", "step", "norm"] + concentrationRanks.map { "concentration_top\($0)" } + eigenColumns)
            .joined(separator: ",")]
        for (t, snapshot) in snapshots.enumerated() {
            let eigen = (0..<options.eigenvalueCount).map { i in
                i < topEigenvalues[t].count ? Self.number(topEigenvalues[t][i]) : ""
            }
            lines.append(([String(snapshot.epoch), String(snapshot.step), Self.number(magnitudes[t])]
                          + concentration.map { Self.number($0[t]) } + eigen).joined(separator: ","))
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
            var top_eigenvalues: [[Double]]
            var accuracy: [String: [String: Double]]
        }
        func polarJSON(_ points: [KernelMetrics.PolarPoint]) -> Polar { Polar(radius: points.map(\.radius), angle: points.map(\.angle)) }
        var polarByName = ["whole": polarJSON(polar.whole), "top\(options.topK)": polarJSON(polar.top)]
        if !polar.bottom.isEmpty { polarByName["bottom"] = polarJSON(polar.bottom) }
        let document = Document(
            run: runDirectory, top_k: options.topK, kernel_kind: index?.kind.rawValue,
            adversarial_probe: index?.adversarialProbe, probe: index?.probe, time_axis: timeAxis, times: times,
            snapshots: snapshots, kernel_distance: distances, polar: polarByName, magnitude: magnitudes,
            concentration: Dictionary(uniqueKeysWithValues: zip(concentrationRanks.map { "top\($0)" }, concentration)),
            top_eigenvalues: topEigenvalues,
            accuracy: Dictionary(uniqueKeysWithValues: accuracy.map { curve in
                (curve.name, Dictionary(uniqueKeysWithValues: zip(curve.epochs.map(String.init), curve.values)))
            }))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(document)
    }

    private static func number(_ x: Double) -> String { x.isFinite ? "\(x)" : (x.isNaN ? "nan" : (x > 0 ? "inf" : "-inf")) }
}
