import Kernels

extension Primitive {
    /// The mean over the spatial axes of an NCHW tensor.
    public static let globalAveragePool = Primitive("globalAveragePool")
}

/// Global average pooling: [N, C, H, W] → [N, C], the mean of each channel's H·W values.
public func globalAveragePool(_ x: Tensor) throws -> Tensor {
    guard x.rank == 4, x.shape[2] * x.shape[3] > 0 else {
        throw ShapeError("globalAveragePool", "expects a non-empty NCHW input", shapes: [x.shape])
    }
    let (n, c, plane) = (x.shape[0], x.shape[1], x.shape[2] * x.shape[3])
    let inverse = 1 / Float(plane)
    let y = Tensor.uninitialized([n, c])
    x.withUnsafePointer { px in
        let py = y.storage.pointer
        for r in 0..<(n * c) { py[r] = Elementwise.sum(px + r * plane, count: plane) * inverse }
    }
    let inShape = x.shape
    return Tensor.record(y, primitive: .globalAveragePool, inputs: [x], pullback: { g, _ in
        let dx = Tensor.uninitialized(inShape)
        g.withUnsafePointer { pg in
            let pd = dx.storage.pointer
            for r in 0..<(n * c) { (pd + r * plane).initialize(repeating: pg[r] * inverse, count: plane) }
        }
        return [dx]
    }, tangent: { t in try globalAveragePool(t[0]!) })
}
