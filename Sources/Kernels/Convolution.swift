/// The shape of a 2-D convolution over an NCHW batch: kernel size, stride and zero padding.
public struct ConvGeometry: Sendable, Equatable {
    /// The input batch: images, channels, height and width.
    public var batch, inChannels, height, width: Int
    /// The filters: output channels and kernel size.
    public var outChannels, kernelHeight, kernelWidth: Int
    /// The stride, and the zero padding on every side.
    public var stride, padding: Int

    /// The geometry of a convolution.
    public init(batch: Int, inChannels: Int, height: Int, width: Int,
                outChannels: Int, kernelHeight: Int, kernelWidth: Int, stride: Int = 1, padding: Int) {
        self.batch = batch; self.inChannels = inChannels; self.height = height; self.width = width
        self.outChannels = outChannels; self.kernelHeight = kernelHeight; self.kernelWidth = kernelWidth
        self.stride = stride; self.padding = padding
    }

    /// Output height.
    public var outHeight: Int { (height + 2 * padding - kernelHeight) / stride + 1 }
    /// Output width.
    public var outWidth: Int { (width + 2 * padding - kernelWidth) / stride + 1 }
    /// Rows of the patch matrix: one per (input channel, kernel row, kernel column).
    public var patchSize: Int { inChannels * kernelHeight * kernelWidth }
    /// Columns of the patch matrix: one per output pixel of the whole batch.
    public var outputPixels: Int { batch * outHeight * outWidth }
}

/// Writes the patch matrix ("im2col", patch-major layout): `cols` is patchSize × outputPixels,
/// row r = (c, kh, kw), column m = (n, oh, ow), zero where the window falls into the padding.
/// This layout writes each row contiguously along `ow` and makes the forward pass one GEMM:
/// `out[o, m] = Σ_r weight[o, r] · cols[r, m]`.
/// `parallel: false` keeps it on the calling thread (for callers that are already parallel).
public func im2col(_ x: UnsafePointer<Float>, _ g: ConvGeometry, into cols: UnsafeMutablePointer<Float>,
                   parallel: Bool = true) {
    let oh = g.outHeight, ow = g.outWidth, kk = g.kernelHeight * g.kernelWidth
    let rows = g.patchSize, m = g.outputPixels, plane = g.height * g.width
    let minimumPerChunk = parallel ? max(1, (1 << 16) / max(m, 1)) : rows
    parallelChunks(rows, minimumPerChunk: minimumPerChunk) { range in
        for r in range {
            let c = r / kk, kh = (r % kk) / g.kernelWidth, kw = r % g.kernelWidth
            let rowBase = cols + r &* m
            for n in 0..<g.batch {
                let src = x + (n &* g.inChannels &+ c) &* plane
                let dstImage = rowBase + n &* oh &* ow
                for y in 0..<oh {
                    let iy = y &* g.stride &- g.padding &+ kh
                    let dst = dstImage + y &* ow
                    if iy < 0 || iy >= g.height {
                        dst.initialize(repeating: 0, count: ow)
                        continue
                    }
                    let srcRow = src + iy &* g.width
                    if g.stride == 1 {
                        // Valid output columns: 0 <= x + kw - p < width.
                        let lo = max(0, g.padding &- kw), hi = min(ow, g.width &+ g.padding &- kw)
                        if lo > 0 { dst.initialize(repeating: 0, count: lo) }
                        if hi > lo { (dst + lo).update(from: srcRow + (lo &+ kw &- g.padding), count: hi &- lo) }
                        if hi < ow { (dst + max(hi, lo)).initialize(repeating: 0, count: ow &- max(hi, lo)) }
                    } else {
                        for xo in 0..<ow {
                            let ix = xo &* g.stride &- g.padding &+ kw
                            dst[xo] = (ix >= 0 && ix < g.width) ? srcRow[ix] : 0
                        }
                    }
                }
            }
        }
    }
}

/// The adjoint of `im2col`: accumulates the patch-matrix gradient back onto the input gradient
/// (`dx` is overwritten). Parallel over input channels, whose regions of `dx` are disjoint, unless
/// `parallel` is false.
public func col2im(_ cols: UnsafePointer<Float>, _ g: ConvGeometry, into dx: UnsafeMutablePointer<Float>,
                   parallel: Bool = true) {
    let oh = g.outHeight, ow = g.outWidth, kk = g.kernelHeight * g.kernelWidth
    let m = g.outputPixels, plane = g.height * g.width
    let minimumPerChunk = parallel ? max(1, (1 << 16) / max(m * kk, 1)) : g.inChannels
    parallelChunks(g.inChannels, minimumPerChunk: minimumPerChunk) { range in
        for c in range {
            for n in 0..<g.batch {
                (dx + (n &* g.inChannels &+ c) &* plane).initialize(repeating: 0, count: plane)
            }
            for k in 0..<kk {
                let r = c &* kk &+ k, kh = k / g.kernelWidth, kw = k % g.kernelWidth
                let rowBase = cols + r &* m
                for n in 0..<g.batch {
                    let dstImage = dx + (n &* g.inChannels &+ c) &* plane
                    let srcImage = rowBase + n &* oh &* ow
                    for y in 0..<oh {
                        let iy = y &* g.stride &- g.padding &+ kh
                        if iy < 0 || iy >= g.height { continue }
                        let src = srcImage + y &* ow, dstRow = dstImage + iy &* g.width
                        if g.stride == 1 {
                            let lo = max(0, g.padding &- kw), hi = min(ow, g.width &+ g.padding &- kw)
                            if hi > lo {
                                let d = dstRow + (lo &+ kw &- g.padding), s = src + lo
                                for j in 0..<(hi &- lo) { d[j] += s[j] }
                            }
                        } else {
                            for xo in 0..<ow {
                                let ix = xo &* g.stride &- g.padding &+ kw
                                if ix >= 0 && ix < g.width { dstRow[ix] += src[xo] }
                            }
                        }
                    }
                }
            }
        }
    }
}
