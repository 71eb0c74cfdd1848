import Foundation
import NTK
import Plots
import Robustness

extension RunAnalysis {
    /// The all-pairs kernel-distance heatmap (the paper's epoch × epoch matrix).
    public func distanceHeatmap() -> Heatmap {
        let labels = times.map(String.init)
        return Heatmap(values: distances, title: "Kernel distance between \(timeAxis)s",
                       xLabel: timeAxis, yLabel: timeAxis, rowLabels: labels, columnLabels: labels,
                       colorbarLabel: "d(Kₛ, Kₜ) = 1 − sim(Kₛ, Kₜ)")
    }

    /// The polar trajectories: top-k and bottom (n − k) truncations, then the whole kernel drawn last
    /// (on top: when the spectrum is concentrated the whole kernel and its top-k part coincide), with
    /// time labels.
    public func polarPlot() -> PolarPlot {
        let labels = times.map(String.init)
        var plot = PolarPlot(title: "Kernel polar dynamics (angle to K₀; \(timeAxis) labels)",
                             radiusLabel: "‖Kₜ − K₀‖ / ‖K_T − K₀‖")
        plot.add(PolarPlot.Trajectory(name: "top-\(options.topK) subspace", points: polar.top.map(Self.point),
                                      labels: labels, color: "#ff7f0e"))
        if !polar.bottom.isEmpty {
            plot.add(PolarPlot.Trajectory(name: "bottom (n − \(options.topK)) subspace",
                                          points: polar.bottom.map(Self.point), labels: labels, color: "#2ca02c"))
        }
        plot.add(PolarPlot.Trajectory(name: "whole kernel", points: polar.whole.map(Self.point), labels: labels,
                                      color: "#1f3a93"))
        return plot
    }

    /// Concentration `mass_k` against time, one curve per rank.
    public func concentrationChart() -> LineChart {
        var chart = timeChart(title: "Kernel spectral concentration (the paper's)", yLabel: Self.concentrationLabel)
        for (rank, values) in zip(concentrationRanks, concentration) {
            chart.add(LineChart.Series(name: "top-\(rank)", x: times.map(Double.init), y: values))
        }
        return chart
    }

    /// The eigenvalue share of the top k, `Σ_{i≤k} λ_i / trace K`, against time, one curve per rank.
    public func eigenvalueMassChart() -> LineChart {
        var chart = timeChart(title: "Kernel eigenvalue mass", yLabel: Self.eigenvalueMassLabel)
        for (rank, values) in zip(concentrationRanks, eigenvalueMass) {
            chart.add(LineChart.Series(name: "top-\(rank)", x: times.map(Double.init), y: values))
        }
        return chart
    }

    /// The kernel magnitude ‖K_t‖ against time, on a logarithmic axis.
    public func magnitudeChart() -> LineChart {
        var chart = timeChart(title: "Kernel magnitude", yLabel: "‖Kₜ‖ (Frobenius)")
        chart.add(LineChart.Series(name: "‖Kₜ‖", x: times.map(Double.init), y: magnitudes))
        chart.logScaleY = true
        return chart
    }

    /// The kernel velocity ‖K_t − K_{t−1}‖ between consecutive kernels, at the later one's time, on a
    /// logarithmic axis.
    public func velocityChart() -> LineChart {
        var chart = timeChart(title: "Kernel velocity", yLabel: Self.velocityLabel)
        chart.add(LineChart.Series(name: "‖Kₜ − Kₜ₋₁‖", x: times.dropFirst().map(Double.init), y: velocities))
        chart.logScaleY = true
        return chart
    }

    /// Each kernel's leading eigenvalues λ_i against i on a logarithmic axis, for at most eight kernels
    /// spread over the run (the first and last always), coloured from dark (early) to yellow (late).
    public func spectrumChart() -> LineChart {
        var chart = LineChart(title: "Kernel spectrum (top \(spectra.map(\.count).max() ?? 0) eigenvalues)",
                              xLabel: "eigenvalue index i", yLabel: "λᵢ", logScaleY: true)
        chart.integerTicksX = true
        let shown = Self.spread(count: spectra.count, atMost: 8)
        for (rank, t) in shown.enumerated() {
            let shade = shown.count > 1 ? Double(rank) / Double(shown.count - 1) : 0
            chart.add(LineChart.Series(name: "\(timeAxis) \(times[t])", y: spectra[t], firstX: 1,
                                       color: Colormap.viridis.hex(0.9 * shade)))
        }
        return chart
    }

    /// The raw entries of the first (`final` false) or last kernel's leading block (the paper's Fig. 15).
    public func entryHeatmap(final: Bool) -> Heatmap {
        let entries = final ? finalEntries : initialEntries
        let t = final ? times.count - 1 : 0
        let when = times.isEmpty ? "" : " at \(timeAxis) \(times[t])"
        let labels = Self.entryLabels(count: entries.count, classes: index?.classes)
        return Heatmap(values: entries, title: "Kernel entries\(when)", xLabel: labels.axis, yLabel: labels.axis,
                       rowLabels: labels.names, columnLabels: labels.names, colorbarLabel: "K entry")
    }

    /// Clean (solid) and robust (dashed) accuracy on the training and test sets, per epoch; the robust
    /// curves name their attack and ε.
    public func accuracyChart() -> LineChart {
        let attack = Self.describe(robustAttack)
        let robust = accuracy.contains { $0.name.contains("robust") }
        var chart = LineChart(title: "Accuracy", xLabel: "epoch", yLabel: robust ? "accuracy (dashed: \(attack))" : "accuracy")
        chart.integerTicksX = true
        let style: [String: (label: String, color: String, dashed: Bool)] = [
            "train_accuracy": ("train, clean", "#1f77b4", false),
            "test_accuracy": ("test, clean", "#ff7f0e", false),
            "train_robust_accuracy": ("train, \(attack)", "#1f77b4", true),
            "test_robust_accuracy": ("test, \(attack)", "#ff7f0e", true),
        ]
        for curve in accuracy {
            let s = style[curve.name] ?? (curve.name, "#555555", false)
            chart.add(LineChart.Series(name: s.label, x: curve.epochs.map(Double.init), y: curve.values,
                                       color: s.color, dashed: s.dashed))
        }
        chart.yRange = 0...1
        return chart
    }

    /// `PGD-20, ε = 0.3` (or `ε = 8/255`), or a note that the run does not record its attack.
    public static func describe(_ attack: PGDConfiguration?) -> String {
        guard let attack else { return "PGD, ε not recorded" }
        return "PGD-\(attack.steps), ε = \(formatEpsilon(Double(attack.epsilon)))"
    }

    /// ε as a short decimal (`0.3`), or as a multiple of 1/255 when that is how it reads (`8/255`).
    static func formatEpsilon(_ epsilon: Double) -> String {
        let decimal = String(format: "%.4g", epsilon)
        let in255 = epsilon * 255
        if decimal.count > 6, in255 >= 0.5, in255 < 65_536, abs(in255 - in255.rounded()) < 1e-3 {
            return "\(Int(in255.rounded()))/255"
        }
        return decimal
    }

    /// The y-axis label of the paper's concentration.
    static let concentrationLabel = "mass_k = Σ_{i≤k} λᵢ² / ‖K‖²"
    /// The y-axis label of the eigenvalue mass.
    static let eigenvalueMassLabel = "Σ_{i≤k} λᵢ / trace K"

    /// The y-axis label of the velocity.
    static let velocityLabel = "‖Kₜ − Kₜ₋₁‖ (Frobenius, previous kernel)"

    /// A line chart against ``timeAxis`` with ticks on whole epochs or steps.
    private func timeChart(title: String, yLabel: String) -> LineChart {
        var chart = LineChart(title: title, xLabel: timeAxis, yLabel: yLabel)
        chart.integerTicksX = true
        return chart
    }

    /// At most `atMost` positions of `0..<count`, evenly spread, always the first and the last.
    static func spread(count: Int, atMost: Int) -> [Int] {
        guard count > atMost, atMost >= 2 else { return Array(0..<count) }
        return Array(Set((0..<atMost).map { ($0 * (count - 1) + (atMost - 1) / 2) / (atMost - 1) })).sorted()
    }

    /// Row/column labels of a raw-entry block: `sample:class` for a full kernel, the sample otherwise.
    static func entryLabels(count: Int, classes: Int?) -> (axis: String, names: [String]) {
        guard let classes, classes > 1 else { return ("probe sample", (0..<count).map(String.init)) }
        return ("probe sample : class", (0..<count).map { "\($0 / classes):\($0 % classes)" })
    }

    private static func point(_ p: KernelMetrics.PolarPoint) -> PolarPlot.Point {
        PolarPlot.Point(radius: p.radius, angle: p.angle)
    }
}
