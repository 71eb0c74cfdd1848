import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Plots
import XCTest

/// The HTML index page of an analysis, integer-only x ticks for epoch and step axes, and the series palette.
final class IndexPageAndTickTests: XCTestCase {
    func testIndexPageShowsEveryFigureUnderItsCaptionAndEscapesText() throws {
        var page = HTMLIndexPage(title: "Runs <a> & <b>", notes: ["ε = 0.3 \"quoted\""])
        page.sections.append(.init(heading: "Kernels", paragraphs: ["One paragraph."], figures: [
            .init(file: "polar.svg", caption: "Polar dynamics & more"),
            .init(file: "run #1/accuracy.svg", caption: "Accuracy of run <1>"),
        ]))
        page.sections.append(.init(heading: "Data", links: [.init(text: "comparison.csv", target: "comparison.csv")]))
        let html = page.render()
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>"))
        XCTAssertTrue(html.contains("<title>Runs &lt;a&gt; &amp; &lt;b&gt;</title>"), html)
        XCTAssertTrue(html.contains("<p>ε = 0.3 &quot;quoted&quot;</p>"), html)
        XCTAssertTrue(html.contains("<img src=\"polar.svg\" alt=\"Polar dynamics &amp; more\">"), html)
        XCTAssertTrue(html.contains("<figcaption>Accuracy of run &lt;1&gt;</figcaption>"), html)
        XCTAssertTrue(html.contains("<img src=\"run%20%231/accuracy.svg\""), "file names are URL-encoded: \(html)")
        XCTAssertTrue(html.contains("<a href=\"comparison.csv\">comparison.csv</a>"), html)
        XCTAssertEqual(page.figureFiles, ["polar.svg", "run #1/accuracy.svg"])
        XCTAssertFalse(html.contains("<script"), "the page runs nothing")
        XCTAssertEqual(html.components(separatedBy: "<figure>").count - 1, 2)
        XCTAssertEqual(html.components(separatedBy: "<section>").count, html.components(separatedBy: "</section>").count)
    }

    /// The x tick labels of a rendered line chart (centred 11-pixel texts).
    private func xTicks(_ chart: LineChart) throws -> [String] {
        let root = try XCTUnwrap(SVGTestSupport.parse(chart.render()))
        return SVGTestSupport.elements("text", in: root).filter {
            SVGTestSupport.attribute($0, "text-anchor") == "middle" && SVGTestSupport.attribute($0, "font-size") == "11"
        }.compactMap(\.stringValue)
    }

    func testIntegerTicksForEpochAxes() throws {
        // Three epochs: a fitted axis puts ticks at halves; an epoch axis does not.
        var chart = LineChart(title: "distance", xLabel: "epoch", yLabel: "d")
        chart.add(.init(name: "run", x: [0, 1, 2], y: [0, 0.1, 0.2]))
        XCTAssertTrue(try xTicks(chart).contains("0.5"), "the fitted axis this test relies on")
        chart.integerTicksX = true
        XCTAssertEqual(try xTicks(chart), ["0", "1", "2"])

        // One epoch widens to whole numbers; twenty epochs skip the 2.5 step.
        chart.series = [.init(name: "run", x: [1], y: [0.5])]
        let one = try xTicks(chart)
        XCTAssertTrue(one.allSatisfy { Int($0) != nil }, "\(one)")
        chart.series = [.init(name: "run", x: (0...20).map(Double.init), y: (0...20).map { Double($0) / 20 })]
        let twenty = try xTicks(chart)
        XCTAssertTrue(twenty.allSatisfy { Int($0) != nil }, "\(twenty)")
        XCTAssertTrue(twenty.contains("20"), "\(twenty)")
    }

    func testPaletteCyclesForAnyIndex() {
        XCTAssertEqual(SeriesPalette.color(0), "#1f77b4")
        XCTAssertEqual(SeriesPalette.color(10), SeriesPalette.color(0))
        XCTAssertEqual(SeriesPalette.color(-1), SeriesPalette.color(9))
    }
}
