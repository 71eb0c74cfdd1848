import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest

/// Helpers shared by the chart tests: XML parsing, element counting, optional sample output.
enum SVGTestSupport {
    /// Parses `svg` as XML (FoundationXML's XMLDocument) and returns the root element, failing the test
    /// when the text is not well-formed.
    static func parse(_ svg: String, file: StaticString = #filePath, line: UInt = #line) -> XMLElement? {
        do {
            let document = try XMLDocument(xmlString: svg, options: [])
            let root = document.rootElement()
            XCTAssertEqual(root?.name, "svg", file: file, line: line)
            XCTAssertEqual(root?.uri ?? SVGTestSupport.attribute(root, "xmlns"),
                           "http://www.w3.org/2000/svg", file: file, line: line)
            return root
        } catch {
            XCTFail("not well-formed XML: \(error)\n\(svg.prefix(2000))", file: file, line: line)
            return nil
        }
    }

    /// The value of attribute `name` (looked up by hand: FoundationXML's `attribute(forName:)` returns nil
    /// inside a default namespace on Linux).
    static func attribute(_ element: XMLElement?, _ name: String) -> String? {
        element?.attributes?.first { $0.name == name }?.stringValue
    }

    /// All descendant elements named `name`, in document order.
    static func elements(_ name: String, in element: XMLElement) -> [XMLElement] {
        var found: [XMLElement] = []
        var stack: [XMLElement] = [element]
        while let e = stack.popLast() {
            if e.name == name { found.append(e) }
            stack.append(contentsOf: (e.children ?? []).compactMap { $0 as? XMLElement }.reversed())
        }
        return found
    }

    /// The first descendant `<g>` whose class attribute is `className`.
    static func group(_ className: String, in element: XMLElement) -> XMLElement? {
        elements("g", in: element).first { SVGTestSupport.attribute($0, "class") == className }
    }

    /// Every string attribute value and text node holds no "nan"/"inf" artefacts of non-finite numbers.
    static func assertNoNonFiniteNumbers(_ svg: String, file: StaticString = #filePath, line: UInt = #line) {
        for bad in ["nan", "NaN", "inf\"", "infinity"] {
            XCTAssertFalse(svg.contains("\"\(bad)") || svg.contains(" \(bad)"), "found \(bad)", file: file, line: line)
        }
    }

    /// When TANGENT_PLOT_SAMPLES names a folder, writes `svg` there as `name` (for looking at the plots).
    static func saveSample(_ svg: String, name: String) {
        guard let folder = ProcessInfo.processInfo.environment["TANGENT_PLOT_SAMPLES"] else { return }
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try? svg.write(toFile: folder + "/" + name, atomically: true, encoding: .utf8)
    }
}
