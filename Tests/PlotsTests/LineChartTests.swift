import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Plots
import XCTest

final class LineChartTests: XCTestCase {
    /// A chart like the accuracy curves of a run: clean and robust accuracy over 60 epochs.
    private func accuracyChart() -> LineChart {
        var chart = LineChart(title: "MNIST CNN — clean and PGD-20 accuracy", xLabel: "epoch", yLabel: "accuracy")
        let epochs = (0...60).map(Double.init)
        chart.add(.init(name: "train clean", x: epochs, y: epochs.map { 1 - 0.9 * exp(-$0 / 6) }))
        chart.add(.init(name: "train robust", x: epochs, y: epochs.map { 0.75 * (1 - exp(-$0 / 15)) }))
        chart.add(.init(name: "test clean", x: epochs, y: epochs.map { 0.98 - 0.88 * exp(-$0 / 6) }, dashed: true))
        chart.add(.init(name: "test robust", x: epochs, y: epochs.map { 0.7 * (1 - exp(-$0 / 15)) }, dashed: true))
        return chart
    }

    func testRendersWellFormedSVGWithOnePathPerSeries() throws {
        let chart = accuracyChart()
        let svg = chart.render()
        SVGTestSupport.saveSample(svg, name: "line-accuracy.svg")
        let root = try XCTUnwrap(SVGTestSupport.parse(svg))
        let curves = SVGTestSupport.elements("path", in: root).filter { SVGTestSupport.attribute($0, "class") == "curve" }
        XCTAssertEqual(curves.count, 4)
        XCTAssertTrue(svg.contains("train robust"))
        XCTAssertTrue(svg.contains(">epoch</text>"))
        // Round tick labels on the x axis.
        for tick in ["0", "20", "40", "60"] { XCTAssertTrue(svg.contains(">\(tick)</text>"), tick) }
        // 61 points ⇒ markers off automatically.
        XCTAssertEqual(SVGTestSupport.elements("circle", in: try XCTUnwrap(SVGTestSupport.group("series", in: root))).count, 0)
        SVGTestSupport.assertNoNonFiniteNumbers(svg)
    }

    func testLogScaleMagnitudeChartWithMarkers() throws {
        var chart = LineChart(title: "Kernel magnitude ‖K_t‖", xLabel: "epoch", yLabel: "‖K‖ (Frobenius)", logScaleY: true)
        let epochs = (0...20).map { Double($0 * 10) }
        chart.add(.init(name: "standard", x: epochs, y: epochs.map { 3e3 * pow(10, $0 / 60) }))
        chart.add(.init(name: "adversarial (PGD)", x: epochs, y: epochs.map { 2e3 * pow(1.5, $0 / 100) }))
        chart.markers = .always
        let svg = chart.render()
        SVGTestSupport.saveSample(svg, name: "line-magnitude-log.svg")
        let root = try XCTUnwrap(SVGTestSupport.parse(svg))
        let series = try XCTUnwrap(SVGTestSupport.group("series", in: root))
        XCTAssertEqual(SVGTestSupport.elements("circle", in: series).count, 42)
        XCTAssertTrue(svg.contains(">10³</text>") && svg.contains(">10⁴</text>") && svg.contains(">10⁶</text>"))
    }

    func testTickLabelsAreRoundAndUniform() throws {
        // Less than a decade on a log axis: round linear ticks (2000, 2500, …), not lone powers of ten.
        var short = LineChart(title: "short log range", logScaleY: true)
        short.add(.init(name: "adversarial", y: (0...50).map { 2e3 * pow(1.5, Double($0) / 25) }))
        let svg = short.render()
        XCTAssertNotNil(SVGTestSupport.parse(svg))
        for label in ["2000", "2500", "3000", "4500"] { XCTAssertTrue(svg.contains(">\(label)</text>"), label) }
        // A step of 25 gets integer labels; a step of 0.25 gets two decimals.
        let steps = LineChart(series: [.init(name: "a", x: [0, 100], y: [0, 1])], logScaleY: false)
        let text = steps.render()
        XCTAssertTrue(text.contains(">25</text>") || text.contains(">20</text>"))
        XCTAssertFalse(text.contains(">25.0</text>"))
        XCTAssertTrue(text.contains(">0.2</text>") || text.contains(">0.25</text>"))
    }

    func testNonFiniteAndNonPositiveValuesAreSkipped() throws {
        var chart = LineChart(title: "gaps", xLabel: "x", yLabel: "y", logScaleY: true)
        chart.markers = .always
        chart.add(.init(name: "with gaps", x: [0, 1, 2, 3, 4, 5, .nan], y: [1, 2, .nan, 4, -1, .infinity, 3]))
        let svg = chart.render()
        let root = try XCTUnwrap(SVGTestSupport.parse(svg))
        let series = try XCTUnwrap(SVGTestSupport.group("series", in: root))
        // Plottable: (0,1), (1,2), (3,4) → three markers, and the curve breaks at x = 2.
        XCTAssertEqual(SVGTestSupport.elements("circle", in: series).count, 3)
        let d = try XCTUnwrap(SVGTestSupport.elements("path", in: series).first.flatMap { SVGTestSupport.attribute($0, "d") })
        XCTAssertEqual(d.filter { $0 == "M" }.count, 2)
        SVGTestSupport.assertNoNonFiniteNumbers(svg)
    }

    /// Widths 16 … 16,384 on a log x axis: powers of ten are equally spaced, the points of a doubling
    /// sequence too, and a non-positive x is skipped (it would have no place on the axis).
    func testLogScaleXSpacesDecadesEqually() throws {
        var chart = LineChart(title: "robust loss against width", xLabel: "width m", yLabel: "loss")
        chart.logScaleX = true
        chart.markers = .always
        let widths = (4...14).map { pow(2, Double($0)) }
        chart.add(.init(name: "ε = 0.1", x: [0] + widths, y: [1] + widths.map { 1 / $0.squareRoot() }))
        let svg = chart.render()
        SVGTestSupport.saveSample(svg, name: "line-log-x.svg")
        let root = try XCTUnwrap(SVGTestSupport.parse(svg))
        let series = try XCTUnwrap(SVGTestSupport.group("series", in: root))
        let xs = SVGTestSupport.elements("circle", in: series).compactMap { SVGTestSupport.attribute($0, "cx").flatMap(Double.init) }
        XCTAssertEqual(xs.count, widths.count, "x = 0 is skipped")
        let gaps = zip(xs.dropFirst(), xs).map { $0 - $1 }
        for gap in gaps { XCTAssertEqual(gap, gaps[0], accuracy: 0.02, "doublings are equally spaced") }
        XCTAssertGreaterThan(gaps[0], 0)
        for label in ["10", "10²", "10³", "10⁴", "10⁵"] { XCTAssertTrue(svg.contains(">\(label)</text>"), label) }
        // Without the log axis the same doublings crowd together at the left.
        chart.logScaleX = false
        let linear = try XCTUnwrap(SVGTestSupport.group("series", in: try XCTUnwrap(SVGTestSupport.parse(chart.render()))))
        let linearXs = SVGTestSupport.elements("circle", in: linear).compactMap { SVGTestSupport.attribute($0, "cx").flatMap(Double.init) }
        XCTAssertEqual(linearXs.count, widths.count + 1, "x = 0 is plottable on a linear axis")
        if linearXs.count == widths.count + 1 { XCTAssertLessThan(linearXs[2] - linearXs[1], 0.01 * (linearXs[11] - linearXs[10])) }
        SVGTestSupport.assertNoNonFiniteNumbers(svg)
    }

    func testEmptyChartSaysNoData() throws {
        for chart in [LineChart(title: "empty"),
                      LineChart(title: "all NaN", series: [.init(name: "s", y: [.nan, .infinity])])] {
            let svg = chart.render()
            let root = try XCTUnwrap(SVGTestSupport.parse(svg))
            XCTAssertTrue(svg.contains(">no data</text>"))
            XCTAssertNotNil(root)
        }
    }

    func testTextIsEscapedAndSingleValueAxesWork() throws {
        var chart = LineChart(title: "a < b & \"c\" > 'd'", xLabel: "<x>", yLabel: "y & z")
        chart.add(.init(name: "</text><script>", points: [(x: 3, y: 5)]))
        let svg = chart.render()
        XCTAssertNotNil(SVGTestSupport.parse(svg))
        XCTAssertTrue(svg.contains("a &lt; b &amp; &quot;c&quot; &gt; &apos;d&apos;"))
        XCTAssertFalse(svg.contains("<script>"))
    }

    func testWriteToPath() throws {
        let path = NSTemporaryDirectory() + "tangent-linechart-\(UUID().uuidString).svg"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try accuracyChart().write(to: path)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), accuracyChart().render())
    }
}
