/// Kernels that move elements without arithmetic: permuting axes, and concatenating along an axis
/// (with its inverse, splitting).
public enum Rearrangement {
    /// y = x with its axes reordered: y's axis i is x's axis `permutation[i]` (row-major, y contiguous).
    public static func permute(_ x: UnsafePointer<Float>, shape: [Int], permutation: [Int],
                               into y: UnsafeMutablePointer<Float>) {
        precondition(permutation.sorted() == Array(shape.indices), "permutation \(permutation) of rank \(shape.count)")
        var inputStrides = [Int](repeating: 1, count: shape.count)
        for d in stride(from: shape.count - 2, through: 0, by: -1) { inputStrides[d] = inputStrides[d + 1] * shape[d + 1] }
        let layout = StridedLayout(extents: permutation.map { shape[$0] }, strides: [permutation.map { inputStrides[$0] }])
        guard layout.count > 0 else { return }
        let n = layout.rowLength, sx = layout.strides[0][layout.extents.count - 1]
        parallelChunks(layout.rows, minimumPerChunk: max(1, (1 << 16) / max(n, 1))) { range in
            layout.forEachRow(in: range) { row, offsets in
                let src = x + offsets[0], dst = y + row &* n
                if sx == 1 {
                    dst.update(from: src, count: n)
                } else {
                    for i in 0..<n { dst[i] = src[i &* sx] }
                }
            }
        }
    }

    /// Concatenation along an axis, seen as `outer` rows: input k holds `outer` blocks of
    /// `blockSizes[k]` elements; y holds `outer` rows of Σ blockSizes, input 0's block first.
    public static func concatenate(_ inputs: [UnsafePointer<Float>], blockSizes: [Int], outer: Int,
                                   into y: UnsafeMutablePointer<Float>) {
        precondition(inputs.count == blockSizes.count, "one block size per input")
        let rowLength = blockSizes.reduce(0, +)
        for r in 0..<outer {
            var dst = y + r &* rowLength
            for (k, size) in blockSizes.enumerated() {
                dst.update(from: inputs[k] + r &* size, count: size)
                dst += size
            }
        }
    }

    /// The inverse of `concatenate`: copies each input's blocks out of y (nil outputs are skipped).
    public static func split(_ y: UnsafePointer<Float>, blockSizes: [Int], outer: Int,
                             into outputs: [UnsafeMutablePointer<Float>?]) {
        precondition(outputs.count == blockSizes.count, "one block size per output")
        let rowLength = blockSizes.reduce(0, +)
        for r in 0..<outer {
            var src = y + r &* rowLength
            for (k, size) in blockSizes.enumerated() {
                outputs[k]?.advanced(by: r &* size).update(from: src, count: size)
                src += size
            }
        }
    }
}
