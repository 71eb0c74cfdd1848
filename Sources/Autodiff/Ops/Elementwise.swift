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

/// Elementwise unary op (for rarely used ops; hot ones use `unaryKernel`).
func mapTensor(_ a: Tensor, _ op: (Float) -> Float) -> Tensor {
    let out = Tensor.uninitialized(a.shape)
    a.withUnsafePointer { pa in mapElements(a.count, out.storage.pointer) { op(pa[$0]) } }
    return out
}

/// Runs a vectorised unary kernel over `x` into a new tensor, split over the cores when large.
func unaryKernel(_ x: Tensor, minimumPerChunk: Int = 1 << 16,
                 _ kernel: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void) -> Tensor {
    let out = Tensor.uninitialized(x.shape)
    x.withUnsafePointer { px in
        let po = out.storage.pointer
        parallelChunks(x.count, minimumPerChunk: minimumPerChunk) { r in
            kernel(px + r.lowerBound, po + r.lowerBound, r.count)
        }
    }
    return out
}

/// Sums optional tangents, treating nil as zero.
func sumTangents(_ terms: [Tensor?]) throws -> Tensor? {
    try terms.compactMap { $0 }.reduce(nil as Tensor?) { acc, t in try acc.map { try $0 + t } ?? t }
}

extension Primitive {
    /// Multiplication by a constant.
    public static let scale = Primitive("scale")
    /// Addition of a constant.
    public static let shift = Primitive("shift")
    /// max(x, 0).
    public static let relu = Primitive("relu")
    /// A tangent or cotangent masked by a constant (ReLU's derivative).
    public static let gate = Primitive("gate")
    /// −1, 0 or 1.
    public static let sign = Primitive("sign")
    /// Clamping to an interval.
    public static let clamp = Primitive("clamp")
}

extension Tensor {
    /// Multiplication by a constant.
    public func scaled(by factor: Float) -> Tensor {
        Tensor.record(affineMap(self, scale: factor, shift: 0), primitive: .scale, inputs: [self],
                      pullback: { g, _ in [affineMap(g, scale: factor, shift: 0)] },
                      tangent: { t in t[0]?.scaled(by: factor) })
    }

    /// Adds a constant to every element.
    public func adding(_ constant: Float) -> Tensor {
        Tensor.record(affineMap(self, scale: 1, shift: constant), primitive: .shift, inputs: [self],
                      pullback: { g, _ in [g] }, tangent: { t in t[0] })
    }

    /// Rectified linear unit, max(x, 0). Its derivative at 0 is taken as 0.
    public func relu() -> Tensor {
        let x = self, xd = detached
        let y = Tensor.uninitialized(x.shape)
        x.withUnsafePointer { px in
            let py = y.storage.pointer
            parallelChunks(x.count, minimumPerChunk: 1 << 18) { r in
                Elementwise.relu(px + r.lowerBound, py + r.lowerBound, count: r.count)
            }
        }
        return Tensor.record(y, primitive: .relu, inputs: [x],
                             pullback: { g, _ in [gateValues(g, by: xd)] },
                             tangent: { t in t[0]?.gated(by: xd) })
    }

    /// `self` where `mask > 0`, zero elsewhere: the derivative of ReLU applied to a tangent.
    /// Linear in `self`; `mask` is treated as a constant (its derivative is zero almost everywhere).
    public func gated(by mask: Tensor) -> Tensor {
        let m = mask.detached
        return Tensor.record(gateValues(self, by: m), primitive: .gate, inputs: [self],
                             pullback: { g, _ in [gateValues(g, by: m)] },
                             tangent: { t in t[0]?.gated(by: m) })
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
                                 return try t[0].map { try $0 * inside } })
    }
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
