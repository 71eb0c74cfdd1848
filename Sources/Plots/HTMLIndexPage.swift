import Foundation

/// A self-contained HTML page that shows a folder's charts, each under its caption, in sections — the
/// `index.html` of an analysis. Figures are referenced by relative path (the SVG files sit beside the
/// page or below it), so the folder can be moved or served as it is; the page has no scripts and no
/// outside resources.
///
/// ```swift
/// var page = HTMLIndexPage(title: "Kernel dynamics", notes: ["3 kernels, by epoch"])
/// page.sections.append(.init(heading: "Kernels", figures: [
///     .init(file: "polar.svg", caption: "Polar dynamics relative to K₀."),
/// ]))
/// try page.write(to: "analysis/index.html")
/// ```
public struct HTMLIndexPage: Sendable, Equatable {
    /// One chart and what it shows.
    public struct Figure: Sendable, Equatable {
        /// The chart's path relative to the page (e.g. `polar.svg` or `run-a/accuracy.svg`).
        public var file: String
        /// The caption under it: what is plotted and how to read it.
        public var caption: String

        /// A figure showing `file` above `caption`.
        public init(file: String, caption: String) {
            self.file = file
            self.caption = caption
        }
    }

    /// A link to another page or a data file.
    public struct Link: Sendable, Equatable {
        /// The link text.
        public var text: String
        /// The target, relative to the page.
        public var target: String

        /// A link labelled `text` to `target`.
        public init(text: String, target: String) {
            self.text = text
            self.target = target
        }
    }

    /// A titled group of figures, with optional paragraphs before them and links after.
    public struct Section: Sendable, Equatable {
        /// The section heading.
        public var heading: String
        /// Paragraphs shown under the heading.
        public var paragraphs: [String]
        /// The figures, in order.
        public var figures: [Figure]
        /// Links listed after the figures.
        public var links: [Link]

        /// A section of `figures` under `heading`.
        public init(heading: String, paragraphs: [String] = [], figures: [Figure] = [], links: [Link] = []) {
            self.heading = heading
            self.paragraphs = paragraphs
            self.figures = figures
            self.links = links
        }
    }

    /// The page title (also its main heading).
    public var title: String
    /// Paragraphs under the title.
    public var notes: [String]
    /// The sections, in order.
    public var sections: [Section]

    /// A page titled `title`; add sections with ``sections``.
    public init(title: String, notes: [String] = [], sections: [Section] = []) {
        self.title = title
        self.notes = notes
        self.sections = sections
    }

    /// Every figure file the page shows, in order.
    public var figureFiles: [String] { sections.flatMap { $0.figures.map(\.file) } }

    /// The page as an HTML5 document.
    public func render() -> String {
        var html = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(Self.escape(title))</title>
            <style>
            body { font-family: \(SVGCanvas.fontFamily); color: #222; background: #fff; margin: 24px auto; max-width: 1600px; padding: 0 16px; }
            h1 { font-size: 24px; margin-bottom: 8px; }
            h2 { font-size: 19px; margin-top: 32px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
            p { max-width: 70em; line-height: 1.45; }
            .figures { display: flex; flex-wrap: wrap; gap: 24px; }
            figure { margin: 0; flex: 0 1 auto; max-width: 100%; }
            figure img { display: block; max-width: 100%; height: auto; border: 1px solid #e3e3e3; }
            figcaption { max-width: 760px; font-size: 14px; line-height: 1.4; color: #444; margin-top: 6px; }
            ul.links { line-height: 1.6; }
            </style>
            </head>
            <body>
            <h1>\(Self.escape(title))</h1>

            """
        for note in notes { html += "<p>\(Self.escape(note))</p>\n" }
        for section in sections {
            html += "<section>\n<h2>\(Self.escape(section.heading))</h2>\n"
            for paragraph in section.paragraphs { html += "<p>\(Self.escape(paragraph))</p>\n" }
            if !section.figures.isEmpty {
                html += "<div class=\"figures\">\n"
                for figure in section.figures {
                    let file = Self.escape(Self.percentEncoded(figure.file))
                    html += "<figure><a href=\"\(file)\"><img src=\"\(file)\" alt=\"\(Self.escape(figure.caption))\"></a>"
                    html += "<figcaption>\(Self.escape(figure.caption))</figcaption></figure>\n"
                }
                html += "</div>\n"
            }
            if !section.links.isEmpty {
                html += "<ul class=\"links\">\n"
                for link in section.links {
                    html += "<li><a href=\"\(Self.escape(Self.percentEncoded(link.target)))\">\(Self.escape(link.text))</a></li>\n"
                }
                html += "</ul>\n"
            }
            html += "</section>\n"
        }
        html += "</body>\n</html>\n"
        return html
    }

    /// Renders the page and writes it to `path` atomically (the folder must exist).
    public func write(to path: String) throws {
        try render().write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// Text made safe inside HTML elements and quoted attributes.
    static func escape(_ text: String) -> String { SVGCanvas.escape(text) }

    /// A relative path with every character outside the URL path set percent-encoded (file names may hold
    /// spaces, `#` or `?`), `/` kept.
    static func percentEncoded(_ path: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "?#;:")
        return path.addingPercentEncoding(withAllowedCharacters: allowed) ?? path
    }
}
