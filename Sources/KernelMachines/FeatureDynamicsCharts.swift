import Plots

extension FeatureCharts {
    /// Eigen-features over training for one or more runs (x: epoch): per run, the mean robustness of its
    /// evaluated top features (solid, under attack `attackIndex`) and their mean usefulness (dashed, same
    /// colour) — standard against adversarial training on one chart.
    public static func overTraining(_ runs: [(name: String, snapshots: [FeatureSnapshot])], attackIndex: Int = 0,
                                    title: String = "Top eigen-features of the empirical NTK over training") -> LineChart {
        var chart = LineChart(title: title, xLabel: "epoch", yLabel: "held-out accuracy (mean over the features)")
        chart.yRange = 0...1
        chart.integerTicksX = true
        for (k, run) in runs.enumerated() {
            let color = Colormap.viridis.hex(runs.count == 1 ? 0 : 0.85 * Double(k) / Double(runs.count - 1))
            let epochs = run.snapshots.map { Double($0.epoch) }
            chart.add(LineChart.Series(name: "\(run.name): robustness", x: epochs,
                                       y: run.snapshots.map { $0.meanRobustness(attackIndex: attackIndex) }, color: color))
            chart.add(LineChart.Series(name: "\(run.name): usefulness", x: epochs, y: run.snapshots.map(\.meanUsefulness),
                                       color: color, dashed: true))
        }
        return chart
    }

    /// One run's features over training as a heatmap: a row per feature j (1 at the top), a column per
    /// snapshot's epoch, coloured by robustness under attack `attackIndex` (or, with `usefulness`, by
    /// clean held-out accuracy). Features j of different epochs are different eigenvectors: row j is
    /// "the j-th largest eigen-direction of Θ_t".
    public static func overTrainingHeatmap(_ snapshots: [FeatureSnapshot], usefulness: Bool = false, attackIndex: Int = 0,
                                           title: String) -> Heatmap {
        let features = snapshots.first?.evaluations.map(\.feature) ?? []
        let rows = features.map { j in
            snapshots.map { snapshot -> Double in
                guard let e = snapshot.evaluations.first(where: { $0.feature == j }) else { return .nan }
                if usefulness { return e.cleanAccuracy }
                return e.reports.indices.contains(attackIndex) ? e.reports[attackIndex].robustAccuracy : .nan
            }
        }
        var map = Heatmap(values: rows, title: title, xLabel: "epoch", yLabel: "feature j (eigenvalue rank)",
                          rowLabels: features.map(String.init), columnLabels: snapshots.map { String($0.epoch) },
                          colorbarLabel: usefulness ? "usefulness (clean accuracy of f_j)" : "robustness (accuracy under attack on f_j)",
                          valueRange: 0...1)
        map.showsValues = rows.count * snapshots.count <= 400
        return map
    }
}
