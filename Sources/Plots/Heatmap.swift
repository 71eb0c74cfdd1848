import Foundation

/// A matrix of values drawn as coloured cells, with a colour bar: the paper's all-pairs
/// kernel-distance matrix (epoch × epoch), or a kernel itself.
///
/// Row 0 is drawn at the top (matrix convention); columns run left to right. Row and column labels
/// (for example epoch numbers) are thinned to a round stride so they never overlap. Non-finite cells
/// are left grey and excluded from the colour range.
///
/// ```swift
/// let heatmap = Heatmap(values: distances, title: "Kernel distance", xLabel: "epoch", yLabel: "epoch",
///                       rowLabels: epochs.map(String.init), columnLabels: epochs.map(String.init),
///                       colorbarLabel: "1 − sim(Kₛ, Kₜ)")
/// try heatmap.write(to: "distance.svg")
/// ```
public struct Heatmap: Chart {
    /// The matrix, as rows (ragged rows are padded with missing cells).
    public var values: [[Double]]
    /// The title above the plot.
    public var title: String
    /// The label under the columns.
    public var xLabel: String
    /// The label beside the rows.
    public var yLabel: String
    /// One label per row (default: the row index).
    public var rowLabels: [String]?
    /// One label per column (default: the column index).
    public var columnLabels: [String]?
    /// The colour-bar caption.
    public var colorbarLabel: String
    /// The value range mapped onto the colormap; nil uses the finite minimum and maximum.
    public var valueRange: ClosedRange<Double>?
    /// The colour scale.
    public var colormap: Colormap = .viridis
    /// Writes each cell's value inside it (sensible for small matrices only).
    public var showsValues: Bool = false
    /// Decimals for values written in cells.
    public var valueDecimals: Int = 2
    /// The longest side of the cell area in pixels; cells stay square.
    public var maximumSide: Double = 520

    /// A heatmap of `values` (rows of equal length).
    public init(values: [[Double]], title: String = "", xLabel: String = "", yLabel: String = "",
                rowLabels: [String]? = nil, columnLabels: [String]? = nil, colorbarLabel: String = "",
                valueRange: ClosedRange<Double>? = nil) {
        self.values = values
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.rowLabels = rowLabels
        self.columnLabels = columnLabels
        self.colorbarLabel = colorbarLabel
        self.valueRange = valueRange
    }

    /// The chart as a complete SVG document.
    public func render() -> String {
        let rows = values.count
        let columns = values.map(\.count).max() ?? 0
        let finite = values.flatMap { $0 }.filter(\.isFinite)
        let titleHeight = title.isEmpty ? 16.0 : 40.0

        guard rows > 0, columns > 0, !finite.isEmpty || valueRange != nil else {
            var canvas = SVGCanvas(width: 480, height: 360)
            canvas.title(title, x: 240, y: 26)
            canvas.noData(x: 40, y: titleHeight + 6, width: 400, height: 360 - titleHeight - 40)
            return canvas.document(title: title)
        }

        let rowNames = (0..<rows).map { r in rowLabels.flatMap { r < $0.count ? $0[r] : nil } ?? String(r) }
        let columnNames = (0..<columns).map { c in columnLabels.flatMap { c < $0.count ? $0[c] : nil } ?? String(c) }

        // Geometry: square cells filling at most maximumSide, at least 160 px on the long side.
        let cell = min(48, max(160, maximumSide) / Double(max(rows, columns)))
        let gridWidth = cell * Double(columns), gridHeight = cell * Double(rows)
        let rowLabelWidth = rowNames.map { SVGCanvas.textWidth($0, size: ChartStyle.tickSize) }.max() ?? 0
        let left = (yLabel.isEmpty ? 12 : 32) + rowLabelWidth + 10
        let top = titleHeight + 8
        let gridRight = left + gridWidth, gridBottom = top + gridHeight

        // Colour range and colour-bar ticks.
        var lo = valueRange?.lowerBound ?? finite.min()!
        var hi = valueRange?.upperBound ?? finite.max()!
        (lo, hi) = AxisScale.widenDegenerate(lo, hi)
        let barX = gridRight + 22, barWidth = 16.0
        let barHeight = max(gridHeight, 160), barTop = top
        let barScale = AxisScale.linear(minimum: lo, maximum: hi, pixelLower: barTop + barHeight,
                                        pixelUpper: barTop, targetTickCount: 6, extendToTicks: false)
        let barLabelWidth = barScale.ticks.map { SVGCanvas.textWidth($0.label, size: ChartStyle.tickSize) }.max() ?? 0
        let width = barX + barWidth + 8 + barLabelWidth + (colorbarLabel.isEmpty ? 16 : 38)
        let hasMissing = values.contains { row in row.count < columns || row.contains { !$0.isFinite } }
        let height = max(gridBottom, barTop + barHeight) + (xLabel.isEmpty ? 34 : 56) + (hasMissing ? 18 : 0)
        var canvas = SVGCanvas(width: max(width, 320), height: height)
        canvas.title(title, x: canvas.width / 2, y: 26)

        // Cells over a grey "missing" background.
        canvas.rect(x: left, y: top, width: gridWidth, height: gridHeight, fill: "#cfcfcf", extra: "class=\"missing\"")
        let tooltips = rows * columns <= 2500
        canvas.openGroup("class=\"cells\" shape-rendering=\"crispEdges\"")
        for r in 0..<rows {
            for c in 0..<values[r].count {
                let v = values[r][c]
                guard v.isFinite else { continue }
                let t = (v - lo) / (hi - lo)
                let rect = "<rect x=\"\(f(left + Double(c) * cell))\" y=\"\(f(top + Double(r) * cell))\" width=\"\(f(cell))\" height=\"\(f(cell))\" fill=\"\(colormap.hex(t))\""
                if tooltips {
                    canvas.raw(rect + ">" + SVGCanvas.tooltip("\(rowNames[r]), \(columnNames[c]): \(v)") + "</rect>")
                } else {
                    canvas.raw(rect + "/>")
                }
            }
        }
        canvas.closeGroup()
        if showsValues {
            let size = min(12, cell * 0.32)
            canvas.openGroup("class=\"cell-values\"")
            for r in 0..<rows {
                for c in 0..<values[r].count where values[r][c].isFinite {
                    let t = (values[r][c] - lo) / (hi - lo)
                    canvas.text(String(format: "%.\(valueDecimals)f", values[r][c]),
                                x: left + (Double(c) + 0.5) * cell, y: top + (Double(r) + 0.5) * cell, size: size,
                                anchor: .middle, fill: colormap.luminance(t) > 0.45 ? "#111111" : "#ffffff",
                                centerVertically: true)
                }
            }
            canvas.closeGroup()
        }
        canvas.rect(x: left, y: top, width: gridWidth, height: gridHeight, fill: "none", stroke: ChartStyle.axisColor)

        // Row and column labels at a round stride that keeps them apart.
        canvas.openGroup("class=\"labels\"")
        let rowStride = Heatmap.labelStride(spacing: cell, needed: ChartStyle.tickSize + 3)
        for r in stride(from: 0, to: rows, by: rowStride) {
            let y = top + (Double(r) + 0.5) * cell
            canvas.line(x1: left - 4, y1: y, x2: left, y2: y, stroke: ChartStyle.axisColor)
            canvas.text(rowNames[r], x: left - 7, y: y, size: ChartStyle.tickSize, anchor: .end,
                        fill: ChartStyle.mutedTextColor, centerVertically: true)
        }
        let columnLabelWidth = columnNames.map { SVGCanvas.textWidth($0, size: ChartStyle.tickSize) }.max() ?? 0
        let columnStride = Heatmap.labelStride(spacing: cell, needed: columnLabelWidth + 8)
        for c in stride(from: 0, to: columns, by: columnStride) {
            let x = left + (Double(c) + 0.5) * cell
            canvas.line(x1: x, y1: gridBottom, x2: x, y2: gridBottom + 4, stroke: ChartStyle.axisColor)
            canvas.text(columnNames[c], x: x, y: gridBottom + 17, size: ChartStyle.tickSize, anchor: .middle,
                        fill: ChartStyle.mutedTextColor)
        }
        if !xLabel.isEmpty {
            canvas.text(xLabel, x: left + gridWidth / 2, y: gridBottom + 40, size: ChartStyle.labelSize, anchor: .middle)
        }
        if !yLabel.isEmpty {
            canvas.text(yLabel, x: 16, y: top + gridHeight / 2, size: ChartStyle.labelSize, anchor: .middle,
                        rotation: -90, centerVertically: true)
        }
        if hasMissing {
            canvas.rect(x: left, y: height - 22, width: 10, height: 10, fill: "#cfcfcf", stroke: "#999999", strokeWidth: 0.5)
            canvas.text("no value", x: left + 15, y: height - 13, size: 10, fill: ChartStyle.mutedTextColor)
        }
        canvas.closeGroup()

        // Colour bar: a vertical gradient (low at the bottom) with ticks.
        canvas.openGroup("class=\"colorbar\"")
        var stops = ""
        let anchorCount = colormap.anchors.count
        for k in 0..<anchorCount {
            let t = Double(k) / Double(anchorCount - 1)
            stops += "<stop offset=\"\(f(t))\" stop-color=\"\(Colormap.hex(colormap.anchors[k]))\"/>"
        }
        canvas.raw("<defs><linearGradient id=\"colorbar-gradient\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">\(stops)</linearGradient></defs>")
        canvas.rect(x: barX, y: barTop, width: barWidth, height: barHeight, fill: "url(#colorbar-gradient)",
                    stroke: ChartStyle.axisColor, strokeWidth: 0.8)
        for tick in barScale.ticks {
            guard let y = barScale.pixel(tick.value) else { continue }
            canvas.line(x1: barX + barWidth, y1: y, x2: barX + barWidth + 4, y2: y, stroke: ChartStyle.axisColor)
            canvas.text(tick.label, x: barX + barWidth + 7, y: y, size: ChartStyle.tickSize,
                        fill: ChartStyle.mutedTextColor, centerVertically: true)
        }
        if !colorbarLabel.isEmpty {
            let x = barX + barWidth + 8 + barLabelWidth + 20
            canvas.text(colorbarLabel, x: x, y: barTop + barHeight / 2, size: ChartStyle.labelSize, anchor: .middle,
                        rotation: -90, centerVertically: true)
        }
        canvas.closeGroup()
        return canvas.document(title: title)
    }

    /// The smallest round stride (1, 2, 5, 10, 20, 25, 50, …) whose spacing fits a label.
    static func labelStride(spacing: Double, needed: Double) -> Int {
        guard spacing > 0 else { return 1 }
        let minimum = max(1, Int((needed / spacing).rounded(.up)))
        var base = 1
        while true {
            let candidates = base >= 10 ? [base, 2 * base, 25 * base / 10, 5 * base] : [base, 2 * base, 5 * base]
            if let stride = candidates.first(where: { $0 >= minimum }) { return stride }
            base *= 10
        }
    }
}
