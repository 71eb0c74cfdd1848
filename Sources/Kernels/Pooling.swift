/// 2-D pooling over NCHW buffers with a square window equal to its stride (no overlap, VALID),
/// the paper's 2×2 / stride-2 pools. Output size is floor(H / k) × floor(W / k).
public struct PoolGeometry: Sendable, Equatable {
    /// Images, channels, input height and width, and the square window (= stride).
    public var batch, channels, height, width, window: Int
    /// The geometry of a pooling.
    public init(batch: Int, channels: Int, height: Int, width: Int, window: Int) {
        self.batch = batch; self.channels = channels; self.height = height; self.width = width
        self.window = window
    }
    /// Output height.
    public var outHeight: Int { height / window }
    /// Output width.
    public var outWidth: Int { width / window }
    /// Image planes: batch × channels.
    public var planes: Int { batch * channels }
}

/// Average pooling forward.
public func avgPoolForward(_ x: UnsafePointer<Float>, _ g: PoolGeometry, into y: UnsafeMutablePointer<Float>) {
    let oh = g.outHeight, ow = g.outWidth, k = g.window, w = g.width, scale = 1 / Float(k * k)
    parallelChunks(g.planes, minimumPerChunk: max(1, (1 << 17) / max(g.height * g.width, 1))) { range in
        for p in range {
            let src = x + p &* g.height &* w, dst = y + p &* oh &* ow
            for i in 0..<oh {
                let out = dst + i &* ow
                if k == 2 {
                    let r0 = src + (2 &* i) &* w, r1 = r0 + w
                    for j in 0..<ow {
                        out[j] = (r0[2 &* j] + r0[2 &* j &+ 1] + r1[2 &* j] + r1[2 &* j &+ 1]) * scale
                    }
                } else {
                    for j in 0..<ow {
                        var s: Float = 0
                        for a in 0..<k { for b in 0..<k { s += src[(i &* k &+ a) &* w &+ j &* k &+ b] } }
                        out[j] = s * scale
                    }
                }
            }
        }
    }
}

/// Average pooling backward (also its own forward-mode rule, being linear): spreads each output
/// gradient evenly over its window; input cells outside every window get zero.
public func avgPoolBackward(_ dy: UnsafePointer<Float>, _ g: PoolGeometry, into dx: UnsafeMutablePointer<Float>) {
    let oh = g.outHeight, ow = g.outWidth, k = g.window, w = g.width, scale = 1 / Float(k * k)
    parallelChunks(g.planes, minimumPerChunk: max(1, (1 << 17) / max(g.height * g.width, 1))) { range in
        for p in range {
            let dst = dx + p &* g.height &* w, src = dy + p &* oh &* ow
            if g.height != oh &* k || w != ow &* k { dst.initialize(repeating: 0, count: g.height &* w) }
            for i in 0..<oh {
                let s = src + i &* ow
                if k == 2 {
                    let r0 = dst + (2 &* i) &* w, r1 = r0 + w
                    for j in 0..<ow {
                        let v = s[j] * scale
                        r0[2 &* j] = v; r0[2 &* j &+ 1] = v; r1[2 &* j] = v; r1[2 &* j &+ 1] = v
                    }
                } else {
                    for j in 0..<ow {
                        let v = s[j] * scale
                        for a in 0..<k { for b in 0..<k { dst[(i &* k &+ a) &* w &+ j &* k &+ b] = v } }
                    }
                }
            }
        }
    }
}

/// Max pooling forward; records for each output the flat index (within its plane) of the chosen
/// input, first maximum on ties, so the backward and forward-mode rules route through it.
public func maxPoolForward(_ x: UnsafePointer<Float>, _ g: PoolGeometry, into y: UnsafeMutablePointer<Float>,
                           argmax: UnsafeMutablePointer<Int32>) {
    let oh = g.outHeight, ow = g.outWidth, k = g.window
    parallelChunks(g.planes, minimumPerChunk: max(1, (1 << 15) / max(g.height * g.width, 1))) { range in
        for p in range {
            let src = x + p &* g.height &* g.width, out = p &* oh &* ow
            for i in 0..<oh {
                for j in 0..<ow {
                    var best = -Float.infinity, bestIndex = (i &* k) &* g.width &+ j &* k
                    for a in 0..<k {
                        for b in 0..<k {
                            let idx = (i &* k &+ a) &* g.width &+ j &* k &+ b
                            let v = src[idx]
                            if v > best || (v.isNaN && !best.isNaN) { best = v; bestIndex = idx }
                        }
                    }
                    y[out &+ i &* ow &+ j] = best
                    argmax[out &+ i &* ow &+ j] = Int32(bestIndex)
                }
            }
        }
    }
}

/// Gathers `values` (input-shaped) at the recorded argmax positions: the forward-mode rule of max pooling.
public func maxPoolGather(_ values: UnsafePointer<Float>, _ g: PoolGeometry, argmax: UnsafePointer<Int32>,
                          into y: UnsafeMutablePointer<Float>) {
    let outPlane = g.outHeight * g.outWidth, inPlane = g.height * g.width
    for p in 0..<g.planes {
        let src = values + p &* inPlane, out = p &* outPlane
        for o in 0..<outPlane { y[out &+ o] = src[Int(argmax[out &+ o])] }
    }
}

/// Scatters output gradients to the recorded argmax positions: the reverse rule of max pooling.
public func maxPoolScatter(_ dy: UnsafePointer<Float>, _ g: PoolGeometry, argmax: UnsafePointer<Int32>,
                           into dx: UnsafeMutablePointer<Float>) {
    let outPlane = g.outHeight * g.outWidth, inPlane = g.height * g.width
    dx.initialize(repeating: 0, count: g.planes * inPlane)
    for p in 0..<g.planes {
        let dst = dx + p &* inPlane, out = p &* outPlane
        for o in 0..<outPlane { dst[Int(argmax[out &+ o])] += dy[out &+ o] }
    }
}
