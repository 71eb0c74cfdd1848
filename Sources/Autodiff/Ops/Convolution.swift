import Kernels

/// 2-D convolution (cross-correlation) of an NCHW batch with weights [out, in, kh, kw] and an
/// optional bias [out], by im2col + one GEMM for the whole batch.
///
/// `padding` zero-pads every side; `padding: kh / 2` with stride 1 is "SAME" for odd kernels.
/// The patch matrix is kept for the weight gradient only when the weight requires gradients.
public func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int) -> Tensor {
    precondition(x.rank == 4 && weight.rank == 4, "conv2d: input \(x.shape), weight \(weight.shape) must be rank 4")
    precondition(x.shape[1] == weight.shape[1],
                 "conv2d: input has \(x.shape[1]) channels, weight expects \(weight.shape[1])")
    let g = ConvGeometry(batch: x.shape[0], inChannels: x.shape[1], height: x.shape[2], width: x.shape[3],
                         outChannels: weight.shape[0], kernelHeight: weight.shape[2], kernelWidth: weight.shape[3],
                         stride: stride, padding: padding)
    precondition(g.outHeight > 0 && g.outWidth > 0, "conv2d: kernel larger than padded input")
    if let bias { precondition(bias.shape == [g.outChannels], "conv2d: bias \(bias.shape) for \(g.outChannels) channels") }
    let k = g.patchSize, m = g.outputPixels, pixels = g.outHeight * g.outWidth

    let cols = Tensor.uninitialized([k, m])
    x.withUnsafePointer { im2col($0, g, into: cols.storage.pointer) }
    let channelMajor = FloatBuffer.allocate(g.outChannels * m)
    defer { FloatBuffer.deallocate(channelMajor) }
    weight.withUnsafePointer { pw in
        sgemm(m: g.outChannels, n: m, k: k, a: pw, lda: k, b: cols.storage.pointer, ldb: m, c: channelMajor, ldc: m)
    }
    let y = Tensor.uninitialized([g.batch, g.outChannels, g.outHeight, g.outWidth])
    if let bias {
        bias.withUnsafePointer { channelMajorToBatchMajor(channelMajor, channels: g.outChannels, batch: g.batch,
                                                          pixels: pixels, bias: $0, into: y.storage.pointer) }
    } else {
        channelMajorToBatchMajor(channelMajor, channels: g.outChannels, batch: g.batch, pixels: pixels,
                                 bias: nil, into: y.storage.pointer)
    }

    let savedCols: Tensor? = weight.requiresGradient ? cols : nil
    let wd = weight.detached
    return Tensor.record(y, inputs: [x, weight, bias], pullback: { dy, needs in
        let dyCM = FloatBuffer.allocate(g.outChannels * m)
        defer { FloatBuffer.deallocate(dyCM) }
        dy.withUnsafePointer { batchMajorToChannelMajor($0, channels: g.outChannels, batch: g.batch, pixels: pixels, into: dyCM) }
        var dx: Tensor?, dw: Tensor?, db: Tensor?
        if needs[1], let savedCols {
            let t = Tensor.uninitialized(wd.shape)
            sgemm(transposeB: true, m: g.outChannels, n: k, k: m, a: dyCM, lda: m,
                  b: savedCols.storage.pointer, ldb: m, c: t.storage.pointer, ldc: k)
            dw = t
        }
        if needs.count > 2 && needs[2] {
            let t = Tensor.uninitialized([g.outChannels])
            for c in 0..<g.outChannels { t.storage.pointer[c] = Elementwise.sum(dyCM + c * m, count: m) }
            db = t
        }
        if needs[0] {
            let dcols = FloatBuffer.allocate(k * m)
            defer { FloatBuffer.deallocate(dcols) }
            wd.withUnsafePointer { pw in
                sgemm(transposeA: true, m: k, n: m, k: g.outChannels, a: pw, lda: k, b: dyCM, ldb: m, c: dcols, ldc: m)
            }
            let t = Tensor.uninitialized([g.batch, g.inChannels, g.height, g.width])
            col2im(dcols, g, into: t.storage.pointer)
            dx = t
        }
        return [dx, dw, db]
    }, tangent: { t in
        // Bilinear in (x, W): d conv = conv(dx, W) + conv(x, dW) + db.
        let fromInput = t[0].map { conv2d($0, weight: weight.primal, bias: nil, stride: stride, padding: padding) }
        var fromParameters: Tensor?
        if t[1] != nil || t[2] != nil {
            fromParameters = conv2d(x.primal, weight: t[1] ?? Tensor.zeros(weight.shape), bias: t[2],
                                    stride: stride, padding: padding)
        }
        return sumTangents([fromInput, fromParameters])
    })
}
