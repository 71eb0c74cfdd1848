/// An elementwise arithmetic operation of two operands.
public enum BinaryOperation: String, Sendable, CaseIterable {
    /// a + b, a − b, a·b, a / b (IEEE).
    case add, subtract, multiply, divide

    /// The operation on two scalars (for reference code).
    public func apply(_ a: Float, _ b: Float) -> Float {
        switch self {
        case .add: return a + b
        case .subtract: return a - b
        case .multiply: return a * b
        case .divide: return a / b
        }
    }
}

/// NumPy-style broadcasting on raw buffers: a binary operation whose operands are read through a
/// ``StridedLayout``, the broadcast copy, and its adjoint (summing over the broadcast dimensions).
/// Each innermost run is one of a few vectorised loops (both operands contiguous, or one a scalar).
public enum Broadcasting {
    /// y = a ∘ b over `layout` (operands [a, b]); y is contiguous with `layout.count` elements.
    public static func apply(_ op: BinaryOperation, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                             _ y: UnsafeMutablePointer<Float>, layout: StridedLayout) {
        precondition(layout.strides.count == 2, "a binary layout has two operands")
        switch op {
        case .add: apply(Add.self, a, b, y, layout)
        case .subtract: apply(Subtract.self, a, b, y, layout)
        case .multiply: apply(Multiply.self, a, b, y, layout)
        case .divide: apply(Divide.self, a, b, y, layout)
        }
    }

    /// y = x read through `layout` (one operand): the broadcast copy of x.
    public static func expand(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, layout: StridedLayout) {
        precondition(layout.strides.count == 1, "an expansion layout has one operand")
        let n = layout.rowLength, last = layout.extents.count - 1
        guard layout.count > 0 else { return }
        let sx = layout.strides[0][last]
        parallelChunks(layout.rows, minimumPerChunk: max(1, (1 << 17) / max(n, 1))) { range in
            layout.forEachRow(in: range) { row, offsets in
                let src = x + offsets[0], dst = y + row &* n
                if sx == 0 {
                    let v = src[0]
                    for i in 0..<n { dst[i] = v }
                } else {
                    for i in 0..<n { dst[i] = src[i &* sx] }
                }
            }
        }
    }

    /// The adjoint of `expand`: y (`yCount` elements, the operand of `layout`) = the sum of x over
    /// the dimensions along which the operand is broadcast; x is contiguous over the layout. Runs in
    /// one thread, in a fixed order.
    public static func sum(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count yCount: Int,
                           layout: StridedLayout) {
        precondition(layout.strides.count == 1, "a reduction layout has one operand")
        y.update(repeating: 0, count: yCount)
        guard layout.count > 0 else { return }
        let n = layout.rowLength, sy = layout.strides[0][layout.extents.count - 1]
        layout.forEachRow(in: 0..<layout.rows) { row, offsets in
            let src = x + row &* n, dst = y + offsets[0]
            if sy == 0 {
                dst[0] += Elementwise.sum(src, count: n)
            } else {
                for i in 0..<n { dst[i &* sy] += src[i] }
            }
        }
    }

    static func apply<Op: ScalarOperation>(_: Op.Type, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                                           _ y: UnsafeMutablePointer<Float>, _ layout: StridedLayout) {
        guard layout.count > 0 else { return }
        let n = layout.rowLength, last = layout.extents.count - 1
        let sa = layout.strides[0][last], sb = layout.strides[1][last]
        parallelChunks(layout.rows, minimumPerChunk: max(1, (1 << 17) / max(n, 1))) { range in
            layout.forEachRow(in: range) { row, offsets in
                let pa = a + offsets[0], pb = b + offsets[1], py = y + row &* n
                if sa == 1 && sb == 1 {
                    for i in 0..<n { py[i] = Op.apply(pa[i], pb[i]) }
                } else if sa == 1 && sb == 0 {
                    let s = pb[0]
                    for i in 0..<n { py[i] = Op.apply(pa[i], s) }
                } else if sa == 0 && sb == 1 {
                    let s = pa[0]
                    for i in 0..<n { py[i] = Op.apply(s, pb[i]) }
                } else {
                    for i in 0..<n { py[i] = Op.apply(pa[i &* sa], pb[i &* sb]) }
                }
            }
        }
    }
}

/// A scalar operation the generic loops are specialised for.
protocol ScalarOperation { static func apply(_ a: Float, _ b: Float) -> Float }
enum Add: ScalarOperation { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a + b } }
enum Subtract: ScalarOperation { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a - b } }
enum Multiply: ScalarOperation { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a * b } }
enum Divide: ScalarOperation { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a / b } }
