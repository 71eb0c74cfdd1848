import Kernels

extension Primitive {
    /// 2-D convolution; its structure rule is ``ParameterStructure/convolution(input:geometry:)``.
    public static let conv2d = Primitive("conv2d")
}

/// 2-D convolution (cross-correlation) of an NCHW batch with weights [out, in, kh, kw] and an
/// optional bias [out], by im2col + one GEMM per image (`BatchedConvolution`).
///
/// `padding` zero-pads every side; `padding: kh / 2` with stride 1 is "SAME" for odd kernels.
/// `relu` applies max(·, 0) to the result: inside the convolution, while its output is in cache, when
/// nothing is differentiated (no input tracked for either mode); as a separate ``Tensor/relu()`` otherwise.
public func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int, relu: Bool = false) throws -> Tensor {
    guard x.rank == 4, weight.rank == 4 else {
        throw ShapeError("conv2d", "input [N, C, H, W] and weight [out, in, kh, kw] must have rank 4", shapes: [x.shape, weight.shape])
    }
    guard x.shape[1] == weight.shape[1] else {
        throw ShapeError("conv2d", "input has \(x.shape[1]) channels, the weight expects \(weight.shape[1])", shapes: [x.shape, weight.shape])
    }
    guard stride >= 1, padding >= 0 else {
        throw ShapeError("conv2d", "stride \(stride) must be at least 1 and padding \(padding) not negative", shapes: [x.shape, weight.shape])
    }
    let g = ConvGeometry(batch: x.shape[0], inChannels: x.shape[1], height: x.shape[2], width: x.shape[3],
                         outChannels: weight.shape[0], kernelHeight: weight.shape[2], kernelWidth: weight.shape[3],
                         stride: stride, padding: padding)
    guard g.outHeight > 0, g.outWidth > 0 else {
        throw ShapeError("conv2d", "kernel larger than the padded input", shapes: [x.shape, weight.shape])
    }
    if let bias, bias.shape != [g.outChannels] {
        throw ShapeError("conv2d", "bias does not match the weight's \(g.outChannels) output channels", shapes: [bias.shape, weight.shape])
    }
    let untracked = ![x, weight, bias].contains { $0?.isTracked ?? false }
    if relu && !untracked { return try conv2d(x, weight: weight, bias: bias, stride: stride, padding: padding).relu() }
    let y = Tensor.uninitialized([g.batch, g.outChannels, g.outHeight, g.outWidth])
    x.withUnsafePointer { px in
        weight.withUnsafePointer { pw in
            if let bias {
                bias.withUnsafePointer { BatchedConvolution.forward(px, weight: pw, bias: $0, g, relu: relu, into: y.storage.pointer) }
            } else {
                BatchedConvolution.forward(px, weight: pw, bias: nil, g, relu: relu, into: y.storage.pointer)
            }
        }
    }
    if untracked { return y }

    // The backward pass rebuilds each image's patches from the input instead of keeping them.
    let xd = x.detached, wd = weight.detached
    return Tensor.record(y, primitive: .conv2d, inputs: [x, weight, bias], pullback: { dy, needs in
        let dx = needs[0] ? Tensor.uninitialized(xd.shape) : nil
        let dw = needs[1] ? Tensor.uninitialized(wd.shape) : nil
        let db = needs.count > 2 && needs[2] ? Tensor.uninitialized([g.outChannels]) : nil
        xd.withUnsafePointer { px in
            wd.withUnsafePointer { pw in
                dy.withUnsafePointer { pdy in
                    BatchedConvolution.backward(px, weight: pw, dy: pdy, g, dx: dx?.storage.pointer,
                                                dWeight: dw?.storage.pointer, dBias: db?.storage.pointer)
                }
            }
        }
        return [dx, dw, db]
    }, tangent: { t in
        // Bilinear in (x, W): d conv = conv(dx, W) + conv(x, dW) + db.
        let fromInput = try t[0].map { try conv2d($0, weight: weight.primal, bias: nil, stride: stride, padding: padding) }
        var fromParameters: Tensor?
        if t[1] != nil || t[2] != nil {
            fromParameters = try conv2d(x.primal, weight: t[1] ?? Tensor.zeros(weight.shape), bias: t[2],
                                        stride: stride, padding: padding)
        }
        return try sumTangents([fromInput, fromParameters])
    }, structure: .convolution(input: xd, geometry: g))
}
