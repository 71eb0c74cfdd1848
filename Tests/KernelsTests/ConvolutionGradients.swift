import Kernels

/// `BatchedConvolution.backward` on arrays: the input, weight and bias gradients. The outputs start as NaN,
/// so an entry the kernel leaves unwritten shows up in a comparison.
func convolutionGradients(_ x: [Float], weight w: [Float], dy: [Float], _ g: ConvGeometry,
                          method: BatchedConvolution.Method = .automatic) -> (dx: [Float], dWeight: [Float], dBias: [Float]) {
    var dx = [Float](repeating: .nan, count: x.count), dw = [Float](repeating: .nan, count: w.count)
    var db = [Float](repeating: .nan, count: g.outChannels)
    dx.withUnsafeMutableBufferPointer { pdx in
        dw.withUnsafeMutableBufferPointer { pdw in
            db.withUnsafeMutableBufferPointer { pdb in
                BatchedConvolution.backward(x, weight: w, dy: dy, g, method: method, dx: pdx.baseAddress!,
                                            dWeight: pdw.baseAddress!, dBias: pdb.baseAddress!)
            }
        }
    }
    return (dx, dw, db)
}
