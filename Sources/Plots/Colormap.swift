/// A continuous colour scale from [0, 1] to RGB, for heatmaps.
public struct Colormap: Sendable, Equatable {
    /// Evenly spaced RGB anchors (components in [0, 1]); colours between anchors are interpolated.
    public let anchors: [SIMD3<Double>]

    /// A colormap through the given evenly spaced anchors (at least two).
    public init(anchors: [SIMD3<Double>]) {
        precondition(anchors.count >= 2, "a colormap needs at least two anchors")
        self.anchors = anchors
    }

    /// Matplotlib's viridis (17 anchors sampled from it): perceptually uniform, colour-blind friendly,
    /// readable in greyscale. Dark purple is low, yellow high.
    public static let viridis = Colormap(anchors: [
        [0.2670, 0.0049, 0.3294], [0.2823, 0.0950, 0.4173], [0.2788, 0.1755, 0.4834], [0.2590, 0.2515, 0.5247],
        [0.2297, 0.3224, 0.5457], [0.1994, 0.3876, 0.5546], [0.1727, 0.4488, 0.5579], [0.1490, 0.5081, 0.5573],
        [0.1276, 0.5669, 0.5506], [0.1206, 0.6258, 0.5335], [0.1579, 0.6838, 0.5017], [0.2461, 0.7389, 0.4520],
        [0.3692, 0.7889, 0.3829], [0.5160, 0.8312, 0.2943], [0.6785, 0.8637, 0.1895], [0.8456, 0.8873, 0.0997],
        [0.9932, 0.9062, 0.1439],
    ])

    /// Viridis reversed: yellow low, dark high (handy when small values are the interesting ones).
    public static let viridisReversed = Colormap(anchors: viridis.anchors.reversed())

    /// The colour at `t` (clamped to [0, 1]).
    public func rgb(_ t: Double) -> SIMD3<Double> {
        let x = t.isNaN ? 0 : min(1, max(0, t)) * Double(anchors.count - 1)
        let i = min(anchors.count - 2, Int(x))
        let w = x - Double(i)
        return anchors[i] * (1 - w) + anchors[i + 1] * w
    }

    /// The colour at `t` as `#rrggbb`.
    public func hex(_ t: Double) -> String { Colormap.hex(rgb(t)) }

    /// Relative luminance (sRGB, approximate) of the colour at `t`: pick dark or light text on it.
    func luminance(_ t: Double) -> Double {
        let c = rgb(t)
        return 0.2126 * c.x + 0.7152 * c.y + 0.0722 * c.z
    }

    static func hex(_ c: SIMD3<Double>) -> String {
        func byte(_ v: Double) -> String {
            let b = Int((min(1, max(0, v)) * 255).rounded())
            let digits = Array("0123456789abcdef")
            return String([digits[b / 16], digits[b % 16]])
        }
        return "#" + byte(c.x) + byte(c.y) + byte(c.z)
    }
}

/// Distinct colours for series (Tableau 10, the matplotlib default cycle): the colours charts give
/// series without one, and the ones to use when several curves of one series (a run, say) share a colour.
public enum SeriesPalette {
    /// The ten colours, as `#rrggbb`.
    public static let colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

    /// The colour of series `index` (cycling after ten; negative indices count from the start too).
    public static func color(_ index: Int) -> String { colors[((index % colors.count) + colors.count) % colors.count] }
}
