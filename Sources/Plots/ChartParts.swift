/// Pieces shared by the charts: title, legend, the "no data" note.
struct LegendEntry {
    var name: String
    var color: String
    var dashed: Bool = false
    var marker: Bool = true
    /// A line through the swatch (false for scatter series: the marker alone).
    var line: Bool = true
}

enum ChartStyle {
    static let titleSize = 16.0
    static let labelSize = 13.0
    static let tickSize = 11.0
    static let legendSize = 12.0
    static let axisColor = "#444444"
    static let gridColor = "#e3e3e3"
    static let textColor = "#222222"
    static let mutedTextColor = "#555555"
    static let legendRowHeight = 20.0
    static let legendSwatchWidth = 26.0
}

extension SVGCanvas {
    /// Width a vertical legend needs (swatch, gap, longest name, padding).
    static func legendWidth(_ entries: [LegendEntry]) -> Double {
        let longest = entries.map { textWidth($0.name, size: ChartStyle.legendSize) }.max() ?? 0
        return ChartStyle.legendSwatchWidth + 8 + longest + 16
    }

    /// A vertical legend whose top-left corner is (x, y), in a light box.
    mutating func legend(_ entries: [LegendEntry], x: Double, y: Double) {
        guard !entries.isEmpty else { return }
        let width = SVGCanvas.legendWidth(entries)
        let height = Double(entries.count) * ChartStyle.legendRowHeight + 10
        openGroup("class=\"legend\"")
        rect(x: x, y: y, width: width, height: height, fill: "#ffffff", stroke: "#cccccc", extra: "rx=\"3\"")
        for (k, entry) in entries.enumerated() {
            let cy = y + 5 + (Double(k) + 0.5) * ChartStyle.legendRowHeight
            let x0 = x + 8, x1 = x0 + ChartStyle.legendSwatchWidth
            if entry.line {
                line(x1: x0, y1: cy, x2: x1, y2: cy, stroke: entry.color, width: 2.2, dash: entry.dashed ? "6 4" : nil)
            }
            if entry.marker {
                circle(cx: (x0 + x1) / 2, cy: cy, r: 3.2, fill: entry.color, stroke: "#ffffff", strokeWidth: 0.8)
            }
            text(entry.name, x: x1 + 8, y: cy, size: ChartStyle.legendSize, fill: ChartStyle.textColor,
                 centerVertically: true)
        }
        closeGroup()
    }

    /// The chart title, centred at `x`.
    mutating func title(_ title: String, x: Double, y: Double) {
        guard !title.isEmpty else { return }
        text(title, x: x, y: y, size: ChartStyle.titleSize, anchor: .middle, fill: ChartStyle.textColor, weight: "bold")
    }

    /// A framed empty area with a centred "no data" note.
    mutating func noData(x: Double, y: Double, width: Double, height: Double) {
        rect(x: x, y: y, width: width, height: height, fill: "#fafafa", stroke: "#cccccc")
        text("no data", x: x + width / 2, y: y + height / 2, size: 14, anchor: .middle,
             fill: "#888888", centerVertically: true, extra: "class=\"no-data\"")
    }
}
