import Autodiff
import Foundation
import Plots

/// The pictures of eigen-features: the usefulness–robustness scatter (the paper's Fig. 2) and the
/// input-gradient images of single features.
public enum FeatureCharts {
    /// The index bands a single kernel's scatter colours its features by.
    static let bands: [(name: String, range: ClosedRange<Int>)] = [
        ("j = 1–5", 1...5), ("j = 6–10", 6...10), ("j = 11–25", 11...25), ("j = 26–50", 26...50),
        ("j = 51–100", 51...100), ("j > 100", 101...Int.max),
    ]

    /// Usefulness (clean accuracy, x) against robustness (accuracy under attack `attackIndex` of the
    /// evaluations, y) of one kernel's features 1…`firstK` (the paper's Fig. 2: K = 100), coloured by
    /// index band, with the features of `labelled` named beside their points.
    public static func usefulnessRobustness(_ evaluations: [FeatureEvaluation], title: String = "NTK eigen-features",
                                            firstK: Int = 100, attackIndex: Int = 0,
                                            labelled: Set<Int> = [1, 10, 25]) -> LineChart {
        var chart = chartFrame(title: title)
        for (k, band) in bands.enumerated() {
            let members = evaluations.filter {
                band.range.contains($0.feature) && $0.feature <= firstK && $0.reports.indices.contains(attackIndex)
            }
            guard !members.isEmpty else { continue }
            chart.add(.scatter(name: band.name, x: members.map(\.cleanAccuracy),
                               y: members.map { $0.reports[attackIndex].robustAccuracy },
                               color: Colormap.viridis.hex(Double(k) / Double(bands.count - 1)),
                               pointLabels: members.map { labelled.contains($0.feature) ? "\($0.feature)" : "" }))
        }
        return chart
    }

    /// The same scatter for several kernels side by side (one colour per kernel), e.g. FC-1, FC-3 and an
    /// empirical NTK on the same data.
    public static func usefulnessRobustness(comparing kernels: [(name: String, evaluations: [FeatureEvaluation])],
                                            title: String = "NTK eigen-features", attackIndex: Int = 0,
                                            labelled: Set<Int> = [1]) -> LineChart {
        var chart = chartFrame(title: title)
        for (name, evaluations) in kernels {
            let members = evaluations.filter { $0.reports.indices.contains(attackIndex) }
            chart.add(.scatter(name: name, x: members.map(\.cleanAccuracy),
                               y: members.map { $0.reports[attackIndex].robustAccuracy },
                               pointLabels: members.map { labelled.contains($0.feature) ? "\($0.feature)" : "" }))
        }
        return chart
    }

    /// The test accuracies of robust-feature selection (Appendix D.3) against r, the number of most
    /// robust features kept (x: log₁₀ r, each point labelled with r): clean, under the attack on the
    /// selected predictor itself and under the attack on the full kernel predictor, each beside the full
    /// predictor's figure (dashed).
    public static func robustSelection(_ selection: RobustFeatureSelection, title: String = "Robust-feature selection") -> LineChart {
        var chart = LineChart(title: title, xLabel: "log₁₀ r (the r features most robust on validation)", yLabel: "test accuracy")
        chart.yRange = 0...1
        let steps = selection.steps
        let x = steps.map { log10(Double(max($0.count, 1))) }
        let span = [x.min() ?? 0, x.max() ?? 0]
        let lines: [(String, KeyPath<RobustFeatureSelection.Step, Double>, Double)] = [
            ("clean", \.cleanAccuracy, 0), ("own attack", \.ownAttackAccuracy, 0.5), ("full kernel's attack", \.fullAttackAccuracy, 1),
        ]
        for (name, value, shade) in lines {
            let color = Colormap.viridis.hex(shade * 0.85)
            var series = LineChart.Series(name: name, x: x, y: steps.map { $0[keyPath: value] }, color: color)
            series.pointLabels = steps.map { "\($0.count)" }
            chart.add(series)
            let full = selection.full[keyPath: value]
            chart.add(LineChart.Series(name: "\(name), all features", x: span, y: [full, full], color: color, dashed: true))
        }
        return chart
    }

    static func chartFrame(title: String) -> LineChart {
        var chart = LineChart(title: title, xLabel: "usefulness (clean accuracy of f_j)",
                              yLabel: "robustness (accuracy under attack on f_j)")
        chart.xRange = 0...1
        chart.yRange = 0...1
        return chart
    }
}

extension EigenFeatures {
    /// The input gradient of each feature's own loss at one input, as images (grey for one channel, RGB
    /// for three): the paper's visualisation of feature j.
    /// - Parameters:
    ///   - features: the features pictured, e.g. `1...16`.
    ///   - image: one input, `[1, …]` with the training inputs' per-sample shape.
    ///   - label: its label.
    ///   - shape: channels, height, width of the picture; nil reads them from an NCHW `[1, C, H, W]` or
    ///     `[1, H, W]` input (flattened inputs need it).
    ///   - loss: the loss differentiated; nil: the task's cross-entropy.
    ///   - scaling: how gradient values become grey levels (default: 0 is mid-grey).
    /// - Throws: ``EigenFeatureError`` for bad feature lists; ``KernelMachineError/inputLayout(argument:shape:expected:)``
    ///   for an input that is not one sample or a shape that does not fit it; `RasterImageError`; the
    ///   kernel's errors.
    public func gradientImages<Features: Sequence<Int>>(features: Features, image: Tensor, label: Int32,
                                                        shape: (channels: Int, height: Int, width: Int)? = nil,
                                                        loss: KernelAttackLoss? = nil,
                                                        scaling: RasterImage.Scaling = .symmetric) throws -> [RasterImage] {
        let list = try checkedFeatures(features)
        let picture = try pictureShape(image, shape)
        let loss = loss ?? .crossEntropy(for: task)
        return try list.map { j in
            let objective = try KernelAttackObjective(predictor: try predictor(feature: j), loss: loss)
            let gradient = try objective.lossAndInputGradient(at: image, labels: [label]).gradient
            return try RasterImage(planes: gradient.scalars, channels: picture.channels, height: picture.height,
                                   width: picture.width, scaling: scaling)
        }
    }

    /// The gradient images of ``gradientImages(features:image:label:shape:loss:scaling:)`` (by default of
    /// features 1…16) upscaled by `upscale` and tiled `columns` to a row.
    /// - Throws: as ``gradientImages(features:image:label:shape:loss:scaling:)`` and `RasterImage.grid(_:columns:spacing:background:)`.
    public func gradientGrid<Features: Sequence<Int>>(features: Features = 1...16, image: Tensor, label: Int32,
                                                      shape: (channels: Int, height: Int, width: Int)? = nil,
                                                      loss: KernelAttackLoss? = nil, scaling: RasterImage.Scaling = .symmetric,
                                                      columns: Int = 4, upscale: Int = 4) throws -> RasterImage {
        let images = try gradientImages(features: features, image: image, label: label, shape: shape, loss: loss,
                                        scaling: scaling)
        return try RasterImage.grid(try images.map { try $0.upscaled(by: upscale) }, columns: columns, spacing: 2 * upscale)
    }

    /// Channels, height and width of one input's picture.
    func pictureShape(_ image: Tensor, _ shape: (channels: Int, height: Int, width: Int)?) throws -> (channels: Int, height: Int, width: Int) {
        guard image.rank >= 2, image.shape[0] == 1 else {
            throw KernelMachineError.inputLayout(argument: "image", shape: image.shape, expected: "one sample [1, …]")
        }
        let resolved: (channels: Int, height: Int, width: Int)
        if let shape {
            resolved = shape
        } else if image.rank == 4 {
            resolved = (image.shape[1], image.shape[2], image.shape[3])
        } else if image.rank == 3 {
            resolved = (1, image.shape[1], image.shape[2])
        } else {
            throw KernelMachineError.inputLayout(argument: "image", shape: image.shape,
                                                 expected: "[1, C, H, W] or [1, H, W], or a picture shape given with it")
        }
        let (count, overflow) = resolved.channels.multipliedReportingOverflow(by: resolved.height)
        let (area, overflow2) = count.multipliedReportingOverflow(by: resolved.width)
        guard resolved.channels > 0, resolved.height > 0, resolved.width > 0, !overflow, !overflow2, area == image.count else {
            throw KernelMachineError.inputLayout(argument: "image", shape: image.shape,
                                                 expected: "\(resolved.channels)×\(resolved.height)×\(resolved.width) values per picture")
        }
        return resolved
    }
}
