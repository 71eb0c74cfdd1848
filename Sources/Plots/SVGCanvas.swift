import Foundation

/// Builds an SVG 1.1 document as text: shapes, escaped text, compact numbers.
///
/// Internal to the module; every chart draws through one of these.
struct SVGCanvas {
    let width: Double
    let height: Double
    private(set) var body: String = ""

    /// The font stack used for all text (DejaVu Sans is what rsvg and most Linux viewers have).
    static let fontFamily = "DejaVu Sans, Helvetica, Arial, sans-serif"

    init(width: Double, height: Double) {
        self.width = width
        self.height = height
    }

    enum Anchor: String { case start, middle, end }

    mutating func raw(_ text: String) { body += text; body += "\n" }

    mutating func comment(_ text: String) {
        raw("<!-- \(SVGCanvas.escape(text).replacingOccurrences(of: "--", with: "- -")) -->")
    }

    mutating func openGroup(_ attributes: String = "") {
        raw(attributes.isEmpty ? "<g>" : "<g \(attributes)>")
    }

    mutating func closeGroup() { raw("</g>") }

    mutating func rect(x: Double, y: Double, width: Double, height: Double, fill: String,
                       stroke: String? = nil, strokeWidth: Double = 1, extra: String = "") {
        var s = "<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(width))\" height=\"\(f(height))\" fill=\"\(fill)\""
        if let stroke { s += " stroke=\"\(stroke)\" stroke-width=\"\(f(strokeWidth))\"" }
        if !extra.isEmpty { s += " " + extra }
        raw(s + "/>")
    }

    mutating func line(x1: Double, y1: Double, x2: Double, y2: Double, stroke: String,
                       width: Double = 1, dash: String? = nil) {
        var s = "<line x1=\"\(f(x1))\" y1=\"\(f(y1))\" x2=\"\(f(x2))\" y2=\"\(f(y2))\" stroke=\"\(stroke)\" stroke-width=\"\(f(width))\""
        if let dash { s += " stroke-dasharray=\"\(dash)\"" }
        raw(s + "/>")
    }

    mutating func path(_ d: String, stroke: String, width: Double = 1, fill: String = "none",
                       dash: String? = nil, extra: String = "") {
        var s = "<path d=\"\(d)\" fill=\"\(fill)\" stroke=\"\(stroke)\" stroke-width=\"\(f(width))\" stroke-linejoin=\"round\" stroke-linecap=\"round\""
        if let dash { s += " stroke-dasharray=\"\(dash)\"" }
        if !extra.isEmpty { s += " " + extra }
        raw(s + "/>")
    }

    mutating func circle(cx: Double, cy: Double, r: Double, fill: String, stroke: String? = nil,
                         strokeWidth: Double = 1, extra: String = "") {
        var s = "<circle cx=\"\(f(cx))\" cy=\"\(f(cy))\" r=\"\(f(r))\" fill=\"\(fill)\""
        if let stroke { s += " stroke=\"\(stroke)\" stroke-width=\"\(f(strokeWidth))\"" }
        if !extra.isEmpty { s += " " + extra }
        raw(s + "/>")
    }

    /// Text at (x, y). `y` is the baseline unless `centerVertically`, which centres the glyphs on `y`.
    mutating func text(_ content: String, x: Double, y: Double, size: Double = 12, anchor: Anchor = .start,
                       fill: String = "#222222", weight: String? = nil, rotation: Double? = nil,
                       centerVertically: Bool = false, extra: String = "") {
        var s = "<text x=\"\(f(x))\" y=\"\(f(y))\" font-size=\"\(f(size))\" text-anchor=\"\(anchor.rawValue)\" fill=\"\(fill)\""
        if centerVertically { s += " dy=\"0.35em\"" }
        if let weight { s += " font-weight=\"\(weight)\"" }
        if let rotation { s += " transform=\"rotate(\(f(rotation)) \(f(x)) \(f(y)))\"" }
        if !extra.isEmpty { s += " " + extra }
        raw(s + ">\(SVGCanvas.escape(content))</text>")
    }

    /// A `<title>` tooltip element (shown on hover by browsers).
    static func tooltip(_ content: String) -> String { "<title>\(escape(content))</title>" }

    /// The finished document: XML declaration, `<svg>` root with a white background, then the body.
    func document(title: String) -> String {
        var s = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
        s += "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"\(f(width))\" height=\"\(f(height))\" "
        s += "viewBox=\"0 0 \(f(width)) \(f(height))\" font-family=\"\(SVGCanvas.fontFamily)\">\n"
        if !title.isEmpty { s += "<title>\(SVGCanvas.escape(title))</title>\n" }
        s += "<rect x=\"0\" y=\"0\" width=\"\(f(width))\" height=\"\(f(height))\" fill=\"#ffffff\"/>\n"
        s += body
        s += "</svg>\n"
        return s
    }

    /// Escapes the five XML special characters and drops control characters XML 1.0 forbids.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF { continue }
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Approximate rendered width of `text` at `size` (average glyph ≈ 0.6 em for DejaVu Sans).
    static func textWidth(_ text: String, size: Double) -> Double {
        Double(text.count) * size * 0.6
    }
}

/// A coordinate with at most two decimals and no exponent, e.g. `12.35`, `-3`, `0`.
func f(_ x: Double) -> String {
    guard x.isFinite else { return "0" }
    let r = (x * 100).rounded() / 100
    if r == 0 { return "0" }
    if r == r.rounded() && abs(r) < 1e15 { return String(Int(r)) }
    return String(r)
}
