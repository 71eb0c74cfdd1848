import Kernels

extension Primitive {
    /// The sum of all elements (a rank-0 result).
    public static let sum = Primitive("sum")
}

extension Tensor {
    /// The sum of all elements, as a rank-0 tensor (accumulated in Double).
    public func sum() -> Tensor {
        let shape = self.shape
        var total = 0.0
        withUnsafePointer { p in for i in 0..<count { total += Double(p[i]) } }
        return Tensor.record(Tensor(Float(total)), primitive: .sum, inputs: [self],
                             pullback: { g, _ in [Tensor(repeating: g.scalar, shape: shape)] },
                             tangent: { t in t[0]?.sum() })
    }

    /// The mean of all elements, as a rank-0 tensor.
    public func mean() -> Tensor { sum().scaled(by: 1 / Float(max(count, 1))) }

    /// The sum over `axes` (negative axes count from the end; each at most once). With
    /// `keepingDimensions`, the summed axes stay as extent 1 (so the result broadcasts against this
    /// tensor); otherwise they are removed. No axes: the tensor itself.
    public func sum(alongAxes axes: [Int], keepingDimensions: Bool = false) throws -> Tensor {
        let resolved = try resolveAxes("sum", axes)
        let kept = shape.indices.map { resolved.contains($0) ? 1 : shape[$0] }
        let summed = try summed(toShape: kept)
        if keepingDimensions || resolved.isEmpty { return summed }
        return try summed.reshaped(shape.indices.filter { !resolved.contains($0) }.map { shape[$0] })
    }

    /// The mean over `axes` (see ``sum(alongAxes:keepingDimensions:)``).
    public func mean(alongAxes axes: [Int], keepingDimensions: Bool = false) throws -> Tensor {
        let resolved = try resolveAxes("mean", axes)
        let n = resolved.reduce(1) { $0 * shape[$1] }
        return try sum(alongAxes: Array(resolved), keepingDimensions: keepingDimensions).scaled(by: 1 / Float(max(n, 1)))
    }

    /// `axes` as indices in 0..<rank (negative ones counted from the end), or a ``ShapeError`` for
    /// an axis out of range or repeated.
    func resolveAxes(_ operation: String, _ axes: [Int]) throws -> Set<Int> {
        var resolved = Set<Int>()
        for axis in axes {
            let a = axis < 0 ? axis + rank : axis
            guard a >= 0, a < rank else {
                throw ShapeError(operation, "axis \(axis) is out of range for rank \(rank)", shapes: [shape])
            }
            guard resolved.insert(a).inserted else {
                throw ShapeError(operation, "axis \(axis) is given twice", shapes: [shape])
            }
        }
        return resolved
    }
}
