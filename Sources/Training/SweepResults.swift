import Foundation
import Plots

/// The metrics of a grid's runs in one table: each run's final value of every metric and its values
/// epoch by epoch, read from the runs' `metrics.jsonl`; written as CSV and JSON, with overlay plots
/// of each per-epoch metric by axis (one curve per value of the axis, averaged over the other axes).
public struct SweepResults: Sendable {
    /// One run's metrics.
    public struct RunMetrics: Sendable {
        /// The run of the grid.
        public var run: SweepGrid.Run
        /// Its state when collected (`finished`, `unfinished`, …).
        public var state: String
        /// The last value logged of each metric (nil for a non-finite value).
        public var final: [String: Double?]
        /// The epoch of the last row logged (0 for a run with no rows).
        public var finalEpoch: Int
        /// Per completed epoch, the last value logged of each metric in it.
        public var epochs: [(epoch: Int, metrics: [String: Double?])]
    }

    /// The grid's axis names, in order.
    public var axes: [String]
    /// The runs, in grid order (runs without a metric log are listed with no metrics).
    public var runs: [RunMetrics]

    /// Every metric name logged by any run, sorted.
    public var metricNames: [String] {
        Set(runs.flatMap { $0.final.keys }).sorted()
    }

    /// Reads the metric logs of `runs` (`run`, its folder and its state). A folder without
    /// `metrics.jsonl` contributes no metrics; an unreadable log is refused naming its line.
    public static func collect(axes: [String], runs: [(run: SweepGrid.Run, directory: String, state: String)]) throws -> SweepResults {
        var collected: [RunMetrics] = []
        for (run, directory, state) in runs {
            let path = (directory as NSString).appendingPathComponent("metrics.jsonl")
            let rows = FileManager.default.fileExists(atPath: path) ? try MetricRow.read(path: path) : []
            var final: [String: Double?] = [:]
            var byEpoch: [Int: [String: Double?]] = [:]
            for row in rows {
                final[row.name] = .some(row.value)
                byEpoch[row.epoch, default: [:]][row.name] = .some(row.value)
            }
            collected.append(RunMetrics(run: run, state: state, final: final, finalEpoch: rows.last?.epoch ?? 0,
                                        epochs: byEpoch.keys.sorted().map { ($0, byEpoch[$0]!) }))
        }
        return SweepResults(axes: axes, runs: collected)
    }

    /// One row per run: name, state, axis values, final epoch, then the final value of every metric.
    public func finalCSV() -> String {
        let metrics = metricNames
        var lines = [(["run", "state"] + axes + ["epoch"] + metrics).map(CSVText.field).joined(separator: ",")]
        for r in runs {
            let cells = [r.run.name, r.state] + axes.map { r.run.value(of: $0) ?? "" } + ["\(r.finalEpoch)"]
                + metrics.map { Self.number(r.final[$0] ?? nil) }
            lines.append(cells.map(CSVText.field).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// One row per run and epoch: name, axis values, epoch, then the epoch's value of every metric.
    public func epochsCSV() -> String {
        let metrics = metricNames
        var lines = [(["run"] + axes + ["epoch"] + metrics).map(CSVText.field).joined(separator: ",")]
        for r in runs {
            for (epoch, values) in r.epochs {
                let cells = [r.run.name] + axes.map { r.run.value(of: $0) ?? "" } + ["\(epoch)"]
                    + metrics.map { Self.number(values[$0] ?? nil) }
                lines.append(cells.map(CSVText.field).joined(separator: ","))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The whole table as JSON: `{"axes": […], "runs": [{"name", "values", "state", "epoch", "final",
    /// "epochs": [{"epoch", "metrics"}]}]}`, non-finite values as null.
    public func json() throws -> Data {
        func metrics(_ values: [String: Double?]) -> [String: Any] {
            values.mapValues { value -> Any in value.map { $0 as Any } ?? NSNull() }
        }
        let object: [String: Any] = [
            "axes": axes,
            "runs": runs.map { r -> [String: Any] in [
                "name": r.run.name,
                "values": Dictionary(uniqueKeysWithValues: r.run.values.map { ($0.axis, $0.value) }),
                "state": r.state, "epoch": r.finalEpoch, "final": metrics(r.final),
                "epochs": r.epochs.map { ["epoch": $0.epoch, "metrics": metrics($0.metrics)] as [String: Any] },
            ] },
        ]
        return try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
    }

    /// For every axis with more than one value and every metric logged in at least two epochs, a chart
    /// of the metric per epoch with one curve per value of the axis (the mean over the runs sharing it):
    /// `METRIC-by-AXIS.svg`, returned as file name and chart.
    public func overlayCharts() -> [(file: String, chart: LineChart)] {
        var charts: [(String, LineChart)] = []
        let epochMetrics = metricNames.filter { name in runs.contains { $0.epochs.filter { $0.metrics[name] != nil }.count >= 2 } }
        for axis in axes {
            let values = runs.compactMap { $0.run.value(of: axis) }.reduce(into: [String]()) { if !$1.isEmpty && !$0.contains($1) { $0.append($1) } }
            guard values.count > 1 else { continue }
            for metric in epochMetrics {
                var chart = LineChart(title: "\(metric) by \(axis)", xLabel: "epoch", yLabel: metric)
                chart.integerTicksX = true
                for value in values {
                    let group = runs.filter { $0.run.value(of: axis) == value }
                    var sums: [Int: (sum: Double, count: Int)] = [:]
                    for r in group {
                        for (epoch, m) in r.epochs {
                            if let v = m[metric] ?? nil, v.isFinite { sums[epoch, default: (0, 0)].sum += v; sums[epoch, default: (0, 0)].count += 1 }
                        }
                    }
                    let epochs = sums.keys.sorted()
                    guard !epochs.isEmpty else { continue }
                    let label = group.count > 1 ? "\(axis)=\(value) (mean of \(group.count))" : "\(axis)=\(value)"
                    chart.add(LineChart.Series(name: label, x: epochs.map(Double.init),
                                               y: epochs.map { sums[$0]!.sum / Double(sums[$0]!.count) }))
                }
                let file = "\(metric)-by-\(axis).svg".map { $0.isLetter || $0.isNumber || "-_.".contains($0) ? $0 : "-" }
                charts.append((String(file), chart))
            }
        }
        return charts
    }

    /// Writes `final.csv`, `epochs.csv`, `sweep.json` and the overlay charts into `directory` (created),
    /// returning the paths written.
    public func write(to directory: String) throws -> [String] {
        try RunDirectory.create(directory)
        var written: [String] = []
        func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
        for (name, text) in [("final.csv", finalCSV()), ("epochs.csv", epochsCSV())] {
            try text.write(toFile: path(name), atomically: true, encoding: .utf8)
            written.append(path(name))
        }
        try json().write(to: URL(fileURLWithPath: path("sweep.json")), options: .atomic)
        written.append(path("sweep.json"))
        for (file, chart) in overlayCharts() {
            try chart.write(to: path(file))
            written.append(path(file))
        }
        return written
    }

    private static func number(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "" }
        return "\(value)"
    }
}
