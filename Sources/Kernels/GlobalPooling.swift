/// Global average pooling over the spatial plane of NCHW buffers: [N, C, H, W] → [N, C].
public enum GlobalPooling {
    /// y[p] = mean of plane p (`planeSize` contiguous elements), for `planes` planes.
    public static func averageForward(_ x: UnsafePointer<Float>, planes: Int, planeSize: Int,
                                      into y: UnsafeMutablePointer<Float>) {
        let scale = 1 / Float(max(planeSize, 1))
        parallelChunks(planes, minimumPerChunk: max(1, (1 << 17) / max(planeSize, 1))) { range in
            for p in range { y[p] = Elementwise.sum(x + p &* planeSize, count: planeSize) * scale }
        }
    }

    /// The adjoint: every element of plane p of dx gets dy[p] / planeSize.
    public static func averageBackward(_ dy: UnsafePointer<Float>, planes: Int, planeSize: Int,
                                       into dx: UnsafeMutablePointer<Float>) {
        let scale = 1 / Float(max(planeSize, 1))
        parallelChunks(planes, minimumPerChunk: max(1, (1 << 17) / max(planeSize, 1))) { range in
            for p in range { (dx + p &* planeSize).update(repeating: dy[p] * scale, count: planeSize) }
        }
    }
}
