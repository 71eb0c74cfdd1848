import Kernels

extension Primitive {
    /// a + b with NumPy broadcasting.
    public static let add = Primitive("add")
    /// a − b with NumPy broadcasting.
    public static let subtract = Primitive("subtract")
    /// a ∘ b (elementwise product) with NumPy broadcasting.
    public static let multiply = Primitive("multiply")
    /// a / b with NumPy broadcasting.
    public static let divide = Primitive("divide")
    /// The broadcast copy of a tensor to a larger shape.
    public static let broadcast = Primitive("broadcast")
    /// The sum of a tensor down to a shape that broadcasts to it (the adjoint of `broadcast`).
    public static let sumToShape = Primitive("sumToShape")
}

// Binary arithmetic follows NumPy's broadcasting rules: shapes are aligned at the right, and each
// dimension must be equal or 1 in one of the operands (missing leading dimensions count as 1). The
// VJP of an operand sums the cotangent over the dimensions along which it was broadcast. Equal shapes
// take the vectorised same-shape kernels directly, with no layout work.
extension Tensor {
    /// Elementwise sum, with NumPy broadcasting.
    public static func + (a: Tensor, b: Tensor) throws -> Tensor {
        try arithmetic(.add, a, b, shape: broadcastShape("add", a.shape, b.shape))
    }

    /// Elementwise difference, with NumPy broadcasting.
    public static func - (a: Tensor, b: Tensor) throws -> Tensor {
        try arithmetic(.subtract, a, b, shape: broadcastShape("subtract", a.shape, b.shape))
    }

    /// Elementwise (Hadamard) product, with NumPy broadcasting.
    public static func * (a: Tensor, b: Tensor) throws -> Tensor {
        try arithmetic(.multiply, a, b, shape: broadcastShape("multiply", a.shape, b.shape))
    }

    /// Elementwise quotient, with NumPy broadcasting (IEEE division: x/0 is ±∞ or NaN).
    public static func / (a: Tensor, b: Tensor) throws -> Tensor {
        try arithmetic(.divide, a, b, shape: broadcastShape("divide", a.shape, b.shape))
    }

    /// This tensor repeated to `shape` under NumPy broadcasting (new leading dimensions, and
    /// extent-1 dimensions stretched). Returns the tensor itself when the shape is already `shape`.
    public func broadcasted(to shape: [Int]) throws -> Tensor {
        guard shape.allSatisfy({ $0 >= 0 }), let layout = StridedLayout.broadcasting([self.shape], to: shape) else {
            throw ShapeError("broadcast", "cannot broadcast \(self.shape) to \(shape)", shapes: [self.shape, shape])
        }
        if shape == self.shape { return self }
        let old = self.shape
        return Tensor.record(expandValues(self, to: shape, layout: layout), primitive: .broadcast, inputs: [self],
                             pullback: { g, _ in [sumValues(g, to: old)] },
                             tangent: { t in try t[0]?.broadcasted(to: shape) })
    }

    /// The sum of this tensor down to `shape`, a shape that broadcasts to this tensor's (so
    /// `[N, C, H, W]` summed to `[1, C, 1, 1]` or `[C, 1, 1]` is the per-channel sum). Returns the
    /// tensor itself when the shape is already `shape`.
    public func summed(toShape shape: [Int]) throws -> Tensor {
        guard shape.allSatisfy({ $0 >= 0 }), StridedLayout.broadcasting([shape], to: self.shape) != nil else {
            throw ShapeError("sumToShape", "\(shape) does not broadcast to \(self.shape)", shapes: [self.shape, shape])
        }
        if shape == self.shape { return self }
        let old = self.shape
        return Tensor.record(sumValues(self, to: shape), primitive: .sumToShape, inputs: [self],
                             pullback: { g, _ in [expandValues(g, to: old)] },
                             tangent: { t in try t[0]?.summed(toShape: shape) })
    }

    /// One of the four broadcasting operations, with its VJP and JVP rules; `shape` is the result's.
    static func arithmetic(_ op: BinaryOperation, _ a: Tensor, _ b: Tensor, shape: [Int]) -> Tensor {
        let y = combine(op, a, b, shape: shape)
        let ad = a.detached, bd = b.detached
        switch op {
        case .add:
            return record(y, primitive: .add, inputs: [a, b], pullback: { g, needs in
                [needs[0] ? sumValues(g, to: ad.shape) : nil, needs[1] ? sumValues(g, to: bd.shape) : nil]
            }, tangent: { t in
                switch (t[0], t[1]) {
                case let (ta?, tb?): return try ta + tb
                case let (ta?, nil): return try ta.broadcasted(to: shape)
                case let (nil, tb?): return try tb.broadcasted(to: shape)
                case (nil, nil): return nil
                }
            })
        case .subtract:
            return record(y, primitive: .subtract, inputs: [a, b], pullback: { g, needs in
                [needs[0] ? sumValues(g, to: ad.shape) : nil,
                 needs[1] ? affineMap(sumValues(g, to: bd.shape), scale: -1, shift: 0) : nil]
            }, tangent: { t in
                switch (t[0], t[1]) {
                case let (ta?, tb?): return try ta - tb
                case let (ta?, nil): return try ta.broadcasted(to: shape)
                case let (nil, tb?): return try tb.scaled(by: -1).broadcasted(to: shape)
                case (nil, nil): return nil
                }
            })
        case .multiply:
            return record(y, primitive: .multiply, inputs: [a, b], pullback: { g, needs in
                [needs[0] ? sumValues(combine(.multiply, g, bd, shape: shape), to: ad.shape) : nil,
                 needs[1] ? sumValues(combine(.multiply, g, ad, shape: shape), to: bd.shape) : nil]
            }, tangent: { t in
                // d(a b) = da · b + a · db, each term broadcast to the result's shape by the product.
                try sumTangents([t[0].map { try $0 * b.primal }, t[1].map { try a.primal * $0 }])
            })
        case .divide:
            return record(y, primitive: .divide, inputs: [a, b], pullback: { g, needs in
                // ∂/∂a = g / b;  ∂/∂b = −g a / b² = −(g / b) · y.
                let q = combine(.divide, g, bd, shape: shape)
                return [needs[0] ? sumValues(q, to: ad.shape) : nil,
                        needs[1] ? affineMap(sumValues(combine(.multiply, q, y, shape: shape), to: bd.shape), scale: -1, shift: 0) : nil]
            }, tangent: { t in
                // d(a / b) = da / b − db · (a / b) / b; a / b is recomputed when reverse mode must see it.
                let quotient = a.requiresGradient || b.requiresGradient ? try a.primal / b.primal : y
                return try sumTangents([t[0].map { try $0 / b.primal },
                                        t[1].map { try ($0 / b.primal * quotient).scaled(by: -1) }])
            })
        }
    }
}

/// The broadcast shape of the operands of `operation`, or a ``ShapeError`` naming both shapes and
/// the first dimension (counted from the right) that does not match.
func broadcastShape(_ operation: String, _ a: [Int], _ b: [Int]) throws -> [Int] {
    if a == b { return a }
    if let shape = StridedLayout.broadcastShape(a, b) { return shape }
    var offset = 1
    while offset <= min(a.count, b.count), a[a.count - offset] == b[b.count - offset]
            || a[a.count - offset] == 1 || b[b.count - offset] == 1 { offset += 1 }
    let x = a[a.count - offset], y = b[b.count - offset]
    throw ShapeError(operation, "cannot broadcast \(a) with \(b): dimension -\(offset) is \(x) vs \(y) "
                     + "(aligned at the right, each dimension must match or be 1)", shapes: [a, b])
}

/// a ∘ b on plain values (nothing recorded): the same-shape kernels for equal shapes, the strided
/// broadcasting kernel otherwise. `shape` is the broadcast shape of the operands.
func combine(_ op: BinaryOperation, _ a: Tensor, _ b: Tensor, shape: [Int]) -> Tensor {
    if a.shape == b.shape {
        switch op {
        case .add: return zipKernel(a, b) { Elementwise.add($0, $1, $2, count: $3) }
        case .subtract: return zipKernel(a, b) { Elementwise.subtract($0, $1, $2, count: $3) }
        case .multiply: return zipKernel(a, b) { Elementwise.multiply($0, $1, $2, count: $3) }
        case .divide: return zipKernel(a, b) { Elementwise.divide($0, $1, $2, count: $3) }
        }
    }
    guard let layout = StridedLayout.broadcasting([a.shape, b.shape], to: shape) else {
        preconditionFailure("combine: \(a.shape) and \(b.shape) do not broadcast to \(shape) (checked by the caller)")
    }
    let y = Tensor.uninitialized(shape)
    a.withUnsafePointer { pa in b.withUnsafePointer { pb in Broadcasting.apply(op, pa, pb, y.storage.pointer, layout: layout) } }
    return y
}

/// x summed down to `shape` (which broadcasts to x's shape), on plain values.
func sumValues(_ x: Tensor, to shape: [Int]) -> Tensor {
    if x.shape == shape { return x.detached }
    if shape.reduce(1, *) == x.count { return x.detached.reshapedStorage(to: shape) }  // only unit dimensions differ
    guard let layout = StridedLayout.broadcasting([shape], to: x.shape) else {
        preconditionFailure("sumValues: \(shape) does not broadcast to \(x.shape) (checked by the caller)")
    }
    let y = Tensor.uninitialized(shape)
    x.withUnsafePointer { Broadcasting.sum($0, into: y.storage.pointer, count: y.count, layout: layout) }
    return y
}

/// x broadcast to `shape`, on plain values.
func expandValues(_ x: Tensor, to shape: [Int], layout: StridedLayout? = nil) -> Tensor {
    if x.shape == shape { return x.detached }
    if shape.reduce(1, *) == x.count { return x.detached.reshapedStorage(to: shape) }
    guard let layout = layout ?? StridedLayout.broadcasting([x.shape], to: shape) else {
        preconditionFailure("expandValues: \(x.shape) does not broadcast to \(shape) (checked by the caller)")
    }
    let y = Tensor.uninitialized(shape)
    x.withUnsafePointer { Broadcasting.expand($0, y.storage.pointer, layout: layout) }
    return y
}
