/// Convolution of a whole NCHW batch image by image, images spread over the cores: 3×3 stride-1
/// "SAME" layers with enough channels through ``DirectConvolution``, every other geometry as one
/// small GEMM per image.
///
/// Each image's patch matrix (patchSize × pixels, a few hundred KB) is built in a per-worker scratch
/// buffer that stays in cache, and its GEMM writes straight into the NCHW output — no whole-batch
/// patch matrix (68 MB for the MNIST CNN's conv2 at batch 300, 295 MB for the CIFAR CNN's conv6) and
/// no channel-major transposes. With many images the GEMMs run single-threaded side by side, which
/// OpenBLAS does better on these thin shapes than one threaded GEMM over the whole batch.
///
/// Reductions over the batch (weight and bias gradients) are summed in a fixed number of fixed image
/// groups, in group order, so results do not depend on the number of threads.
public enum BatchedConvolution {
    /// Images are split into at most this many contiguous groups, whatever the core count.
    static let groupLimit = 16

    /// How a convolution is computed.
    public enum Method: Sendable, Equatable {
        /// ``DirectConvolution`` where it handles the geometry and the channels fill its vector lanes
        /// well enough, patch matrices otherwise.
        case automatic
        /// A patch matrix per image and a GEMM (any geometry).
        case patchMatrix
        /// ``DirectConvolution`` (3×3, stride 1, padding 1 only).
        case direct
    }

    /// With fewer input or output channels than this (a network's first layer) the direct kernels leave
    /// most vector lanes idle or spend more on writing their output than on multiplying, and the
    /// patch-matrix GEMM, thin as it then is, wins (measured with `tangent bench --task conv`).
    static let directMinimumChannels = 8

    /// Which passes run directly: forward, input gradient, weight gradient.
    static func direct(_ g: ConvGeometry, _ method: Method) -> (forward: Bool, inputGradient: Bool, weightGradient: Bool) {
        switch method {
        case .patchMatrix: return (false, false, false)
        case .direct:
            precondition(DirectConvolution.handles(g), "direct convolution needs 3×3 filters, stride 1 and padding 1")
            return (true, true, true)
        case .automatic:
            let wide = DirectConvolution.handles(g) && min(g.inChannels, g.outChannels) >= directMinimumChannels
            return (wide, wide, wide)
        }
    }

    /// `y = conv(x, weight) + bias`, then ReLU when `relu`: `x` is [N, C, H, W], `weight` [O, C, kh, kw],
    /// `bias` [O] or nil, `y` [N, O, outH, outW] (overwritten).
    public static func forward(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                               _ g: ConvGeometry, relu: Bool = false, method: Method = .automatic,
                               into y: UnsafeMutablePointer<Float>) {
        let image = g.singleImage, k = g.patchSize, pixels = g.outHeight * g.outWidth
        let inSize = g.inChannels * g.height * g.width, outSize = g.outChannels * pixels
        if direct(g, method).forward {
            let filters = DirectConvolution.PackedFilters(weight, outChannels: g.outChannels, inChannels: g.inChannels)
            let scratchSize = DirectConvolution.scratchSize(channels: g.inChannels, outChannels: g.outChannels,
                                                            height: g.height, width: g.width)
            forEachGroup(g) { _, images, _ in
                let scratch = FloatBuffer.allocate(scratchSize)
                defer { FloatBuffer.deallocate(scratch) }
                for n in images {
                    DirectConvolution.forward(x + n &* inSize, channels: g.inChannels, height: g.height, width: g.width,
                                              filters: filters, outChannels: g.outChannels, bias: bias, relu: relu,
                                              into: y + n &* outSize, scratch: scratch)
                }
            }
            return
        }
        forEachGroup(g) { _, images, gemmThreads in
            let cols = FloatBuffer.allocate(k * pixels)
            defer { FloatBuffer.deallocate(cols) }
            for n in images {
                let out = y + n &* outSize
                im2col(x + n &* inSize, image, into: cols, parallel: false)
                if let bias {
                    for o in 0..<g.outChannels { (out + o &* pixels).initialize(repeating: bias[o], count: pixels) }
                }
                sgemm(m: g.outChannels, n: pixels, k: k, a: weight, lda: k, b: cols, ldb: pixels,
                      beta: bias == nil ? 0 : 1, c: out, ldc: pixels, threads: gemmThreads)
                if relu { Elementwise.relu(out, out, count: outSize) }
            }
        }
    }

    /// The gradients of `forward` for the output gradient `dy` [N, O, outH, outW]. Each requested
    /// buffer is overwritten: `dx` [N, C, H, W], `dWeight` [O, C, kh, kw], `dBias` [O].
    public static func backward(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                                _ g: ConvGeometry, method: Method = .automatic, dx: UnsafeMutablePointer<Float>?,
                                dWeight: UnsafeMutablePointer<Float>?, dBias: UnsafeMutablePointer<Float>?) {
        let image = g.singleImage, k = g.patchSize, pixels = g.outHeight * g.outWidth
        let inSize = g.inChannels * g.height * g.width, outSize = g.outChannels * pixels
        let weightSize = g.outChannels * k, groups = groupCount(g.batch)
        if groups == 0 {
            dWeight?.initialize(repeating: 0, count: weightSize)
            dBias?.initialize(repeating: 0, count: g.outChannels)
            return
        }
        // Per-group partial sums: weight gradient then bias gradient.
        let partialSize = weightSize + g.outChannels
        let partials = (dWeight != nil || dBias != nil) ? FloatBuffer.allocateZeroed(groups * partialSize) : nil
        defer { if let partials { FloatBuffer.deallocate(partials) } }

        let passes = direct(g, method)
        let transposed = dx != nil && passes.inputGradient
            ? DirectConvolution.PackedFilters(weight, outChannels: g.outChannels, inChannels: g.inChannels, transposed: true)
            : nil
        let scratchSize = passes.inputGradient || passes.weightGradient
            ? max(DirectConvolution.scratchSize(channels: g.inChannels, outChannels: g.outChannels, height: g.height, width: g.width),
                  DirectConvolution.scratchSize(channels: g.outChannels, outChannels: g.inChannels, height: g.height, width: g.width))
            : 0
        forEachGroup(g) { group, images, gemmThreads in
            let cols = FloatBuffer.allocate(k * pixels)
            let scratch = FloatBuffer.allocate(max(1, scratchSize))
            defer { FloatBuffer.deallocate(cols); FloatBuffer.deallocate(scratch) }
            for n in images {
                let dyImage = dy + n &* outSize
                if let partials {
                    let partial = partials + group &* partialSize
                    if dWeight != nil && passes.weightGradient {
                        DirectConvolution.weightGradient(x + n &* inSize, dy: dyImage, channels: g.inChannels, height: g.height,
                                                         width: g.width, outChannels: g.outChannels, into: partial,
                                                         scratch: scratch)
                    } else if dWeight != nil {
                        im2col(x + n &* inSize, image, into: cols, parallel: false)
                        sgemm(transposeB: true, m: g.outChannels, n: k, k: pixels, a: dyImage, lda: pixels,
                              b: cols, ldb: pixels, beta: 1, c: partial, ldc: k, threads: gemmThreads)
                    }
                    if dBias != nil {
                        let biasPartial = partial + weightSize
                        for o in 0..<g.outChannels { biasPartial[o] += Elementwise.sum(dyImage + o &* pixels, count: pixels) }
                    }
                }
                if let dx, let transposed {
                    DirectConvolution.forward(dyImage, channels: g.outChannels, height: g.height, width: g.width,
                                              filters: transposed, outChannels: g.inChannels, bias: nil, relu: false,
                                              into: dx + n &* inSize, scratch: scratch)
                } else if let dx {
                    sgemm(transposeA: true, m: k, n: pixels, k: g.outChannels, a: weight, lda: k, b: dyImage, ldb: pixels,
                          c: cols, ldc: pixels, threads: gemmThreads)
                    col2im(cols, image, into: dx + n &* inSize, parallel: false)
                }
            }
        }
        guard let partials else { return }
        if let dWeight { sumGroups(partials, groups: groups, stride: partialSize, count: weightSize, into: dWeight) }
        if let dBias { sumGroups(partials + weightSize, groups: groups, stride: partialSize, count: g.outChannels, into: dBias) }
    }

    static func groupCount(_ batch: Int) -> Int { min(batch, groupLimit) }

    static func groupRange(_ group: Int, groups: Int, batch: Int) -> Range<Int> {
        (group * batch / groups)..<((group + 1) * batch / groups)
    }

    /// Runs `body(group, images, gemmThreads)` once per image group, groups spread over the cores.
    /// With a single group (one image) the GEMMs themselves may be split instead. Either way the work
    /// is cut by shape alone, never by the number of cores, so results do not depend on it.
    static func forEachGroup(_ g: ConvGeometry, _ body: (Int, Range<Int>, Int?) -> Void) {
        let groups = groupCount(g.batch)
        guard groups > 1 else {
            for group in 0..<groups { body(group, groupRange(group, groups: groups, batch: g.batch), nil) }
            return
        }
        BLASThreads.set(1)  // set here, on one thread, so the workers' calls only read it
        parallelChunks(groups, minimumPerChunk: 1) { range in
            for group in range { body(group, groupRange(group, groups: groups, batch: g.batch), 1) }
        }
    }

    /// `out[i] = Σ_group partials[group · stride + i]`, summed in group order.
    static func sumGroups(_ partials: UnsafePointer<Float>, groups: Int, stride: Int, count: Int,
                          into out: UnsafeMutablePointer<Float>) {
        out.update(from: partials, count: count)
        for group in 1..<groups {
            let p = partials + group &* stride
            for i in 0..<count { out[i] += p[i] }
        }
    }
}

extension ConvGeometry {
    /// The same convolution for one image.
    public var singleImage: ConvGeometry {
        var one = self
        one.batch = 1
        return one
    }
}
