/// One tagged value of a summary: `Summary.Value` of tensorflow/core/framework/summary.proto, with `tag`
/// (field 1) and one of `simple_value` (2, float), `image` (4) or `histo` (5).
public struct TensorBoardSummaryValue: Sendable, Equatable {
    /// The kinds of value TensorBoard shows on its Scalars, Histograms/Distributions and Images tabs.
    public enum Value: Sendable, Equatable {
        /// A point of a scalar curve (stored as a 32-bit float, as TensorBoard's `simple_value`).
        case scalar(Float)
        /// A distribution.
        case histogram(TensorBoardHistogram)
        /// A picture.
        case image(TensorBoardImage)
    }

    /// The series' name; a `/` groups series into sections (`train/loss`, `ntk/norm`).
    public var tag: String
    /// The value.
    public var value: Value

    /// `value` under `tag`.
    public init(tag: String, _ value: Value) {
        self.tag = tag
        self.value = value
    }

    func encode(into w: inout ProtobufWriter) {
        w.string(1, tag)
        switch value {
        case .scalar(let x): w.float(2, x)
        case .image(let image): w.message(4) { image.encode(into: &$0) }
        case .histogram(let histogram): w.message(5) { histogram.encode(into: &$0) }
        }
    }

    init(decoding bytes: [UInt8]) throws {
        var tag = ""
        var value: Value?
        for field in try ProtobufReader.fields(of: bytes, context: "a Summary.Value") {
            switch field {
            case .lengthDelimited(1, let text): tag = String(decoding: text, as: UTF8.self)
            case .fixed32(2, let bits): value = .scalar(Float(bitPattern: bits))
            case .lengthDelimited(4, let message): value = .image(try TensorBoardImage(decoding: message))
            case .lengthDelimited(5, let message): value = .histogram(try TensorBoardHistogram(decoding: message))
            default: continue
            }
        }
        guard let value else { throw EventFileError("the summary value '\(tag)' holds no scalar, histogram or image") }
        self.init(tag: tag, value)
    }
}
