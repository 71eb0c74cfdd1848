import CZlib
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Plots
import XCTest

/// Scatter series of the line chart, raster images and the PNG encoder (read back by an independent
/// decoder below).
final class ScatterAndPNGTests: XCTestCase {
    func testScatterSeriesDrawMarkersAndLabelsButNoCurve() throws {
        var chart = LineChart(title: "features", xLabel: "usefulness", yLabel: "robustness")
        chart.add(.scatter(name: "top", x: [0.7, 0.6, 0.55], y: [0.5, 0.3, 0.1], pointLabels: ["1", "", "25"]))
        chart.add(.init(name: "curve", x: [0, 1], y: [0, 1]))
        let svg = chart.render()
        SVGTestSupport.saveSample(svg, name: "scatter.svg")
        let root = try XCTUnwrap(SVGTestSupport.parse(svg))
        let curves = SVGTestSupport.elements("path", in: root).filter { SVGTestSupport.attribute($0, "class") == "curve" }
        XCTAssertEqual(curves.count, 1, "only the connected series draws a curve")
        let series = try XCTUnwrap(SVGTestSupport.group("series", in: root))
        XCTAssertEqual(SVGTestSupport.elements("circle", in: series).count, 5, "three scatter points and two curve markers")
        let labels = SVGTestSupport.elements("text", in: root).filter { SVGTestSupport.attribute($0, "class") == "point-label" }
        XCTAssertEqual(labels.map { $0.stringValue ?? "" }, ["1", "25"])
        // The legend shows a line for the curve only.
        let legend = try XCTUnwrap(SVGTestSupport.group("legend", in: root))
        XCTAssertEqual(SVGTestSupport.elements("line", in: legend).count, 1)
        // Markers never switch off for a scatter.
        chart.markers = .never
        XCTAssertEqual(SVGTestSupport.elements("circle", in: try XCTUnwrap(SVGTestSupport.group("series", in: try XCTUnwrap(SVGTestSupport.parse(chart.render()))))).count, 3)
    }

    func testPNGRoundTripsGreyAndRGBThroughAnIndependentDecoder() throws {
        let grey = try RasterImage(width: 3, height: 2, colorModel: .grey, pixels: [0, 50, 100, 150, 200, 255])
        var decoded = try DecodedPNG(grey.pngData())
        XCTAssertEqual([decoded.width, decoded.height, decoded.colorType], [3, 2, 0])
        XCTAssertEqual(decoded.pixels, grey.pixels)
        let rgbPixels = (0..<(5 * 4 * 3)).map { UInt8(($0 * 37) % 256) }
        let rgb = try RasterImage(width: 5, height: 4, colorModel: .rgb, pixels: rgbPixels)
        decoded = try DecodedPNG(rgb.pngData())
        XCTAssertEqual([decoded.width, decoded.height, decoded.colorType], [5, 4, 2])
        XCTAssertEqual(decoded.pixels, rgbPixels)
        // Written to a file, atomically.
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tangent-png-\(getpid()).png").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try rgb.writePNG(to: path)
        XCTAssertEqual([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))), try rgb.pngData())
    }

    func testPlanesBecomePixelsWithTheChosenScaling() throws {
        // Two channels are refused; three planes interleave into RGB.
        XCTAssertThrowsError(try RasterImage(planes: [Float](repeating: 0, count: 8), channels: 2, height: 2, width: 2)) {
            XCTAssertEqual($0 as? RasterImageError, .unsupportedChannels(2))
        }
        let planes: [Float] = [0, 1, 2, 3, /* green */ 4, 5, 6, 7, /* blue */ -4, -2, 0, 8]
        let minMax = try RasterImage(planes: planes, channels: 3, height: 2, width: 2)
        XCTAssertEqual(minMax.colorModel, .rgb)
        XCTAssertEqual(Array(minMax.pixels[0..<3]), [85, 170, 0])   // (0, 4, −4) on −4…8
        XCTAssertEqual(minMax.pixels[11], 255)
        let symmetric = try RasterImage(planes: [Float(-2), 0, 1, 2], channels: 1, height: 2, width: 2, scaling: .symmetric)
        XCTAssertEqual(symmetric.pixels, [0, 128, 191, 255])
        XCTAssertEqual(try RasterImage(planes: [Float](repeating: 3, count: 4), channels: 1, height: 2, width: 2).pixels,
                       [128, 128, 128, 128])
        XCTAssertThrowsError(try RasterImage(planes: [Float(1), .nan, 0, 0], channels: 1, height: 2, width: 2)) {
            XCTAssertEqual($0 as? RasterImageError, .nonFinite(index: 1))
        }
        XCTAssertThrowsError(try RasterImage(planes: [Float(1), 2, 3], channels: 1, height: 2, width: 2)) {
            XCTAssertEqual($0 as? RasterImageError, .pixelCount(expected: 4, got: 3))
        }
        XCTAssertThrowsError(try RasterImage(width: 0, height: 2, colorModel: .grey, pixels: [])) {
            XCTAssertEqual($0 as? RasterImageError, .invalidSize(width: 0, height: 2))
        }
    }

    func testUpscalingAndGrids() throws {
        let a = try RasterImage(width: 2, height: 1, colorModel: .grey, pixels: [10, 20])
        let big = try a.upscaled(by: 2)
        XCTAssertEqual([big.width, big.height], [4, 2])
        XCTAssertEqual(big.pixels, [10, 10, 20, 20, 10, 10, 20, 20])
        XCTAssertThrowsError(try a.upscaled(by: 0)) { XCTAssertEqual($0 as? RasterImageError, .invalidScale(0)) }
        let b = try RasterImage(width: 2, height: 1, colorModel: .grey, pixels: [30, 40])
        let grid = try RasterImage.grid([a, b, a], columns: 2, spacing: 1, background: 255)
        // Two columns, two rows: (2·2 + 3) × (2·1 + 3).
        XCTAssertEqual([grid.width, grid.height], [7, 5])
        XCTAssertEqual(Array(grid.pixels[(1 * 7)..<(2 * 7)]), [255, 10, 20, 255, 30, 40, 255])
        XCTAssertEqual(Array(grid.pixels[(3 * 7)..<(4 * 7)]), [255, 10, 20, 255, 255, 255, 255])
        XCTAssertThrowsError(try RasterImage.grid([], columns: 2)) { XCTAssertEqual($0 as? RasterImageError, .emptyGrid) }
        XCTAssertThrowsError(try RasterImage.grid([a, big], columns: 2)) { XCTAssertEqual($0 as? RasterImageError, .mixedImages(index: 1)) }
        XCTAssertThrowsError(try RasterImage.grid([a], columns: 0)) {
            XCTAssertEqual($0 as? RasterImageError, .invalidLayout(columns: 0, spacing: 2))
        }
    }
}

/// A PNG read back for the tests: chunk CRCs checked, IDAT inflated, all five row filters undone;
/// 8-bit grey or RGB, not interlaced.
struct DecodedPNG {
    let width: Int
    let height: Int
    let colorType: Int
    let pixels: [UInt8]

    struct Failure: Error, CustomStringConvertible { let description: String }

    init(_ data: [UInt8]) throws {
        guard data.count > 8, Array(data[0..<8]) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] else {
            throw Failure(description: "no PNG signature")
        }
        func uint32(_ at: Int) -> Int { data[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
        var offset = 8, header: [UInt8] = [], compressed: [UInt8] = [], sawEnd = false
        while offset + 12 <= data.count {
            let length = uint32(offset)
            guard offset + 12 + length <= data.count else { throw Failure(description: "chunk past the end") }
            let typed = Array(data[(offset + 4)..<(offset + 8 + length)])
            let crc = typed.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) }
            guard Int(crc) == uint32(offset + 8 + length) else { throw Failure(description: "bad CRC") }
            let type = String(decoding: typed[0..<4], as: UTF8.self), body = Array(typed[4...])
            if type == "IHDR" { header = body }
            if type == "IDAT" { compressed += body }
            if type == "IEND" { sawEnd = true; break }
            offset += 12 + length
        }
        guard sawEnd, header.count == 13, header[8] == 8, header[12] == 0 else { throw Failure(description: "bad header or no IEND") }
        width = header[0..<4].reduce(0) { $0 << 8 | Int($1) }
        height = header[4..<8].reduce(0) { $0 << 8 | Int($1) }
        colorType = Int(header[9])
        let channels = colorType == 0 ? 1 : 3, stride = width * channels
        var raw = [UInt8](repeating: 0, count: height * (stride + 1))
        var rawCount = uLongf(raw.count)
        let status = raw.withUnsafeMutableBufferPointer { out in
            compressed.withUnsafeBufferPointer { uncompress(out.baseAddress, &rawCount, $0.baseAddress, uLong($0.count)) }
        }
        guard status == Z_OK, Int(rawCount) == raw.count else { throw Failure(description: "does not inflate") }
        var image = [UInt8](repeating: 0, count: height * stride)
        for y in 0..<height {
            let filter = raw[y * (stride + 1)]
            for x in 0..<stride {
                let value = Int(raw[y * (stride + 1) + 1 + x])
                let a = x >= channels ? Int(image[y * stride + x - channels]) : 0
                let b = y > 0 ? Int(image[(y - 1) * stride + x]) : 0
                let c = x >= channels && y > 0 ? Int(image[(y - 1) * stride + x - channels]) : 0
                let predicted: Int
                switch filter {
                case 0: predicted = 0
                case 1: predicted = a
                case 2: predicted = b
                case 3: predicted = (a + b) / 2
                case 4:
                    let p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                    predicted = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c)
                default: throw Failure(description: "unknown filter \(filter)")
                }
                image[y * stride + x] = UInt8((value + predicted) & 0xFF)
            }
        }
        pixels = image
    }
}
