/// One named tensor as it is stored in a checkpoint: a dtype, a shape and raw little-endian bytes.
///
/// The initialisers guarantee the invariant `bytes.count == elementCount × dtype.byteSize`, with every
/// dimension non-negative and the sizes computed with overflow checks; an empty shape is a scalar (one element).
public struct StoredTensor: Sendable, Equatable {
    /// The tensor's name in the checkpoint, e.g. `"model.conv1.weight"`.
    public let name: String
    /// The element type.
    public let dtype: TensorDType
    /// The dimensions, outermost first (row-major, as in safetensors).
    public let shape: [Int]
    /// The raw little-endian element bytes.
    public let bytes: [UInt8]

    /// Number of elements: the product of `shape` (1 for a scalar).
    public var elementCount: Int { bytes.count / dtype.byteSize }

    /// Creates a tensor from raw little-endian bytes.
    /// - Throws: ``CheckpointError`` (`.invalidTensor`) if a dimension is negative, the sizes overflow, or
    ///   `bytes.count` is not `elementCount × dtype.byteSize`.
    public init(name: String, dtype: TensorDType, shape: [Int], bytes: [UInt8]) throws {
        let expected = try StoredTensor.byteCount(dtype: dtype, shape: shape)
        guard expected == bytes.count else {
            throw CheckpointError(.invalidTensor,
                                  "tensor '\(name)': shape \(shape) of \(dtype.rawValue) needs \(expected) bytes, got \(bytes.count)")
        }
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    /// Creates an `F32` tensor; `shape` defaults to one dimension of `values.count`.
    public init(name: String, values: [Float], shape: [Int]? = nil) throws {
        try self.init(name: name, dtype: .float32, shape: shape ?? [values.count], bytes: LittleEndianBytes.encode(values))
    }

    /// Creates an `F64` tensor; `shape` defaults to one dimension of `values.count`.
    public init(name: String, values: [Double], shape: [Int]? = nil) throws {
        try self.init(name: name, dtype: .float64, shape: shape ?? [values.count], bytes: LittleEndianBytes.encode(values))
    }

    /// Creates an `I32` tensor; `shape` defaults to one dimension of `values.count`.
    public init(name: String, values: [Int32], shape: [Int]? = nil) throws {
        try self.init(name: name, dtype: .int32, shape: shape ?? [values.count], bytes: LittleEndianBytes.encode(values))
    }

    /// Creates an `I64` tensor; `shape` defaults to one dimension of `values.count`.
    public init(name: String, values: [Int64], shape: [Int]? = nil) throws {
        try self.init(name: name, dtype: .int64, shape: shape ?? [values.count], bytes: LittleEndianBytes.encode(values))
    }

    /// Creates a `U64` tensor; `shape` defaults to one dimension of `values.count`.
    public init(name: String, values: [UInt64], shape: [Int]? = nil) throws {
        try self.init(name: name, dtype: .uint64, shape: shape ?? [values.count], bytes: LittleEndianBytes.encode(values))
    }

    /// Creates a `U8` tensor; `shape` defaults to one dimension of `values.count`.
    public init(name: String, values: [UInt8], shape: [Int]? = nil) throws {
        try self.init(name: name, dtype: .uint8, shape: shape ?? [values.count], bytes: values)
    }

    /// The elements of an `F32` tensor. - Throws: `.invalidTensor` for another dtype.
    public func floats() throws -> [Float] { try values(.float32, as: Float.self) }
    /// The elements of an `F64` tensor. - Throws: `.invalidTensor` for another dtype.
    public func doubles() throws -> [Double] { try values(.float64, as: Double.self) }
    /// The elements of an `I32` tensor. - Throws: `.invalidTensor` for another dtype.
    public func int32s() throws -> [Int32] { try values(.int32, as: Int32.self) }
    /// The elements of an `I64` tensor. - Throws: `.invalidTensor` for another dtype.
    public func int64s() throws -> [Int64] { try values(.int64, as: Int64.self) }
    /// The elements of a `U64` tensor. - Throws: `.invalidTensor` for another dtype.
    public func uint64s() throws -> [UInt64] { try values(.uint64, as: UInt64.self) }
    /// The elements of a `U8` tensor. - Throws: `.invalidTensor` for another dtype.
    public func uint8s() throws -> [UInt8] { try values(.uint8, as: UInt8.self) }

    /// A copy under another name.
    public func renamed(_ newName: String) -> StoredTensor {
        // The invariant only concerns dtype, shape and bytes, which are unchanged.
        StoredTensor(uncheckedName: newName, dtype: dtype, shape: shape, bytes: bytes)
    }

    /// Bytes needed for `shape` of `dtype`, with overflow-checked arithmetic.
    /// - Throws: `.invalidTensor` for a negative dimension or a size that does not fit in `Int`.
    public static func byteCount(dtype: TensorDType, shape: [Int]) throws -> Int {
        var count = 1
        for dimension in shape {
            guard dimension >= 0 else {
                throw CheckpointError(.invalidTensor, "shape \(shape) has a negative dimension")
            }
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow else { throw CheckpointError(.invalidTensor, "shape \(shape) has too many elements") }
            count = product
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow else { throw CheckpointError(.invalidTensor, "shape \(shape) of \(dtype.rawValue) is too large") }
        return bytes
    }

    init(uncheckedName name: String, dtype: TensorDType, shape: [Int], bytes: [UInt8]) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    private func values<T: BitPatternConvertible>(_ expected: TensorDType, as type: T.Type) throws -> [T] {
        guard dtype == expected else {
            throw CheckpointError(.invalidTensor, "tensor '\(name)' is \(dtype.rawValue), not \(expected.rawValue)")
        }
        guard bytes.count == (try StoredTensor.byteCount(dtype: dtype, shape: shape)) else {
            throw CheckpointError(.invalidTensor, "tensor '\(name)' has \(bytes.count) bytes, which does not match shape \(shape)")
        }
        return LittleEndianBytes.decode(bytes, as: T.self)
    }
}
