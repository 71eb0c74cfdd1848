import Plots

/// A picture for TensorBoard's Images tab: `Summary.Image` of tensorflow/core/framework/summary.proto —
/// `height` (1), `width` (2), `colorspace` (3: 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA) and the encoded
/// image (4, PNG here).
public struct TensorBoardImage: Sendable, Equatable {
    /// Height in pixels.
    public var height: Int
    /// Width in pixels.
    public var width: Int
    /// Channels: 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA.
    public var colorspace: Int
    /// The image file's bytes (PNG).
    public var encoded: [UInt8]

    /// An image from its encoded bytes and size.
    public init(height: Int, width: Int, colorspace: Int, encoded: [UInt8]) {
        self.height = height
        self.width = width
        self.colorspace = colorspace
        self.encoded = encoded
    }

    /// `image` encoded as PNG.
    public init(_ image: RasterImage) throws {
        self.init(height: image.height, width: image.width, colorspace: image.colorModel.channels,
                  encoded: try PNGEncoder.encode(image))
    }

    func encode(into w: inout ProtobufWriter) {
        w.integer(1, Int64(height))
        w.integer(2, Int64(width))
        w.integer(3, Int64(colorspace))
        w.bytes(4, encoded)
    }

    init(decoding bytes: [UInt8]) throws {
        self.init(height: 0, width: 0, colorspace: 0, encoded: [])
        for field in try ProtobufReader.fields(of: bytes, context: "a Summary.Image") {
            switch field {
            case .varint(1, let v): height = Int(truncatingIfNeeded: v)
            case .varint(2, let v): width = Int(truncatingIfNeeded: v)
            case .varint(3, let v): colorspace = Int(truncatingIfNeeded: v)
            case .lengthDelimited(4, let data): encoded = data
            default: continue
            }
        }
    }
}
