import Foundation

/// Trajectories of (radius, angle) points drawn in polar coordinates: the paper's kernel polar
/// dynamics, radius `‖K_t − K_0‖ / ‖K_T − K_0‖` against the angle `arccos(sim(K_t, K_0))`.
///
/// Angles are in radians, measured counter-clockwise from the horizontal axis. The drawn sector is the
/// smallest of 30°, 45°, 60°, 90°, 120°, 180° or the full circle that holds every point (or
/// ``maximumAngle``), so small rotations are not squashed against the axis. Radial grid circles sit at
/// round radii, spokes carry degree labels, and points can carry labels (for example epoch numbers),
/// thinned so they do not collide.
///
/// ```swift
/// var plot = PolarPlot(title: "Kernel polar dynamics")
/// plot.add(PolarPlot.Trajectory(name: "standard", radii: r1, angles: a1, labels: epochs.map(String.init)))
/// plot.add(PolarPlot.Trajectory(name: "adversarial", radii: r2, angles: a2, labels: epochs.map(String.init)))
/// try plot.write(to: "polar.svg")
/// ```
public struct PolarPlot: Chart {
    /// A point in polar coordinates.
    public struct Point: Sendable, Equatable {
        /// The distance from the origin (data units).
        public var radius: Double
        /// The angle in radians, counter-clockwise from the horizontal axis.
        public var angle: Double

        /// A point at `radius` and `angle` (radians).
        public init(radius: Double, angle: Double) {
            self.radius = radius
            self.angle = angle
        }
    }

    /// One named trajectory.
    public struct Trajectory: Sendable {
        /// The legend name.
        public var name: String
        /// The points in order.
        public var points: [Point]
        /// Optional labels, one per point (e.g. epoch numbers); empty strings are not drawn.
        public var labels: [String]?
        /// A CSS colour; nil picks the next palette colour.
        public var color: String?

        /// A trajectory through `points`.
        public init(name: String, points: [Point], labels: [String]? = nil, color: String? = nil) {
            self.name = name
            self.points = points
            self.labels = labels
            self.color = color
        }

        /// A trajectory from matching radius and angle (radians) arrays.
        public init(name: String, radii: [Double], angles: [Double], labels: [String]? = nil, color: String? = nil) {
            precondition(radii.count == angles.count, "PolarPlot.Trajectory: one angle per radius")
            self.init(name: name, points: zip(radii, angles).map { Point(radius: $0, angle: $1) },
                      labels: labels, color: color)
        }
    }

    /// The title above the plot.
    public var title: String
    /// The trajectories, drawn in order.
    public var trajectories: [Trajectory]
    /// The caption under the radial axis.
    public var radiusLabel: String
    /// Label at most every this many points (the last point is always labelled); nil chooses a
    /// round stride giving about eight labels per trajectory.
    public var labelStride: Int?
    /// The largest angle to show, in radians; nil fits the data.
    public var maximumAngle: Double?
    /// The outer radius; nil fits the data (rounded up to a grid circle).
    public var maximumRadius: Double?

    /// A polar plot; add trajectories with ``add(_:)``.
    public init(title: String = "", trajectories: [Trajectory] = [], radiusLabel: String = "radius") {
        self.title = title
        self.trajectories = trajectories
        self.radiusLabel = radiusLabel
    }

    /// Appends a trajectory.
    public mutating func add(_ trajectory: Trajectory) { trajectories.append(trajectory) }

    private static func isPlottable(_ p: Point) -> Bool {
        p.radius.isFinite && p.angle.isFinite && p.radius >= 0
    }

    /// The chart as a complete SVG document.
    public func render() -> String {
        let points = trajectories.flatMap(\.points).filter(PolarPlot.isPlottable)
        let entries = trajectories.enumerated().map { k, t in
            LegendEntry(name: t.name, color: t.color ?? SeriesPalette.color(k))
        }.filter { !$0.name.isEmpty }
        let legendWidth = entries.isEmpty ? 0 : SVGCanvas.legendWidth(entries) + 16
        let titleHeight = title.isEmpty ? 16.0 : 40.0

        guard !points.isEmpty else {
            var canvas = SVGCanvas(width: 480 + legendWidth, height: 360)
            canvas.title(title, x: (480 + legendWidth) / 2, y: 26)
            canvas.noData(x: 40, y: titleHeight + 6, width: 400, height: 360 - titleHeight - 40)
            canvas.legend(entries, x: 480, y: titleHeight + 6)
            return canvas.document(title: title)
        }

        // Sector and radial extent.
        let dataAngle = points.map(\.angle).max()!
        let hasNegative = points.contains { $0.angle < 0 }
        let spanDegrees: Double = {
            if hasNegative { return 360 }
            let wanted = (maximumAngle ?? dataAngle) * 180 / .pi
            return [30.0, 45, 60, 90, 120, 180, 360].first { wanted <= $0 * 1.0001 } ?? 360
        }()
        let span = spanDegrees * .pi / 180
        let radialTicks = AxisScale.linear(minimum: 0, maximum: max(maximumRadius ?? points.map(\.radius).max()!, 1e-12),
                                           pixelLower: 0, pixelUpper: 1, targetTickCount: 5)
        let outer = maximumRadius ?? radialTicks.upper

        // Bounding box of the unit sector (origin included), sampled per degree.
        var minX = 0.0, maxX = 0.0, minY = 0.0, maxY = 0.0
        for d in 0...Int(spanDegrees) {
            let a = Double(d) * .pi / 180
            minX = min(minX, cos(a)); maxX = max(maxX, cos(a))
            minY = min(minY, sin(a)); maxY = max(maxY, sin(a))
        }
        let pad = 44.0 // room for degree labels around the arc
        let scale = min(520 / (maxX - minX), 440 / max(maxY - minY, 0.25))
        let plotWidth = (maxX - minX) * scale, plotHeight = (maxY - minY) * scale
        let left = 30 + pad, top = titleHeight + pad * 0.6
        let originX = left - minX * scale, originY = top + maxY * scale
        let bottomOfSector = top + plotHeight
        let width = left + plotWidth + pad + legendWidth + 10
        let height = bottomOfSector + (radiusLabel.isEmpty ? 40 : 62)
        var canvas = SVGCanvas(width: width, height: height)
        canvas.title(title, x: (left + plotWidth / 2 + (width - legendWidth) / 2) / 2, y: 26)

        func position(_ radius: Double, _ angle: Double) -> (Double, Double) {
            let r = radius / outer * scale
            return (originX + r * cos(angle), originY - r * sin(angle))
        }
        func arc(_ radius: Double) -> String {
            let r = radius / outer * scale
            if spanDegrees >= 360 {
                return "M\(f(originX + r)) \(f(originY)) A\(f(r)) \(f(r)) 0 1 0 \(f(originX - r)) \(f(originY)) A\(f(r)) \(f(r)) 0 1 0 \(f(originX + r)) \(f(originY))"
            }
            let (ex, ey) = position(radius, span)
            return "M\(f(originX + r)) \(f(originY)) A\(f(r)) \(f(r)) 0 \(spanDegrees > 180 ? 1 : 0) 0 \(f(ex)) \(f(ey))"
        }

        // Sector background, grid circles, spokes.
        canvas.openGroup("class=\"grid\"")
        let background = spanDegrees >= 360 ? arc(outer) + " Z" : "M\(f(originX)) \(f(originY)) L" + arc(outer).dropFirst() + " Z"
        canvas.path(background, stroke: "none", fill: "#fbfbfb")
        for tick in radialTicks.ticks where tick.value > 0 && tick.value <= outer * (1 + 1e-9) {
            let isOuter = abs(tick.value - outer) < outer * 1e-9
            canvas.path(arc(tick.value), stroke: isOuter ? ChartStyle.axisColor : "#d4d4d4", width: isOuter ? 1.2 : 1)
        }
        let spokeStep: Double = [30: 5, 45: 5, 60: 10, 90: 15, 120: 20, 180: 30, 360: 30][spanDegrees] ?? 30
        var degrees = 0.0
        while degrees <= spanDegrees - (spanDegrees >= 360 ? spokeStep : 0) + 1e-9 {
            let a = degrees * .pi / 180
            let (ex, ey) = position(outer, a)
            let isEdge = degrees == 0 || abs(degrees - spanDegrees) < 1e-9
            canvas.line(x1: originX, y1: originY, x2: ex, y2: ey, stroke: isEdge ? ChartStyle.axisColor : "#d4d4d4",
                        width: isEdge ? 1.2 : 1)
            let (lx, ly) = position(outer * (1 + 18 / scale), a)
            let anchor: SVGCanvas.Anchor = cos(a) > 0.35 ? .start : (cos(a) < -0.35 ? .end : .middle)
            if degrees != 0 || spanDegrees >= 360 {
                canvas.text("\(Int(degrees))°", x: lx, y: ly, size: ChartStyle.tickSize, anchor: anchor,
                            fill: ChartStyle.mutedTextColor, centerVertically: true)
            }
            degrees += spokeStep
        }
        // Radius tick labels under the 0° axis.
        for tick in radialTicks.ticks where tick.value <= outer * (1 + 1e-9) {
            let (x, y) = position(tick.value, 0)
            canvas.line(x1: x, y1: y, x2: x, y2: y + 4, stroke: ChartStyle.axisColor)
            canvas.text(tick.label, x: x, y: y + 17, size: ChartStyle.tickSize, anchor: .middle,
                        fill: ChartStyle.mutedTextColor)
        }
        if !radiusLabel.isEmpty {
            let (x0, _) = position(0, 0), (x1, _) = position(outer, 0)
            canvas.text(radiusLabel, x: (x0 + x1) / 2, y: originY + 40, size: ChartStyle.labelSize, anchor: .middle)
        }
        canvas.closeGroup()

        // Trajectories: a path per trajectory and a marker per point (the last one larger).
        let screen: [[(index: Int, x: Double, y: Double)]] = trajectories.map { trajectory in
            trajectory.points.enumerated().compactMap { i, p in
                guard PolarPlot.isPlottable(p) else { return nil }
                let (x, y) = position(p.radius, p.angle)
                return (i, x, y)
            }
        }
        canvas.openGroup("class=\"trajectories\"")
        for (k, trajectory) in trajectories.enumerated() {
            let color = trajectory.color ?? SeriesPalette.color(k)
            var d = ""
            var previous = -2
            for point in screen[k] {
                d += (point.index == previous + 1 ? " L" : (d.isEmpty ? "M" : " M")) + "\(f(point.x)) \(f(point.y))"
                previous = point.index
            }
            canvas.comment("trajectory \(k): \(trajectory.name)")
            if !d.isEmpty { canvas.path(d, stroke: color, width: 2, extra: "class=\"trajectory\" stroke-opacity=\"0.9\"") }
            for (n, point) in screen[k].enumerated() {
                canvas.circle(cx: point.x, cy: point.y, r: n == screen[k].count - 1 ? 4.5 : 3, fill: color,
                              stroke: "#ffffff", strokeWidth: 0.8)
            }
        }
        // Radius tick labels are obstacles for point labels.
        let tickBoxes = radialTicks.ticks.filter { $0.value <= outer * (1 + 1e-9) }.map { tick in
            let (x, y) = position(tick.value, 0)
            let w = SVGCanvas.textWidth(tick.label, size: ChartStyle.tickSize)
            return (x0: x - w / 2, y0: y + 5, x1: x + w / 2, y1: y + 20)
        }
        drawPointLabels(on: &canvas, screen: screen, obstacles: tickBoxes)
        canvas.closeGroup()
        canvas.legend(entries, x: width - legendWidth, y: titleHeight + 6)
        return canvas.document(title: title)
    }

    /// Draws the thinned point labels, each placed beside its point on the side that collides least with
    /// markers, curves and labels already placed (tried: the two normals of the curve, then diagonals,
    /// then along the curve). A label that fits nowhere is dropped, except a trajectory's last one.
    private func drawPointLabels(on canvas: inout SVGCanvas, screen: [[(index: Int, x: Double, y: Double)]],
                                 obstacles: [(x0: Double, y0: Double, x1: Double, y1: Double)]) {
        typealias Box = (x0: Double, y0: Double, x1: Double, y1: Double)
        var boxes: [Box] = obstacles + screen.flatMap { $0.map { (x0: $0.x - 3, y0: $0.y - 3, x1: $0.x + 3, y1: $0.y + 3) } }
        // Labels already drawn, so coinciding points with the same label (all trajectories start at the
        // origin) are labelled once.
        var drawn: [(x: Double, y: Double, label: String)] = []
        // Curve samples every ~3 px, so labels keep off every trajectory line.
        var samples: [(Double, Double)] = []
        for points in screen {
            for (a, b) in zip(points, points.dropFirst()) where b.index == a.index + 1 {
                let steps = max(1, Int((hypot(b.x - a.x, b.y - a.y) / 3).rounded(.up)))
                for s in 0...steps {
                    let t = Double(s) / Double(steps)
                    samples.append((a.x + t * (b.x - a.x), a.y + t * (b.y - a.y)))
                }
            }
        }
        func overlaps(_ b: Box) -> Bool {
            boxes.contains { $0.x0 < b.x1 && b.x0 < $0.x1 && $0.y0 < b.y1 && b.y0 < $0.y1 }
                || samples.contains { $0.0 > b.x0 && $0.0 < b.x1 && $0.1 > b.y0 && $0.1 < b.y1 }
        }

        for (k, trajectory) in trajectories.enumerated() {
            guard let labels = trajectory.labels, !screen[k].isEmpty else { continue }
            let color = trajectory.color ?? SeriesPalette.color(k)
            let points = screen[k]
            let stride = labelStride ?? Heatmap.labelStride(spacing: 1, needed: Double(points.count) / 8)
            for (n, point) in points.enumerated() where n % stride == 0 || n == points.count - 1 {
                guard point.index < labels.count, !labels[point.index].isEmpty else { continue }
                let label = labels[point.index]
                if drawn.contains(where: { $0.label == label && hypot($0.x - point.x, $0.y - point.y) < 2 }) { continue }
                let w = SVGCanvas.textWidth(label, size: 10) + 2, h = 11.0
                // Local direction of the curve through this point.
                let before = points[max(0, n - 1)], after = points[min(points.count - 1, n + 1)]
                var tx = after.x - before.x, ty = after.y - before.y
                let length = hypot(tx, ty)
                if length > 0 { tx /= length; ty /= length } else { tx = 1; ty = 0 }
                let directions: [(Double, Double)] = [(-ty, tx), (ty, -tx),
                    ((-ty + tx) / 2.0.squareRoot(), (tx + ty) / 2.0.squareRoot()),
                    ((-ty - tx) / 2.0.squareRoot(), (tx - ty) / 2.0.squareRoot()),
                    ((ty + tx) / 2.0.squareRoot(), (-tx + ty) / 2.0.squareRoot()),
                    ((ty - tx) / 2.0.squareRoot(), (-tx - ty) / 2.0.squareRoot()),
                    (tx, ty), (-tx, -ty)]
                var chosen: (Double, Double)?
                for (ux, uy) in directions {
                    let distance = 6 + 0.5 * (w * abs(ux) + h * abs(uy))
                    let cx = point.x + ux * distance, cy = point.y + uy * distance
                    let box: Box = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
                    if !overlaps(box) { chosen = (cx, cy); boxes.append(box); break }
                }
                if chosen == nil && n == points.count - 1 {
                    let distance = 6 + 0.5 * (w * abs(ty) + h * abs(tx))
                    chosen = (point.x - ty * distance, point.y + tx * distance)
                }
                guard let (cx, cy) = chosen else { continue }
                drawn.append((point.x, point.y, label))
                // A white halo under the label keeps it readable over grid lines (SVG 1.1 has no paint-order).
                canvas.text(label, x: cx, y: cy, size: 10, anchor: .middle, fill: "#ffffff", centerVertically: true,
                            extra: "stroke=\"#ffffff\" stroke-width=\"3\" stroke-linejoin=\"round\" opacity=\"0.85\"")
                canvas.text(label, x: cx, y: cy, size: 10, anchor: .middle, fill: color, centerVertically: true,
                            extra: "class=\"point-label\"")
            }
        }
    }
}
