import Kernels

/// Reference-counted, 64-byte-aligned Float storage shared by tensors until one of them mutates
/// (copy-on-write).
public final class TensorStorage: @unchecked Sendable {
    /// The 64-byte-aligned elements.
    public let pointer: UnsafeMutablePointer<Float>
    /// How many Floats the storage holds.
    public let count: Int

    /// Takes ownership of a buffer from `FloatBuffer.allocate`.
    public init(owning pointer: UnsafeMutablePointer<Float>, count: Int) {
        self.pointer = pointer
        self.count = count
    }

    /// Uninitialised storage of `count` Floats.
    public convenience init(uninitializedCount count: Int) {
        self.init(owning: FloatBuffer.allocate(count), count: count)
    }

    deinit { FloatBuffer.deallocate(pointer) }
}

/// An n-dimensional Float32 array (row-major; images are NCHW) that can take part in
/// differentiation.
///
/// A tensor is a value: copies share storage until one is mutated. Two optional pieces of
/// differentiation state ride along:
/// - a graph node (reverse mode), present when the tensor was computed from a tensor that
///   requires gradients (see `requiringGradient()`, `gradients(of:wrt:)`);
/// - a tangent (forward mode), present when it was computed from a tensor given a tangent
///   (see `withTangent(_:)`, `jvp(at:tangent:_:)`).
/// Tensors with neither are plain values, and operations on them record nothing.
public struct Tensor: CustomStringConvertible {
    /// The extent of each dimension.
    public let shape: [Int]
    /// The element buffer (row-major).
    public private(set) var storage: TensorStorage
    var node: GraphNode?
    var tangentBox: TangentBox?

    /// A tensor over existing storage.
    public init(shape: [Int], storage: TensorStorage) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in shape \(shape)")
        precondition(shape.reduce(1, *) <= storage.count, "storage too small for shape \(shape)")
        self.shape = shape
        self.storage = storage
    }

    /// A tensor holding `scalars` (row-major) with the given shape.
    public init(shape: [Int], scalars: [Float]) {
        let count = shape.reduce(1, *)
        precondition(count == scalars.count, "shape \(shape) needs \(count) values, got \(scalars.count)")
        let s = TensorStorage(uninitializedCount: count)
        scalars.withUnsafeBufferPointer { if count > 0 { s.pointer.update(from: $0.baseAddress!, count: count) } }
        self.init(shape: shape, storage: s)
    }

    /// A rank-0 tensor.
    public init(_ scalar: Float) { self.init(shape: [], scalars: [scalar]) }

    /// A tensor whose elements are all `value`.
    public init(repeating value: Float, shape: [Int]) {
        let count = shape.reduce(1, *)
        let s = TensorStorage(uninitializedCount: count)
        s.pointer.initialize(repeating: value, count: max(count, 1))
        self.init(shape: shape, storage: s)
    }

    /// A zero tensor of the given shape.
    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(repeating: 0, shape: shape) }

    /// An uninitialised tensor for kernels to fill.
    public static func uninitialized(_ shape: [Int]) -> Tensor {
        Tensor(shape: shape, storage: TensorStorage(uninitializedCount: shape.reduce(1, *)))
    }

    /// Number of elements.
    public var count: Int { shape.reduce(1, *) }
    /// Number of dimensions.
    public var rank: Int { shape.count }

    /// The elements as an array (row-major).
    public var scalars: [Float] { Array(UnsafeBufferPointer(start: storage.pointer, count: count)) }

    /// The single element of a one-element tensor.
    public var scalar: Float {
        precondition(count == 1, "scalar of a tensor with shape \(shape)")
        return storage.pointer[0]
    }

    /// Read-only access to the elements.
    @inlinable
    public func withUnsafePointer<R>(_ body: (UnsafePointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafePointer(storage.pointer))
    }

    /// Mutable access to the elements, copying the storage first if it is shared. Mutating a value
    /// detaches it from differentiation: the result is a plain tensor.
    public mutating func withUnsafeMutablePointer<R>(_ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        if !isKnownUniquelyReferenced(&storage) {
            let copy = TensorStorage(uninitializedCount: count)
            copy.pointer.update(from: storage.pointer, count: count)
            storage = copy
        }
        node = nil
        tangentBox = nil
        return try body(storage.pointer)
    }

    /// The same values with the given shape (element count must match); shares storage.
    public func reshapedStorage(to newShape: [Int]) -> Tensor {
        precondition(newShape.reduce(1, *) == count, "cannot reshape \(shape) to \(newShape)")
        return Tensor(shape: newShape, storage: storage)
    }

    public var description: String {
        let preview = scalars.prefix(8).map { String($0) }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(preview)\(count > 8 ? ", …" : "")])"
    }
}
