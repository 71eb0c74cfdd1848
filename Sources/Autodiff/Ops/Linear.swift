import Kernels

extension Primitive {
    /// `y = x Wᵀ + b`; its structure rule is ``ParameterStructure/dense(input:)``.
    public static let linear = Primitive("linear")
}

/// An affine map of a batch of row vectors: `y = x · Wᵀ + b`, with x [N, in], W [out, in], b [out].
public func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) throws -> Tensor {
    guard x.rank == 2, weight.rank == 2, x.shape[1] == weight.shape[1] else {
        throw ShapeError("linear", "input features do not match the weight [out, in]", shapes: [x.shape, weight.shape])
    }
    let n = x.shape[0], inF = x.shape[1], outF = weight.shape[0]
    if let bias, bias.shape != [outF] {
        throw ShapeError("linear", "bias does not match the weight's \(outF) outputs", shapes: [bias.shape, weight.shape])
    }
    let y = Tensor.uninitialized([n, outF])
    x.withUnsafePointer { px in weight.withUnsafePointer { pw in
        sgemm(transposeB: true, m: n, n: outF, k: inF, a: px, lda: inF, b: pw, ldb: inF,
              c: y.storage.pointer, ldc: outF)
    } }
    if let bias {
        bias.withUnsafePointer { pb in
            let py = y.storage.pointer
            for i in 0..<n { for o in 0..<outF { py[i * outF + o] += pb[o] } }
        }
    }
    let xd = x.detached, wd = weight.detached
    return Tensor.record(y, primitive: .linear, inputs: [x, weight, bias], pullback: { g, needs in
        var dx: Tensor?, dw: Tensor?, db: Tensor?
        g.withUnsafePointer { pg in
            if needs[0] {
                let t = Tensor.uninitialized([n, inF])
                wd.withUnsafePointer { pw in
                    sgemm(m: n, n: inF, k: outF, a: pg, lda: outF, b: pw, ldb: inF, c: t.storage.pointer, ldc: inF)
                }
                dx = t
            }
            if needs[1] {
                let t = Tensor.uninitialized([outF, inF])
                xd.withUnsafePointer { px in
                    sgemm(transposeA: true, m: outF, n: inF, k: n, a: pg, lda: outF, b: px, ldb: inF,
                          c: t.storage.pointer, ldc: inF)
                }
                dw = t
            }
            if needs.count > 2 && needs[2] {
                var sums = [Float](repeating: 0, count: outF)
                for i in 0..<n { for o in 0..<outF { sums[o] += pg[i * outF + o] } }
                db = Tensor(shape: [outF], scalars: sums)
            }
        }
        return [dx, dw, db]
    }, tangent: { t in
        // d(x Wᵀ + b) = dx Wᵀ + x dWᵀ + db; each term is itself differentiable.
        let fromInput = try t[0].map { try linear($0, weight: weight.primal, bias: nil) }
        var fromParameters: Tensor?
        if t[1] != nil || t[2] != nil {
            fromParameters = try linear(x.primal, weight: t[1] ?? Tensor.zeros(weight.shape), bias: t[2])
        }
        return try sumTangents([fromInput, fromParameters])
    }, structure: .dense(input: xd))
}
