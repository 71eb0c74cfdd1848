import CZlib
import Foundation

/// An 8-bit RGB or RGBA PNG decoded to pixels — what a headless browser's screenshot is — so tests can
/// check what a page looks like. Non-interlaced images only (browsers write those).
struct PNGImage {
    let width: Int
    let height: Int
    /// Row-major RGB triples (alpha dropped).
    let pixels: [SIMD3<UInt8>]

    struct DecodingError: Error, CustomStringConvertible {
        let description: String
    }

    init(path: String) throws {
        let data = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        guard data.count > 8, Array(data[0..<8]) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] else {
            throw DecodingError(description: "\(path) is not a PNG file")
        }
        func uint32(_ at: Int) -> Int { data[at..<at + 4].reduce(0) { $0 << 8 | Int($1) } }
        var offset = 8
        var header: [UInt8] = []
        var compressed: [UInt8] = []
        while offset + 12 <= data.count {
            let length = uint32(offset)
            let type = String(decoding: data[offset + 4..<offset + 8], as: UTF8.self)
            guard offset + 12 + length <= data.count else { throw DecodingError(description: "\(path): chunk \(type) runs past the end") }
            let body = data[offset + 8..<offset + 8 + length]
            if type == "IHDR" { header = Array(body) }
            if type == "IDAT" { compressed += body }
            if type == "IEND" { break }
            offset += 12 + length
        }
        guard header.count == 13 else { throw DecodingError(description: "\(path) has no image header") }
        width = header[0..<4].reduce(0) { $0 << 8 | Int($1) }
        height = header[4..<8].reduce(0) { $0 << 8 | Int($1) }
        let channels: Int
        switch (header[8], header[9], header[12]) {
        case (8, 2, 0): channels = 3
        case (8, 6, 0): channels = 4
        default: throw DecodingError(description: "\(path): bit depth \(header[8]), colour type \(header[9]), interlace \(header[12]) is not 8-bit RGB(A) without interlacing")
        }
        let stride = width * channels
        var raw = [UInt8](repeating: 0, count: height * (stride + 1))
        var rawCount = uLongf(raw.count)
        let status = raw.withUnsafeMutableBufferPointer { out in
            compressed.withUnsafeBufferPointer { input in
                uncompress(out.baseAddress, &rawCount, input.baseAddress, uLong(input.count))
            }
        }
        guard status == Z_OK, Int(rawCount) == raw.count else {
            throw DecodingError(description: "\(path): image data does not inflate to \(height) rows of \(stride) bytes (zlib status \(status))")
        }
        // Undo the per-row filters (PNG specification, section 9).
        var image = [UInt8](repeating: 0, count: height * stride)
        for y in 0..<height {
            let filter = raw[y * (stride + 1)]
            for x in 0..<stride {
                let value = Int(raw[y * (stride + 1) + 1 + x])
                let a = x >= channels ? Int(image[y * stride + x - channels]) : 0
                let b = y > 0 ? Int(image[(y - 1) * stride + x]) : 0
                let c = x >= channels && y > 0 ? Int(image[(y - 1) * stride + x - channels]) : 0
                let predictor: Int
                switch filter {
                case 0: predictor = 0
                case 1: predictor = a
                case 2: predictor = b
                case 3: predictor = (a + b) / 2
                case 4:
                    let p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                    predictor = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c)
                default: throw DecodingError(description: "\(path): row \(y) has filter type \(filter)")
                }
                image[y * stride + x] = UInt8(truncatingIfNeeded: value + predictor)
            }
        }
        pixels = (0..<(width * height)).map { i in
            SIMD3(image[i * channels], image[i * channels + 1], image[i * channels + 2])
        }
    }

    /// The share of pixels that are not (nearly) white.
    var inkedFraction: Double {
        Double(pixels.filter { min($0.x, $0.y, $0.z) < 235 }.count) / Double(max(1, pixels.count))
    }

    /// How many pixels lie within `tolerance` (per channel) of the colour `#rrggbb`.
    func count(near hex: String, tolerance: Int = 12) -> Int {
        let digits = Array(hex.dropFirst())
        let target = stride(from: 0, to: 6, by: 2).map { Int(String(digits[$0..<$0 + 2]), radix: 16) ?? 0 }
        return pixels.filter { p in
            abs(Int(p.x) - target[0]) <= tolerance && abs(Int(p.y) - target[1]) <= tolerance && abs(Int(p.z) - target[2]) <= tolerance
        }.count
    }
}
