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
    let planes = x.shape[0] * x.shape[1], planeSize = x.shape[2] * x.shape[3]
    let y = Tensor.uninitialized([x.shape[0], x.shape[1]])
    x.withUnsafePointer { GlobalPooling.averageForward($0, planes: planes, planeSize: planeSize, into: y.storage.pointer) }
    let inShape = x.shape
    return Tensor.record(y, primitive: .globalAveragePool, inputs: [x], pullback: { g, _ in
        let dx = Tensor.uninitialized(inShape)
        g.withUnsafePointer { GlobalPooling.averageBackward($0, planes: planes, planeSize: planeSize, into: dx.storage.pointer) }
        return [dx]
    }, tangent: { t in try t[0].map { try globalAveragePool($0) } })
}
