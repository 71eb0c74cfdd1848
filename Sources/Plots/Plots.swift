// Plots: small, dependency-free SVG 1.1 charts for kernel dynamics — line curves (accuracy,
// magnitude, concentration), heatmaps (the all-pairs kernel-distance matrix) and polar trajectories.
// Every chart is a value you configure and render to a self-contained SVG string.

import Foundation

/// A chart that renders to a standalone SVG 1.1 document.
///
/// Implemented by ``LineChart``, ``Heatmap`` and ``PolarPlot``. Rendering never fails: non-finite
/// values are skipped, and a chart with nothing to draw renders a frame that says "no data".
public protocol Chart: Sendable {
    /// The complete SVG document (UTF-8 text, XML declaration included).
    func render() -> String
}

extension Chart {
    /// Renders the chart and writes it to `path` atomically (the folder must exist).
    public func write(to path: String) throws {
        try render().write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// Renders the chart and writes it to a file URL atomically (the folder must exist).
    public func write(to url: URL) throws {
        try render().write(to: url, atomically: true, encoding: .utf8)
    }
}
