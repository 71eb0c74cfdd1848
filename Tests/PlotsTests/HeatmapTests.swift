import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Plots
import XCTest

final class HeatmapTests: XCTestCase {
    /// A distance matrix shaped like the paper's: the kernel moves fast early, then settles.
    private func distances(_ count: Int) -> [[Double]] {
        let position = (0..<count).map { log1p(Double($0)) }
        return (0..<count).map { s in (0..<count).map { t in 0.8 * (1 - exp(-abs(position[s] - position[t]))) } }
    }

    func testCellsLabelsAndColorbar() throws {
        let n = 30, m = 30
        let epochs = (0..<n).map { String($0 * 5) }
        let heatmap = Heatmap(values: distances(n), title: "Kernel distance between epochs (standard training)",
                              xLabel: "epoch", yLabel: "epoch", rowLabels: epochs, columnLabels: epochs,
                              colorbarLabel: "1 − sim(Kₛ, Kₜ)")
        let svg = heatmap.render()
        SVGTestSupport.saveSample(svg, name: "heatmap-distance.svg")
        let root = try XCTUnwrap(SVGTestSupport.parse(svg))
        let cells = try XCTUnwrap(SVGTestSupport.group("cells", in: root))
        XCTAssertEqual(SVGTestSupport.elements("rect", in: cells).count, n * m)
        XCTAssertNotNil(SVGTestSupport.group("colorbar", in: root))
        XCTAssertTrue(svg.contains("linearGradient"))
        XCTAssertTrue(svg.contains(">1 − sim(Kₛ, Kₜ)</text>"))
        // The diagonal (0) is the darkest viridis colour; the largest distance is the brightest.
        XCTAssertTrue(svg.contains("fill=\"#440154\""))
        XCTAssertTrue(svg.contains("fill=\"#fde725\""))
        // Labels are thinned to a round stride: not every epoch is printed.
        let labels = try XCTUnwrap(SVGTestSupport.group("labels", in: root))
        let texts = SVGTestSupport.elements("text", in: labels).count
        XCTAssertGreaterThan(texts, 6)
        XCTAssertLessThan(texts, 2 * n)
        SVGTestSupport.assertNoNonFiniteNumbers(svg)
    }

    func testLargeMatrixStaysReasonable() throws {
        let n = 200
        let epochs = (0..<n).map(String.init)
        let svg = Heatmap(values: distances(n), title: "200 × 200 kernel distances", xLabel: "epoch", yLabel: "epoch",
                          rowLabels: epochs, columnLabels: epochs, colorbarLabel: "kernel distance").render()
        SVGTestSupport.saveSample(svg, name: "heatmap-200.svg")
        let root = try XCTUnwrap(SVGTestSupport.parse(svg))
        XCTAssertEqual(SVGTestSupport.elements("rect", in: try XCTUnwrap(SVGTestSupport.group("cells", in: root))).count, n * n)
        XCTAssertLessThan(svg.utf8.count, 4_000_000)
        XCTAssertFalse(svg.contains("<title>0, 0:"), "no per-cell tooltips on large matrices")
    }

    func testNonFiniteCellsAreSkippedAndValuesShown() throws {
        // Hand-checkable 3 × 3 with a NaN and an infinity: 7 cells drawn, range 0…4.
        var heatmap = Heatmap(values: [[0, 1, 2], [1, .nan, 3], [2, 3, .infinity]], title: "small", colorbarLabel: "value")
        heatmap.showsValues = true
        let svg = heatmap.render()
        SVGTestSupport.saveSample(svg, name: "heatmap-small-missing.svg")
        let root = try XCTUnwrap(SVGTestSupport.parse(svg))
        XCTAssertEqual(SVGTestSupport.elements("rect", in: try XCTUnwrap(SVGTestSupport.group("cells", in: root))).count, 7)
        let values = SVGTestSupport.elements("text", in: try XCTUnwrap(SVGTestSupport.group("cell-values", in: root)))
        XCTAssertEqual(values.map { $0.stringValue ?? "" }.sorted(), ["0.00", "1.00", "1.00", "2.00", "2.00", "3.00", "3.00"])
        XCTAssertTrue(svg.contains(">no value</text>"))
        XCTAssertTrue(svg.contains("<title>1, 2: 3.0</title>"))
        SVGTestSupport.assertNoNonFiniteNumbers(svg)
    }

    func testConstantMatrixAndEmptyInput() throws {
        let constant = Heatmap(values: [[0.5, 0.5], [0.5, 0.5]]).render()
        XCTAssertNotNil(SVGTestSupport.parse(constant))
        for empty in [Heatmap(values: []), Heatmap(values: [[], []]), Heatmap(values: [[.nan]])] {
            let svg = empty.render()
            XCTAssertNotNil(SVGTestSupport.parse(svg))
            XCTAssertTrue(svg.contains(">no data</text>"))
        }
    }

    func testColormapEndpoints() {
        XCTAssertEqual(Colormap.viridis.hex(0), "#440154")
        XCTAssertEqual(Colormap.viridis.hex(1), "#fde725")
        XCTAssertEqual(Colormap.viridis.hex(-3), "#440154")
        XCTAssertEqual(Colormap.viridisReversed.hex(0), "#fde725")
    }
}
