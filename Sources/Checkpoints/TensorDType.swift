/// The element types a checkpoint can store, spelled as in the safetensors header.
public enum TensorDType: String, Sendable, CaseIterable, Equatable, Hashable {
    /// 32-bit IEEE-754 float.
    case float32 = "F32"
    /// 64-bit IEEE-754 float.
    case float64 = "F64"
    /// 32-bit signed integer.
    case int32 = "I32"
    /// 64-bit signed integer.
    case int64 = "I64"
    /// 64-bit unsigned integer.
    case uint64 = "U64"
    /// 8-bit unsigned integer (bytes).
    case uint8 = "U8"

    /// Size of one element in bytes.
    public var byteSize: Int {
        switch self {
        case .float32, .int32: return 4
        case .float64, .int64, .uint64: return 8
        case .uint8: return 1
        }
    }
}
