import Kernels

extension Primitive {
    /// Average pooling.
    public static let averagePool = Primitive("avgPool2d")
    /// Max pooling.
    public static let maxPool = Primitive("maxPool2d")
    /// The tangent/cotangent routing of a max pool (linear in its input).
    public static let maxPoolSelect = Primitive("maxPoolSelect")
}

/// Average pooling with a `window`×`window` kernel and equal stride (VALID), over NCHW.
public func avgPool2d(_ x: Tensor, window: Int = 2) throws -> Tensor {
    let g = try poolGeometry("avgPool2d", x, window: window)
    let y = Tensor.uninitialized([g.batch, g.channels, g.outHeight, g.outWidth])
    x.withUnsafePointer { avgPoolForward($0, g, into: y.storage.pointer) }
    let inShape = x.shape
    return Tensor.record(y, primitive: .averagePool, inputs: [x], pullback: { dy, _ in
        let dx = Tensor.uninitialized(inShape)
        dy.withUnsafePointer { avgPoolBackward($0, g, into: dx.storage.pointer) }
        return [dx]
    }, tangent: { t in try avgPool2d(t[0]!, window: window) })
}

/// Max pooling with a `window`×`window` kernel and equal stride (VALID), over NCHW.
/// Gradients and tangents route through the first maximum of each window.
public func maxPool2d(_ x: Tensor, window: Int = 2) throws -> Tensor {
    let g = try poolGeometry("maxPool2d", x, window: window)
    let y = Tensor.uninitialized([g.batch, g.channels, g.outHeight, g.outWidth])
    let argmax = PoolIndices(count: y.count)
    x.withUnsafePointer { maxPoolForward($0, g, into: y.storage.pointer, argmax: argmax.pointer) }
    return Tensor.record(y, primitive: .maxPool, inputs: [x], pullback: { dy, _ in
        [maxPoolRoute(dy, g, argmax)]
    }, tangent: { t in selectPooled(t[0]!, g, argmax) })
}

/// Picks, from an input-shaped tensor, the elements at the recorded max-pool positions.
/// Linear in its input, so its VJP scatters and its JVP is itself.
func selectPooled(_ values: Tensor, _ g: PoolGeometry, _ argmax: PoolIndices) -> Tensor {
    let y = Tensor.uninitialized([g.batch, g.channels, g.outHeight, g.outWidth])
    values.withUnsafePointer { maxPoolGather($0, g, argmax: argmax.pointer, into: y.storage.pointer) }
    return Tensor.record(y, primitive: .maxPoolSelect, inputs: [values], pullback: { dy, _ in [maxPoolRoute(dy, g, argmax)] },
                         tangent: { t in selectPooled(t[0]!, g, argmax) })
}

/// Scatters output-shaped cotangents to the argmax positions (the adjoint of `selectPooled`).
func maxPoolRoute(_ dy: Tensor, _ g: PoolGeometry, _ argmax: PoolIndices) -> Tensor {
    let dx = Tensor.uninitialized([g.batch, g.channels, g.height, g.width])
    dy.withUnsafePointer { maxPoolScatter($0, g, argmax: argmax.pointer, into: dx.storage.pointer) }
    return dx
}

func poolGeometry(_ operation: String, _ x: Tensor, window: Int) throws -> PoolGeometry {
    guard x.rank == 4 else { throw ShapeError(operation, "expects an NCHW input", shapes: [x.shape]) }
    guard window >= 1, x.shape[2] >= window, x.shape[3] >= window else {
        throw ShapeError(operation, "window \(window) does not fit the input", shapes: [x.shape])
    }
    return PoolGeometry(batch: x.shape[0], channels: x.shape[1], height: x.shape[2], width: x.shape[3], window: window)
}

/// The argmax positions of one max-pool call, shared by its pullback and its JVP.
final class PoolIndices {
    let pointer: UnsafeMutablePointer<Int32>
    init(count: Int) { pointer = .allocate(capacity: max(count, 1)) }
    deinit { pointer.deallocate() }
}
