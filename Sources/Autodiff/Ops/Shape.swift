import Kernels

extension Primitive {
    /// The same elements with another shape.
    public static let reshape = Primitive("reshape")
    /// A permutation of the axes.
    public static let transpose = Primitive("transpose")
    /// Concatenation along an axis.
    public static let concatenate = Primitive("concatenate")
}

extension Tensor {
    /// The same elements viewed with another shape (no copy).
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        guard newShape.allSatisfy({ $0 >= 0 }), newShape.reduce(1, *) == count else {
            throw ShapeError("reshape", "element counts differ", shapes: [shape, newShape])
        }
        let old = shape
        return Tensor.record(reshapedStorage(to: newShape), primitive: .reshape, inputs: [self],
                             pullback: { g, _ in [g.reshapedStorage(to: old)] },
                             tangent: { t in try t[0]?.reshaped(newShape) })
    }

    /// Flattens every dimension after the first: [N, …] → [N, product].
    public func flattenedBatch() throws -> Tensor {
        guard rank >= 1 else { throw ShapeError("flatten", "needs a batch dimension", shapes: [shape]) }
        return try reshaped([shape[0], shape.dropFirst().reduce(1, *)])
    }

    /// The axes reordered: axis i of the result is axis `permutation[i]` of this tensor (negative
    /// entries count from the end), as NumPy's `transpose(axes)` and PyTorch's `permute`.
    /// `transposed(permutation: [0, 2, 3, 1])` turns NCHW into NHWC.
    public func transposed(permutation: [Int]) throws -> Tensor {
        let p = permutation.map { $0 < 0 ? $0 + rank : $0 }
        guard p.count == rank, p.sorted() == Array(0..<rank) else {
            throw ShapeError("transpose", "\(permutation) is not a permutation of the \(rank) axes", shapes: [shape])
        }
        if p == Array(0..<rank) { return self }
        var inverse = [Int](repeating: 0, count: rank)
        for (i, axis) in p.enumerated() { inverse[axis] = i }
        return Tensor.record(permuteValues(self, p), primitive: .transpose, inputs: [self],
                             pullback: { g, _ in [permuteValues(g, inverse)] },
                             tangent: { t in try t[0]?.transposed(permutation: p) })
    }

    /// The axes in reverse order (a matrix transpose for rank 2), as NumPy's `transpose()`.
    public func transposed() throws -> Tensor { try transposed(permutation: Array((0..<rank).reversed())) }
}

/// The tensors joined along `axis` (negative counts from the end): all must have the same rank and
/// the same extents on every other axis. `concatenate([a, b], alongAxis: 1)` stacks channels.
public func concatenate(_ tensors: [Tensor], alongAxis axis: Int) throws -> Tensor {
    guard let first = tensors.first else { throw ShapeError("concatenate", "needs at least one tensor", shapes: []) }
    let rank = first.rank, a = axis < 0 ? axis + rank : axis
    guard a >= 0, a < rank else {
        throw ShapeError("concatenate", "axis \(axis) is out of range for rank \(rank)", shapes: tensors.map(\.shape))
    }
    for t in tensors where t.rank != rank || t.shape.indices.contains(where: { $0 != a && t.shape[$0] != first.shape[$0] }) {
        throw ShapeError("concatenate", "shapes must match on every axis but \(axis)", shapes: tensors.map(\.shape))
    }
    var shape = first.shape
    shape[a] = tensors.reduce(0) { $0 + $1.shape[a] }
    let outer = first.shape[..<a].reduce(1, *), inner = first.shape[(a + 1)...].reduce(1, *)
    let blocks = tensors.map { $0.shape[a] * inner }
    let y = Tensor.uninitialized(shape)
    let pointers = tensors.map { UnsafePointer($0.storage.pointer) }
    withExtendedLifetime(tensors) {
        Rearrangement.concatenate(pointers, blockSizes: blocks, outer: outer, into: y.storage.pointer)
    }
    let shapes = tensors.map(\.shape)
    return Tensor.record(y, primitive: .concatenate, inputs: tensors, pullback: { g, needs in
        let parts = shapes.indices.map { needs[$0] ? Tensor.uninitialized(shapes[$0]) : nil }
        g.withUnsafePointer { Rearrangement.split($0, blockSizes: blocks, outer: outer, into: parts.map { $0?.storage.pointer }) }
        return parts
    }, tangent: { t in
        guard t.contains(where: { $0 != nil }) else { return nil }
        return try concatenate(shapes.indices.map { t[$0] ?? Tensor.zeros(shapes[$0]) }, alongAxis: a)
    })
}

/// x with its axes permuted, on plain values.
func permuteValues(_ x: Tensor, _ permutation: [Int]) -> Tensor {
    let y = Tensor.uninitialized(permutation.map { x.shape[$0] })
    x.withUnsafePointer { Rearrangement.permute($0, shape: x.shape, permutation: permutation, into: y.storage.pointer) }
    return y
}
