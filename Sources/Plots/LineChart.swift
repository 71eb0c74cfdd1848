/// Curves of y against x for one or more named series: accuracy per epoch, kernel magnitude,
/// top-k concentration and the like.
///
/// Axes get round tick values; either axis can be logarithmic (kernel magnitudes spanning orders of
/// magnitude on y, network widths 16 … 16,384 on x). Points with a non-finite coordinate (or a
/// coordinate ≤ 0 on a log axis) are skipped and break the curve there. The legend sits to the right of the plot so it never hides data.
///
/// ```swift
/// var chart = LineChart(title: "Kernel magnitude", xLabel: "epoch", yLabel: "‖K‖")
/// chart.logScaleY = true
/// chart.add(LineChart.Series(name: "standard", y: standardNorms))
/// chart.add(LineChart.Series(name: "adversarial", y: adversarialNorms))
/// try chart.write(to: "magnitude.svg")
/// ```
public struct LineChart: Chart {
    /// One named curve.
    public struct Series: Sendable {
        /// The legend name.
        public var name: String
        /// The x coordinates.
        public var x: [Double]
        /// The y coordinates, one per x.
        public var y: [Double]
        /// A CSS colour such as `#1f77b4`; nil picks the next palette colour.
        public var color: String?
        /// Draws the curve dashed.
        public var dashed: Bool
        /// Joins the points by a curve; false draws markers only (a scatter plot).
        public var connectsPoints: Bool = true
        /// Text written beside individual points (empty strings and missing entries write nothing), e.g.
        /// "j = 1" on a scatter of features.
        public var pointLabels: [String] = []

        /// A series from matching x and y arrays.
        public init(name: String, x: [Double], y: [Double], color: String? = nil, dashed: Bool = false) {
            precondition(x.count == y.count, "LineChart.Series: x and y must have the same length")
            self.name = name
            self.x = x
            self.y = y
            self.color = color
            self.dashed = dashed
        }

        /// Unconnected points (a scatter series), optionally labelled one by one.
        public static func scatter(name: String, x: [Double], y: [Double], color: String? = nil,
                                   pointLabels: [String] = []) -> Series {
            var series = Series(name: name, x: x, y: y, color: color)
            series.connectsPoints = false
            series.pointLabels = pointLabels
            return series
        }

        /// A series from (x, y) pairs.
        public init(name: String, points: [(x: Double, y: Double)], color: String? = nil, dashed: Bool = false) {
            self.init(name: name, x: points.map(\.x), y: points.map(\.y), color: color, dashed: dashed)
        }

        /// A series plotted against x = 0, 1, 2, … (or `firstX`, `firstX + 1`, …).
        public init(name: String, y: [Double], firstX: Double = 0, color: String? = nil, dashed: Bool = false) {
            self.init(name: name, x: y.indices.map { firstX + Double($0) }, y: y, color: color, dashed: dashed)
        }
    }

    /// When point markers are drawn.
    public enum Markers: Sendable {
        /// Markers on series with at most 60 points (beyond that they clutter the curve).
        case automatic
        case always
        case never
    }

    /// The title above the plot.
    public var title: String
    /// The x-axis label.
    public var xLabel: String
    /// The y-axis label.
    public var yLabel: String
    /// The curves, drawn in order.
    public var series: [Series]
    /// A base-10 logarithmic y axis (non-positive values are skipped).
    public var logScaleY: Bool = false
    /// A base-10 logarithmic x axis (non-positive values are skipped; `integerTicksX` does not apply).
    public var logScaleX: Bool = false
    /// Point markers.
    public var markers: Markers = .automatic
    /// Ticks on the x axis only at whole numbers (for epochs and steps).
    public var integerTicksX: Bool = false
    /// A fixed x range; nil fits the data (extended to round ticks).
    public var xRange: ClosedRange<Double>?
    /// A fixed y range; nil fits the data (extended to round ticks).
    public var yRange: ClosedRange<Double>?
    /// Total width in pixels.
    public var width: Double = 760
    /// Total height in pixels.
    public var height: Double = 460

    /// An empty chart; add series with ``add(_:)``.
    public init(title: String = "", xLabel: String = "", yLabel: String = "", series: [Series] = [],
                logScaleY: Bool = false) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.logScaleY = logScaleY
    }

    /// Appends a series.
    public mutating func add(_ series: Series) { self.series.append(series) }

    private func isPlottable(_ x: Double, _ y: Double) -> Bool {
        x.isFinite && y.isFinite && (!logScaleY || y > 0) && (!logScaleX || x > 0)
    }

    /// The chart as a complete SVG document.
    public func render() -> String {
        var canvas = SVGCanvas(width: width, height: height)
        let titleHeight = title.isEmpty ? 16.0 : 40.0
        canvas.title(title, x: width / 2, y: 26)

        // Data extents over plottable points only.
        var xs: [Double] = [], ys: [Double] = []
        for s in series {
            for (x, y) in zip(s.x, s.y) where isPlottable(x, y) {
                xs.append(x)
                ys.append(y)
            }
        }
        let entries = series.enumerated().map { k, s in
            LegendEntry(name: s.name, color: s.color ?? SeriesPalette.color(k), dashed: s.dashed,
                        marker: showsMarkers(s), line: s.connectsPoints)
        }.filter { !$0.name.isEmpty }
        let legendWidth = entries.isEmpty ? 0 : SVGCanvas.legendWidth(entries) + 16

        let bottom = height - (xLabel.isEmpty ? 34 : 54)
        let top = titleHeight + 6
        guard let xMin = xRange?.lowerBound ?? xs.min(), let xMax = xRange?.upperBound ?? xs.max(),
              let yMin = yRange?.lowerBound ?? ys.min(), let yMax = yRange?.upperBound ?? ys.max() else {
            let left = 60.0
            canvas.noData(x: left, y: top, width: width - left - 20 - legendWidth, height: bottom - top)
            canvas.legend(entries, x: width - legendWidth, y: top)
            return canvas.document(title: title)
        }

        // The y scale first (its tick labels decide the left margin); pixel ends fixed below.
        let yScale0 = logScaleY
            ? AxisScale.logarithmic(minimum: yMin, maximum: max(yMax, yMin), pixelLower: bottom, pixelUpper: top)
            : AxisScale.linear(minimum: yMin, maximum: yMax, pixelLower: bottom, pixelUpper: top)
        let yTickWidth = yScale0.ticks.map { SVGCanvas.textWidth($0.label, size: ChartStyle.tickSize) }.max() ?? 0
        let left = (yLabel.isEmpty ? 14 : 34) + yTickWidth + 10
        let right = width - 24 - legendWidth
        let xScale = logScaleX
            ? AxisScale.logarithmic(minimum: xMin, maximum: max(xMax, xMin), pixelLower: left, pixelUpper: right)
            : AxisScale.linear(minimum: xMin, maximum: xMax, pixelLower: left, pixelUpper: right,
                               targetTickCount: max(3, min(9, Int((right - left) / 80))), integerTicks: integerTicksX)
        let yScale = yScale0

        // Grid, axes, ticks.
        canvas.openGroup("class=\"axes\"")
        canvas.rect(x: left, y: top, width: right - left, height: bottom - top, fill: "#ffffff")
        for tick in yScale.ticks {
            guard let py = yScale.pixel(tick.value), py >= top - 0.5, py <= bottom + 0.5 else { continue }
            canvas.line(x1: left, y1: py, x2: right, y2: py, stroke: ChartStyle.gridColor)
            canvas.line(x1: left - 5, y1: py, x2: left, y2: py, stroke: ChartStyle.axisColor)
            canvas.text(tick.label, x: left - 8, y: py, size: ChartStyle.tickSize, anchor: .end,
                        fill: ChartStyle.mutedTextColor, centerVertically: true)
        }
        for tick in xScale.ticks {
            guard let px = xScale.pixel(tick.value), px >= left - 0.5, px <= right + 0.5 else { continue }
            canvas.line(x1: px, y1: top, x2: px, y2: bottom, stroke: ChartStyle.gridColor)
            canvas.line(x1: px, y1: bottom, x2: px, y2: bottom + 5, stroke: ChartStyle.axisColor)
            canvas.text(tick.label, x: px, y: bottom + 19, size: ChartStyle.tickSize, anchor: .middle,
                        fill: ChartStyle.mutedTextColor)
        }
        canvas.rect(x: left, y: top, width: right - left, height: bottom - top, fill: "none",
                    stroke: ChartStyle.axisColor)
        if !xLabel.isEmpty {
            canvas.text(xLabel, x: (left + right) / 2, y: bottom + 42, size: ChartStyle.labelSize, anchor: .middle)
        }
        if !yLabel.isEmpty {
            let cx = 18.0, cy = (top + bottom) / 2
            canvas.text(yLabel, x: cx, y: cy, size: ChartStyle.labelSize, anchor: .middle, rotation: -90,
                        centerVertically: true)
        }
        canvas.closeGroup()

        // Curves, clipped to the plot area.
        canvas.raw("<defs><clipPath id=\"plot-area\"><rect x=\"\(f(left - 4))\" y=\"\(f(top - 4))\" width=\"\(f(right - left + 8))\" height=\"\(f(bottom - top + 8))\"/></clipPath></defs>")
        canvas.openGroup("class=\"series\" clip-path=\"url(#plot-area)\"")
        for (k, s) in series.enumerated() {
            let color = s.color ?? SeriesPalette.color(k)
            var d = ""
            var penDown = false
            var markerPoints: [(Double, Double)] = []
            var labelled: [(Double, Double, String)] = []
            for (index, (x, y)) in zip(s.x, s.y).enumerated() {
                guard isPlottable(x, y), let px = xScale.pixel(x), let py = yScale.pixel(y) else {
                    penDown = false
                    continue
                }
                d += (penDown ? " L" : (d.isEmpty ? "M" : " M")) + "\(f(px)) \(f(py))"
                penDown = true
                markerPoints.append((px, py))
                if index < s.pointLabels.count, !s.pointLabels[index].isEmpty { labelled.append((px, py, s.pointLabels[index])) }
            }
            canvas.comment("series \(k): \(s.name)")
            if !d.isEmpty, s.connectsPoints {
                canvas.path(d, stroke: color, width: 2, dash: s.dashed ? "7 4" : nil, extra: "class=\"curve\"")
            }
            if showsMarkers(s) {
                for (px, py) in markerPoints {
                    canvas.circle(cx: px, cy: py, r: 3, fill: color, stroke: "#ffffff", strokeWidth: 0.8)
                }
            }
            for (px, py, label) in labelled {
                canvas.text(label, x: px + 6, y: py - 6, size: ChartStyle.tickSize, fill: ChartStyle.textColor,
                            extra: "class=\"point-label\"")
            }
        }
        canvas.closeGroup()
        canvas.legend(entries, x: width - legendWidth, y: top)
        return canvas.document(title: title)
    }

    private func showsMarkers(_ s: Series) -> Bool {
        switch markers {
        case .always: return true
        case .never: return !s.connectsPoints
        case .automatic: return s.x.count <= 60 || !s.connectsPoints
        }
    }
}
