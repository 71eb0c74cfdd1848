import Kernels

/// Applies `body(i)` writing `out[i]` for every element, in parallel for large tensors.
func mapElements(_ count: Int, _ out: UnsafeMutablePointer<Float>, _ body: (Int) -> Float) {
    parallelChunks(count, minimumPerChunk: 1 << 16) { range in
        for i in range { out[i] = body(i) }
    }
}

/// Elementwise binary op on equal shapes, through one of the vectorised kernels.
/// Callers check shapes first (see `requireSameShape`).
func zipKernel(_ a: Tensor, _ b: Tensor,
               _ kernel: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void) -> Tensor {
    precondition(a.shape == b.shape, "shape mismatch: \(a.shape) vs \(b.shape)")
    let out = Tensor.uninitialized(a.shape)
    a.withUnsafePointer { pa in
        b.withUnsafePointer { pb in
            let po = out.storage.pointer
            // Large tensors (activations of a whole batch) are split over the cores.
            parallelChunks(a.count, minimumPerChunk: 1 << 18) { r in
                kernel(pa + r.lowerBound, pb + r.lowerBound, po + r.lowerBound, r.count)
            }
        }
    }
    return out
}

/// Throws a ``ShapeError`` naming `operation` unless `a` and `b` have the same shape.
func requireSameShape(_ operation: String, _ a: Tensor, _ b: Tensor) throws {
    guard a.shape == b.shape else { throw ShapeError(operation, "shapes differ", shapes: [a.shape, b.shape]) }
}

/// Elementwise binary op on equal shapes (for rarely used ops; hot ones use `zipKernel`).
func zipElements(_ a: Tensor, _ b: Tensor, _ op: (Float, Float) -> Float) -> Tensor {
    precondition(a.shape == b.shape, "shape mismatch: \(a.shape) vs \(b.shape)")
    let out = Tensor.uninitialized(a.shape)
    a.withUnsafePointer { pa in b.withUnsafePointer { pb in
        mapElements(a.count, out.storage.pointer) { op(pa[$0], pb[$0]) }
    } }
    return out
}

/// Elementwise unary op.
func mapTensor(_ a: Tensor, _ op: (Float) -> Float) -> Tensor {
    let out = Tensor.uninitialized(a.shape)
    a.withUnsafePointer { pa in mapElements(a.count, out.storage.pointer) { op(pa[$0]) } }
    return out
}

/// Sums optional tangents, treating nil as zero.
func sumTangents(_ terms: [Tensor?]) throws -> Tensor? {
    try terms.compactMap { $0 }.reduce(nil as Tensor?) { acc, t in try acc.map { try $0 + t } ?? t }
}

extension Primitive {
    public static let add = Primitive("add")
    public static let subtract = Primitive("subtract")
    public static let multiply = Primitive("multiply")
    public static let scale = Primitive("scale")
    public static let shift = Primitive("shift")
    public static let relu = Primitive("relu")
    public static let gate = Primitive("gate")
    public static let sign = Primitive("sign")
    public static let clamp = Primitive("clamp")
    public static let reshape = Primitive("reshape")
    public static let sum = Primitive("sum")
}

extension Tensor {
    /// Elementwise sum (equal shapes).
    public static func + (a: Tensor, b: Tensor) throws -> Tensor {
        try requireSameShape("add", a, b)
        return record(zipKernel(a, b) { Elementwise.add($0, $1, $2, count: $3) }, primitive: .add, inputs: [a, b],
               pullback: { g, needs in [needs[0] ? g : nil, needs[1] ? g : nil] },
               tangent: { t in try sumTangents(t) })
    }

    /// Elementwise difference (equal shapes).
    public static func - (a: Tensor, b: Tensor) throws -> Tensor {
        try requireSameShape("subtract", a, b)
        return record(zipKernel(a, b) { Elementwise.subtract($0, $1, $2, count: $3) }, primitive: .subtract, inputs: [a, b],
               pullback: { g, needs in [needs[0] ? g : nil, needs[1] ? g.scaled(by: -1) : nil] },
               tangent: { t in try sumTangents([t[0], t[1]?.scaled(by: -1)]) })
    }

    /// Elementwise (Hadamard) product (equal shapes).
    public static func * (a: Tensor, b: Tensor) throws -> Tensor {
        try requireSameShape("multiply", a, b)
        let multiply: (Tensor, Tensor) -> Tensor = { x, y in zipKernel(x, y) { Elementwise.multiply($0, $1, $2, count: $3) } }
        return record(multiply(a, b), primitive: .multiply, inputs: [a, b],
               pullback: { g, needs in [needs[0] ? multiply(g, b) : nil,
                                        needs[1] ? multiply(g, a) : nil] },
               tangent: { t in try sumTangents([t[0].map { try $0 * b.primal }, t[1].map { try a.primal * $0 }]) })
    }

    /// Multiplication by a constant.
    public func scaled(by factor: Float) -> Tensor {
        Tensor.record(affineMap(self, scale: factor, shift: 0), primitive: .scale, inputs: [self],
                      pullback: { g, _ in [affineMap(g, scale: factor, shift: 0)] },
                      tangent: { t in t[0]!.scaled(by: factor) })
    }

    /// Multiplication by a constant.
    public static func * (a: Tensor, factor: Float) -> Tensor { a.scaled(by: factor) }

    /// Adds a constant to every element.
    public func adding(_ constant: Float) -> Tensor {
        Tensor.record(affineMap(self, scale: 1, shift: constant), primitive: .shift, inputs: [self],
                      pullback: { g, _ in [g] }, tangent: { t in t[0] })
    }

    /// Rectified linear unit, max(x, 0). Its derivative at 0 is taken as 0.
    public func relu() -> Tensor {
        let x = self
        let y = Tensor.uninitialized(x.shape)
        x.withUnsafePointer { px in
            let py = y.storage.pointer
            parallelChunks(x.count, minimumPerChunk: 1 << 18) { r in
                Elementwise.relu(px + r.lowerBound, py + r.lowerBound, count: r.count)
            }
        }
        return Tensor.record(y, primitive: .relu, inputs: [x],
                             pullback: { g, _ in [gateValues(g, by: x)] },
                             tangent: { t in t[0]!.gated(by: x.primal) })
    }

    /// `self` where `mask > 0`, zero elsewhere: the derivative of ReLU applied to a tangent.
    /// Linear in `self`; `mask` is treated as a constant (its derivative is zero almost everywhere).
    public func gated(by mask: Tensor) -> Tensor {
        let m = mask.detached
        return Tensor.record(gateValues(self, by: m), primitive: .gate, inputs: [self],
                             pullback: { g, _ in [gateValues(g, by: m)] },
                             tangent: { t in t[0]!.gated(by: m) })
    }

    /// Elementwise sign (−1, 0, 1). Its derivative is zero everywhere it exists (a zero tangent).
    public func sign() -> Tensor {
        Tensor.record(mapTensor(self) { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }, primitive: .sign, inputs: [self],
                      pullback: { g, _ in [Tensor.zeros(g.shape)] },
                      tangent: { _ in nil })
    }

    /// Clamps every element to [lower, upper]; gradient passes where lower ≤ x ≤ upper.
    public func clamped(to lower: Float, _ upper: Float) -> Tensor {
        let x = self.detached
        let pass: (Tensor) -> Tensor = { g in zipElements(g, x) { gv, xv in (xv >= lower && xv <= upper) ? gv : 0 } }
        return Tensor.record(mapTensor(x) { min(max($0, lower), upper) }, primitive: .clamp, inputs: [self],
                             pullback: { g, _ in [pass(g)] },
                             tangent: { t in
                                 // Linear in the tangent: the same mask, recorded so reverse mode can pass through it.
                                 let inside = mapTensor(x) { ($0 >= lower && $0 <= upper) ? 1 : 0 }
                                 return try t[0]! * inside })
    }

    /// The same elements viewed with another shape (no copy).
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        guard newShape.allSatisfy({ $0 >= 0 }), newShape.reduce(1, *) == count else {
            throw ShapeError("reshape", "element counts differ", shapes: [shape, newShape])
        }
        let old = shape
        return Tensor.record(reshapedStorage(to: newShape), primitive: .reshape, inputs: [self],
                             pullback: { g, _ in [g.reshapedStorage(to: old)] },
                             tangent: { t in try t[0]!.reshaped(newShape) })
    }

    /// Flattens every dimension after the first: [N, …] → [N, product].
    public func flattenedBatch() throws -> Tensor {
        guard rank >= 1 else { throw ShapeError("flatten", "needs a batch dimension", shapes: [shape]) }
        return try reshaped([shape[0], shape.dropFirst().reduce(1, *)])
    }

    /// The sum of all elements, as a rank-0 tensor (accumulated in Double).
    public func sum() -> Tensor {
        let shape = self.shape
        var total = 0.0
        withUnsafePointer { p in for i in 0..<count { total += Double(p[i]) } }
        return Tensor.record(Tensor(Float(total)), primitive: .sum, inputs: [self],
                             pullback: { g, _ in [Tensor(repeating: g.scalar, shape: shape)] },
                             tangent: { t in t[0]!.sum() })
    }

    /// The mean of all elements, as a rank-0 tensor.
    public func mean() -> Tensor { sum().scaled(by: 1 / Float(max(count, 1))) }
}

/// g where x > 0, else 0.
func gateValues(_ g: Tensor, by x: Tensor) -> Tensor {
    zipKernel(g, x) { Elementwise.gate($0, mask: $1, $2, count: $3) }
}

/// s·x + c elementwise.
func affineMap(_ x: Tensor, scale: Float, shift: Float) -> Tensor {
    let out = Tensor.uninitialized(x.shape)
    x.withUnsafePointer { Elementwise.affine($0, scale: scale, shift: shift, out.storage.pointer, count: x.count) }
    return out
}
