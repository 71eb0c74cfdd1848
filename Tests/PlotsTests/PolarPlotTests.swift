import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Plots
import XCTest

final class PolarPlotTests: XCTestCase {
    /// Trajectories shaped like the paper's: adversarial training moves early then stops, standard
    /// training keeps rotating and expanding.
    private func trajectories(epochs: Int) -> [PolarPlot.Trajectory] {
        let t = (0...epochs).map { Double($0) / Double(epochs) }
        let labels = (0...epochs).map { String($0) }
        let standard = PolarPlot.Trajectory(name: "standard", radii: t.map { pow($0, 1.3) },
                                            angles: t.map { 0.9 * pow($0, 0.6) }, labels: labels)
        let adversarial = PolarPlot.Trajectory(name: "adversarial", radii: t.map { 1 - exp(-8 * $0) + $0 * exp(-8) },
                                               angles: t.map { 1.15 * (1 - exp(-10 * $0)) }, labels: labels)
        return [standard, adversarial]
    }

    func testRendersTrajectoriesGridAndLabels() throws {
        let plot = PolarPlot(title: "Kernel polar dynamics (MNIST)", trajectories: trajectories(epochs: 40),
                             radiusLabel: "‖K_t − K_0‖ / ‖K_T − K_0‖")
        let svg = plot.render()
        SVGTestSupport.saveSample(svg, name: "polar-dynamics.svg")
        let root = try XCTUnwrap(SVGTestSupport.parse(svg))
        let group = try XCTUnwrap(SVGTestSupport.group("trajectories", in: root))
        let paths = SVGTestSupport.elements("path", in: group)
        XCTAssertEqual(paths.count, 2)
        XCTAssertEqual(SVGTestSupport.elements("circle", in: group).count, 82)
        // Angles up to 1.15 rad ≈ 66° ⇒ a 90° sector with 15° spokes.
        for label in ["15°", "45°", "90°"] { XCTAssertTrue(svg.contains(">\(label)</text>"), label) }
        XCTAssertFalse(svg.contains(">105°</text>"))
        // Epoch labels, thinned: the last epoch is always labelled.
        let labels = SVGTestSupport.elements("text", in: group).filter { SVGTestSupport.attribute($0, "class") == "point-label" }
        XCTAssertTrue(labels.contains { $0.stringValue == "40" })
        XCTAssertLessThan(labels.count, 30)
        XCTAssertNotNil(SVGTestSupport.group("legend", in: root))
        SVGTestSupport.assertNoNonFiniteNumbers(svg)
    }

    func testAngleIsMeasuredFromTheHorizontalAxis() throws {
        // One point at radius 1 and angle 0 lies right of the origin on the same height; one at π/2 lies above.
        let plot = PolarPlot(trajectories: [.init(name: "", points: [.init(radius: 1, angle: 0), .init(radius: 1, angle: .pi / 2)])])
        let root = try XCTUnwrap(SVGTestSupport.parse(plot.render()))
        let circles = SVGTestSupport.elements("circle", in: try XCTUnwrap(SVGTestSupport.group("trajectories", in: root)))
        func center(_ e: XMLElement) -> (Double, Double) {
            (Double(SVGTestSupport.attribute(e, "cx")!)!, Double(SVGTestSupport.attribute(e, "cy")!)!)
        }
        let (x0, y0) = center(circles[0]), (x1, y1) = center(circles[1])
        XCTAssertEqual(y0 - y1, x0 - x1, accuracy: 0.02) // same radius: origin = (x1, y0)
        XCTAssertGreaterThan(x0, x1)
        XCTAssertLessThan(y1, y0)
    }

    func testSmallAnglesUseANarrowSectorAndWideAnglesAHalfDisc() throws {
        let narrow = PolarPlot(trajectories: [.init(name: "a", radii: [0, 0.5, 1], angles: [0, 0.2, 0.35])]).render()
        SVGTestSupport.saveSample(narrow, name: "polar-narrow.svg")
        XCTAssertNotNil(SVGTestSupport.parse(narrow))
        XCTAssertTrue(narrow.contains(">30°</text>") && !narrow.contains(">45°</text>"))
        let wide = PolarPlot(trajectories: [.init(name: "b", radii: [0, 0.5, 1, 1.3], angles: [0, 1, 2, 2.5])]).render()
        SVGTestSupport.saveSample(wide, name: "polar-wide.svg")
        XCTAssertNotNil(SVGTestSupport.parse(wide))
        XCTAssertTrue(wide.contains(">180°</text>") && wide.contains(">150°</text>"))
    }

    func testNonFiniteSkippedAndEmptySaysNoData() throws {
        let plot = PolarPlot(trajectories: [.init(name: "gaps", radii: [0, .nan, 0.5, .infinity, 1], angles: [0, 0.1, .nan, 0.2, 0.3])])
        let svg = plot.render()
        let root = try XCTUnwrap(SVGTestSupport.parse(svg))
        XCTAssertEqual(SVGTestSupport.elements("circle", in: try XCTUnwrap(SVGTestSupport.group("trajectories", in: root))).count, 2)
        SVGTestSupport.assertNoNonFiniteNumbers(svg)
        for empty in [PolarPlot(), PolarPlot(trajectories: [.init(name: "x", radii: [.nan], angles: [0])])] {
            let text = empty.render()
            XCTAssertNotNil(SVGTestSupport.parse(text))
            XCTAssertTrue(text.contains(">no data</text>"))
        }
    }
}
