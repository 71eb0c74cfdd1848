import Foundation

/// An 8-bit grey or RGB image in memory — an input-gradient picture, a grid of them — written as PNG
/// (``PNGEncoder``).
///
/// ```swift
/// let picture = try RasterImage(planes: gradient.scalars, channels: 3, height: 32, width: 32, scaling: .symmetric)
/// try picture.upscaled(by: 4).writePNG(to: "feature-1.png")
/// ```
public struct RasterImage: Sendable, Equatable {
    /// How pixels are stored.
    public enum ColorModel: Int, Sendable, Equatable {
        /// One byte per pixel.
        case grey = 1
        /// Three bytes per pixel: red, green, blue.
        case rgb = 3

        /// Bytes per pixel.
        public var channels: Int { rawValue }
    }

    /// How real values become grey levels in ``init(planes:channels:height:width:scaling:)``.
    public enum Scaling: Sendable, Equatable {
        /// The smallest value becomes 0, the largest 255 (a constant image is mid-grey).
        case minMax
        /// 0 becomes mid-grey (128) and ±max|value| become 255 and 0: the sign of a gradient stays visible.
        case symmetric
    }

    /// Width in pixels.
    public let width: Int
    /// Height in pixels.
    public let height: Int
    /// Grey or RGB.
    public let colorModel: ColorModel
    /// `height × width × channels` bytes, row by row, channels interleaved.
    public let pixels: [UInt8]

    /// An image from its bytes.
    /// - Throws: ``RasterImageError/invalidSize(width:height:)`` unless both sides are 1…2³¹ − 1, and
    ///   ``RasterImageError/pixelCount(expected:got:)`` when `pixels` does not hold `width × height × channels` bytes.
    public init(width: Int, height: Int, colorModel: ColorModel, pixels: [UInt8]) throws {
        guard (1...Int(Int32.max)).contains(width), (1...Int(Int32.max)).contains(height) else {
            throw RasterImageError.invalidSize(width: width, height: height)
        }
        let (area, overflow) = width.multipliedReportingOverflow(by: height * colorModel.channels)
        guard !overflow, pixels.count == area else {
            throw RasterImageError.pixelCount(expected: overflow ? Int.max : area, got: pixels.count)
        }
        self.width = width
        self.height = height
        self.colorModel = colorModel
        self.pixels = pixels
    }

    /// An image of real values stored as planes (`channels × height × width`, the NCHW layout of one
    /// sample): one channel gives a grey image, three an RGB one. All channels share one scale.
    /// - Throws: ``RasterImageError/unsupportedChannels(_:)``, ``RasterImageError/pixelCount(expected:got:)``,
    ///   ``RasterImageError/invalidSize(width:height:)`` and ``RasterImageError/nonFinite(index:)``.
    public init<Values: Collection>(planes values: Values, channels: Int, height: Int, width: Int,
                                    scaling: Scaling = .minMax) throws where Values.Element: BinaryFloatingPoint {
        guard let model = ColorModel(rawValue: channels) else { throw RasterImageError.unsupportedChannels(channels) }
        guard (1...Int(Int32.max)).contains(width), (1...Int(Int32.max)).contains(height) else {
            throw RasterImageError.invalidSize(width: width, height: height)
        }
        let plane = width * height
        let doubles = values.map { Double($0) }
        guard doubles.count == plane * channels else {
            throw RasterImageError.pixelCount(expected: plane * channels, got: doubles.count)
        }
        if let bad = doubles.firstIndex(where: { !$0.isFinite }) { throw RasterImageError.nonFinite(index: bad) }
        let low = doubles.min() ?? 0, high = doubles.max() ?? 0
        let level: (Double) -> UInt8
        switch scaling {
        case .minMax:
            let span = high - low
            level = { span > 0 ? UInt8(((($0 - low) / span) * 255).rounded()) : 128 }
        case .symmetric:
            let extent = max(abs(low), abs(high))
            level = { extent > 0 ? UInt8(min(255, max(0, (127.5 + 127.5 * $0 / extent).rounded()))) : 128 }
        }
        var bytes = [UInt8](repeating: 0, count: plane * channels)
        for c in 0..<channels {
            for p in 0..<plane { bytes[p * channels + c] = level(doubles[c * plane + p]) }
        }
        try self.init(width: width, height: height, colorModel: model, pixels: bytes)
    }

    /// The image with every pixel repeated `factor × factor` times (nearest neighbour), so a 28 × 28
    /// picture can be seen.
    /// - Throws: ``RasterImageError/invalidScale(_:)`` for a factor below 1, and size errors when the
    ///   result would be too large.
    public func upscaled(by factor: Int) throws -> RasterImage {
        guard factor >= 1, factor <= 1 << 12 else { throw RasterImageError.invalidScale(factor) }
        let c = colorModel.channels, w = width * factor, h = height * factor
        var out = [UInt8](repeating: 0, count: w * h * c)
        for y in 0..<h {
            for x in 0..<w {
                let source = ((y / factor) * width + x / factor) * c
                for k in 0..<c { out[(y * w + x) * c + k] = pixels[source + k] }
            }
        }
        return try RasterImage(width: w, height: h, colorModel: colorModel, pixels: out)
    }

    /// Images of one size and colour model tiled row by row, `columns` per row, `spacing` pixels apart
    /// on a background of grey level `background`.
    /// - Throws: ``RasterImageError/emptyGrid``, ``RasterImageError/mixedImages(index:)`` when an image
    ///   differs from the first in size or colour model, ``RasterImageError/invalidLayout(columns:spacing:)``.
    public static func grid(_ images: [RasterImage], columns: Int, spacing: Int = 2,
                            background: UInt8 = 255) throws -> RasterImage {
        guard let first = images.first else { throw RasterImageError.emptyGrid }
        guard columns >= 1, spacing >= 0, spacing <= 1 << 12 else {
            throw RasterImageError.invalidLayout(columns: columns, spacing: spacing)
        }
        if let k = images.firstIndex(where: { $0.width != first.width || $0.height != first.height || $0.colorModel != first.colorModel }) {
            throw RasterImageError.mixedImages(index: k)
        }
        let c = first.colorModel.channels
        let across = min(columns, images.count), down = (images.count + columns - 1) / columns
        let w = across * first.width + (across + 1) * spacing, h = down * first.height + (down + 1) * spacing
        guard w <= Int(Int32.max), h <= Int(Int32.max) else { throw RasterImageError.invalidSize(width: w, height: h) }
        var out = [UInt8](repeating: background, count: w * h * c)
        for (k, image) in images.enumerated() {
            let x0 = spacing + (k % columns) * (first.width + spacing)
            let y0 = spacing + (k / columns) * (first.height + spacing)
            for y in 0..<image.height {
                let source = y * image.width * c, target = ((y0 + y) * w + x0) * c
                out.replaceSubrange(target..<(target + image.width * c), with: image.pixels[source..<(source + image.width * c)])
            }
        }
        return try RasterImage(width: w, height: h, colorModel: first.colorModel, pixels: out)
    }

    /// The image as a PNG file's bytes.
    /// - Throws: ``RasterImageError/compression(status:)`` if zlib fails.
    public func pngData() throws -> [UInt8] { try PNGEncoder.encode(self) }

    /// Writes the image as PNG to `path`, atomically (the folder must exist).
    /// - Throws: as ``pngData()``, and the file system's errors.
    public func writePNG(to path: String) throws {
        try Data(try pngData()).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}

/// Why an image could not be made or encoded.
public enum RasterImageError: Error, CustomStringConvertible, Equatable {
    /// A side outside 1…2³¹ − 1 pixels.
    case invalidSize(width: Int, height: Int)
    /// The pixel buffer does not fit the size.
    case pixelCount(expected: Int, got: Int)
    /// Only 1 (grey) or 3 (RGB) channels.
    case unsupportedChannels(Int)
    /// A NaN or infinite value at flat position `index`.
    case nonFinite(index: Int)
    /// An upscaling factor outside 1…4096.
    case invalidScale(Int)
    /// A grid of no images.
    case emptyGrid
    /// Image `index` of a grid differs from the first in size or colour model.
    case mixedImages(index: Int)
    /// A grid needs at least one column and a spacing of 0…4096 pixels.
    case invalidLayout(columns: Int, spacing: Int)
    /// zlib's `compress2` returned `status`.
    case compression(status: Int)

    /// A sentence naming the problem.
    public var description: String {
        switch self {
        case .invalidSize(let width, let height):
            return "an image of \(width)×\(height) pixels cannot be made: each side must be 1 to \(Int32.max)"
        case .pixelCount(let expected, let got):
            return "the image needs \(expected) bytes of pixels; got \(got)"
        case .unsupportedChannels(let channels):
            return "an image has 1 (grey) or 3 (RGB) channels; got \(channels)"
        case .nonFinite(let index):
            return "the image values hold NaN or infinity at position \(index)"
        case .invalidScale(let factor):
            return "the upscaling factor is \(factor); it must be 1 to 4096"
        case .emptyGrid:
            return "a grid of images needs at least one image"
        case .mixedImages(let index):
            return "image \(index) of the grid differs from image 0 in size or colour model"
        case .invalidLayout(let columns, let spacing):
            return "a grid needs at least 1 column and a spacing of 0 to 4096 pixels; got \(columns) columns, spacing \(spacing)"
        case .compression(let status):
            return "zlib could not compress the image (status \(status))"
        }
    }
}
