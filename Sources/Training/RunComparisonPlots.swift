import NTK
import Plots

extension RunComparison {
    /// Run `r`'s colour on every chart of the comparison.
    public func color(_ r: Int) -> String { SeriesPalette.color(r) }

    /// Kernel distance to the run's own K₀, `d(K_t, K_0)`, per run.
    public func distanceToInitialChart() -> LineChart {
        kernelChart(title: "Kernel distance to K₀", yLabel: "d(Kₜ, K₀) = 1 − sim(Kₜ, K₀)") { $0.distances.first ?? [] }
    }

    /// Kernel magnitude `‖K_t‖` per run, on a logarithmic axis.
    public func magnitudeChart() -> LineChart {
        var chart = kernelChart(title: "Kernel magnitude", yLabel: "‖Kₜ‖ (Frobenius)") { $0.magnitudes }
        chart.logScaleY = true
        return chart
    }

    /// The paper's concentration `Σ_{i≤k} λ_i² / ‖K‖²` per run: top-k solid, top-10 dashed.
    public func concentrationChart() -> LineChart {
        rankChart(title: "Kernel spectral concentration (the paper's)", yLabel: RunAnalysis.concentrationLabel) { $0.concentration }
    }

    /// The eigenvalue share `Σ_{i≤k} λ_i / trace K` per run: top-k solid, top-10 dashed.
    public func eigenvalueMassChart() -> LineChart {
        rankChart(title: "Kernel eigenvalue mass", yLabel: RunAnalysis.eigenvalueMassLabel) { $0.eigenvalueMass }
    }

    /// The kernel velocity `‖K_t − K_{t−1}‖` per run, on a logarithmic axis.
    public func velocityChart() -> LineChart {
        var chart = timeChart(title: "Kernel velocity", yLabel: RunAnalysis.velocityLabel)
        for r in kernelRuns {
            chart.add(LineChart.Series(name: runs[r].label, x: kernelTimes(r).dropFirst().map(Double.init),
                                       y: runs[r].analysis.velocities, color: color(r)))
        }
        chart.logScaleY = true
        return chart
    }

    /// The polar trajectories of every run's whole kernels, or (`top`) of their top-k truncations, each
    /// relative to the run's own K₀ and K_T and labelled with its times.
    public func polarPlot(top: Bool = false) -> PolarPlot {
        let k = runs.first?.analysis.options.topK ?? 20
        var plot = PolarPlot(title: top ? "Polar dynamics of the top-\(k) subspace (angle to K₀; \(timeAxis) labels)"
                                        : "Kernel polar dynamics (angle to K₀; \(timeAxis) labels)",
                             radiusLabel: "‖Kₜ − K₀‖ / ‖K_T − K₀‖")
        for r in kernelRuns {
            let points = top ? runs[r].analysis.polar.top : runs[r].analysis.polar.whole
            plot.add(PolarPlot.Trajectory(name: runs[r].label,
                                          points: points.map { PolarPlot.Point(radius: $0.radius, angle: $0.angle) },
                                          labels: kernelTimes(r).map(String.init), color: color(r)))
        }
        return plot
    }

    /// The leading eigenvalues of every run's first (dashed) and last (solid) kernel, on a logarithmic axis.
    public func spectrumChart() -> LineChart {
        let count = kernelRuns.map { r in runs[r].analysis.spectra.map(\.count).max() ?? 0 }.max() ?? 0
        var chart = LineChart(title: "Kernel spectrum (top \(count) eigenvalues)", xLabel: "eigenvalue index i",
                              yLabel: "λᵢ", logScaleY: true)
        chart.integerTicksX = true
        for r in kernelRuns {
            let spectra = runs[r].analysis.spectra, times = kernelTimes(r)
            guard let first = spectra.first, let last = spectra.last else { continue }
            chart.add(LineChart.Series(name: "\(runs[r].label), \(timeAxis) \(times[0])", y: first, firstX: 1,
                                       color: color(r), dashed: true))
            chart.add(LineChart.Series(name: "\(runs[r].label), \(timeAxis) \(times[times.count - 1])", y: last, firstX: 1,
                                       color: color(r)))
        }
        return chart
    }

    /// Clean (solid) and robust (dashed) accuracy per run on the test set, or (`train`) on the training
    /// subset. Legends name each run's attack and ε; the axis does too when all runs share it.
    public func accuracyChart(train: Bool = false) -> LineChart {
        let split = train ? "train" : "test"
        let robustRuns = runs.filter { $0.analysis.accuracy.contains { $0.name == "\(split)_robust_accuracy" } }
        let attacks = Set(robustRuns.map { RunAnalysis.describe($0.analysis.robustAttack) })
        let dashed = attacks.count == 1 ? attacks.first! : "robust, attack per run in the legend"
        var chart = LineChart(title: train ? "Training-subset accuracy" : "Test accuracy", xLabel: "epoch",
                              yLabel: robustRuns.isEmpty ? "\(split) accuracy" : "\(split) accuracy (dashed: \(dashed))")
        chart.integerTicksX = true
        for (r, run) in runs.enumerated() {
            for curve in run.analysis.accuracy {
                let robust = curve.name == "\(split)_robust_accuracy"
                guard robust || curve.name == "\(split)_accuracy" else { continue }
                let name = "\(run.label), " + (robust ? RunAnalysis.describe(run.analysis.robustAttack) : "clean")
                chart.add(LineChart.Series(name: name, x: curve.epochs.map(Double.init), y: curve.values, color: color(r), dashed: robust))
            }
        }
        chart.yRange = 0...1
        return chart
    }

    /// A chart against ``timeAxis`` with ticks on whole epochs or steps.
    private func timeChart(title: String, yLabel: String) -> LineChart {
        var chart = LineChart(title: title, xLabel: timeAxis, yLabel: yLabel)
        chart.integerTicksX = true
        return chart
    }

    /// One curve per compared run of a per-kernel value.
    private func kernelChart(title: String, yLabel: String, _ values: (RunAnalysis) -> [Double]) -> LineChart {
        var chart = timeChart(title: title, yLabel: yLabel)
        for r in kernelRuns {
            chart.add(LineChart.Series(name: runs[r].label, x: kernelTimes(r).map(Double.init), y: values(runs[r].analysis),
                                       color: color(r)))
        }
        return chart
    }

    /// One curve per compared run and concentration rank: the largest rank solid, smaller ones dashed.
    private func rankChart(title: String, yLabel: String, _ values: (RunAnalysis) -> [[Double]]) -> LineChart {
        var chart = timeChart(title: title, yLabel: yLabel)
        for r in kernelRuns {
            let analysis = runs[r].analysis
            let largest = analysis.concentrationRanks.max()
            for (rank, curve) in zip(analysis.concentrationRanks, values(analysis)).reversed() {
                chart.add(LineChart.Series(name: "\(runs[r].label), top-\(rank)", x: kernelTimes(r).map(Double.init), y: curve,
                                           color: color(r), dashed: rank != largest))
            }
        }
        return chart
    }
}
