import NTK
import Plots

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
        var chart = LineChart(title: "Kernel spectral concentration", xLabel: timeAxis,
                              yLabel: "mass_k = Σ_{i≤k} λᵢ² / ‖K‖²")
        let x = times.map(Double.init)
        for (rank, values) in zip(concentrationRanks, concentration) {
            chart.add(LineChart.Series(name: "top-\(rank)", x: x, y: values))
        }
        return chart
    }

    /// The kernel magnitude ‖K_t‖ against time, on a logarithmic axis.
    public func magnitudeChart() -> LineChart {
        LineChart(title: "Kernel magnitude", xLabel: timeAxis, yLabel: "‖Kₜ‖ (Frobenius)",
                  series: [LineChart.Series(name: "‖Kₜ‖", x: times.map(Double.init), y: magnitudes)], logScaleY: true)
    }

    /// Clean (solid) and robust (dashed) accuracy on the training and test sets, per epoch.
    public func accuracyChart() -> LineChart {
        var chart = LineChart(title: "Accuracy", xLabel: "epoch", yLabel: "accuracy")
        let style: [String: (label: String, color: String, dashed: Bool)] = [
            "train_accuracy": ("train, clean", "#1f77b4", false),
            "test_accuracy": ("test, clean", "#ff7f0e", false),
            "train_robust_accuracy": ("train, PGD", "#1f77b4", true),
            "test_robust_accuracy": ("test, PGD", "#ff7f0e", true),
        ]
        for curve in accuracy {
            let s = style[curve.name] ?? (curve.name, "#555555", false)
            chart.add(LineChart.Series(name: s.label, x: curve.epochs.map(Double.init), y: curve.values,
                                       color: s.color, dashed: s.dashed))
        }
        chart.yRange = 0...1
        return chart
    }

    private static func point(_ p: KernelMetrics.PolarPoint) -> PolarPlot.Point {
        PolarPlot.Point(radius: p.radius, angle: p.angle)
    }
}
