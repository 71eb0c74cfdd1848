import Autodiff
import Kernels
import NN

/// Per-sample, per-class output cotangents of one layer, laid out [sample][class][element], so the
/// C rows of a sample are contiguous (the traced kernel reads them as one row).
struct CotangentStore {
    let perSample: Int, samples: Int, classes: Int
    private(set) var buffer: UnsafeMutablePointer<Float>?

    init(perSample: Int, samples: Int, classes: Int) {
        self.perSample = perSample
        self.samples = samples
        self.classes = classes
        buffer = FloatBuffer.allocate(perSample * samples * classes)
    }

    /// Copies the cotangent of every sample for logit `c`.
    func store(_ g: Tensor, class c: Int) {
        guard let buffer else { return }
        g.withUnsafePointer { src in
            for i in 0..<samples {
                (buffer + (i * classes + c) * perSample).update(from: src + i * perSample, count: perSample)
            }
        }
    }

    var pointer: UnsafeMutablePointer<Float> { buffer! }

    mutating func release() {
        if let b = buffer { FloatBuffer.deallocate(b) }
        buffer = nil
    }
}

extension EmpiricalNTK {
    /// Dense layer: K[(i,c),(j,d)] += (δ_ic·δ_jd)(a_i·a_j + 1[bias]).
    static func addDense(_ layer: Dense, input: Tensor, cotangents: CotangentStore, kind: KernelKind,
                         scratch: UnsafeMutablePointer<Float>, into kernel: UnsafeMutablePointer<Float>) {
        let n = cotangents.samples, classes = cotangents.classes, out = cotangents.perSample
        let features = input.count / n
        let full = kind == .full
        let rows = full ? n * classes : n
        // D = Δ Δᵀ: rows (i, c) of length `out` (full), or rows i of length C·out (traced).
        ssyrk(n: rows, k: full ? out : classes * out, a: cotangents.pointer, lda: full ? out : classes * out,
              c: scratch, ldc: rows)
        // A = a aᵀ (N × N).
        let gram = FloatBuffer.allocate(n * n)
        defer { FloatBuffer.deallocate(gram) }
        input.withUnsafePointer { ssyrk(n: n, k: features, a: $0, lda: features, c: gram, ldc: n) }
        let biasTerm: Float = layer.bias?.trainable == true ? 1 : 0
        let per = full ? classes : 1
        for r in 0..<rows {
            let i = r / per
            for s in r..<rows {
                let j = s / per
                kernel[r * rows + s] += scratch[r * rows + s] * (gram[min(i, j) * n + max(i, j)] + biasTerm)
            }
        }
    }

    /// Convolution: K += G Gᵀ over tiles of output channels, plus the bias term B Bᵀ.
    static func addConv(_ layer: Conv2D, input: Tensor, cotangents: CotangentStore, kind: KernelKind,
                        tileBudget: Int, channelTile: Int?, into kernel: UnsafeMutablePointer<Float>) {
        let n = cotangents.samples, classes = cotangents.classes
        let w = layer.weight.value.shape
        let outChannels = w[0]
        let g = ConvGeometry(batch: 1, inChannels: input.shape[1], height: input.shape[2], width: input.shape[3],
                             outChannels: outChannels, kernelHeight: w[2], kernelWidth: w[3],
                             stride: layer.stride, padding: layer.padding)
        let patch = g.patchSize, pixels = g.outHeight * g.outWidth
        precondition(pixels * outChannels == cotangents.perSample, "conv cotangent size mismatch")
        let full = kind == .full
        let rows = full ? n * classes : n
        let inputSize = input.count / n

        let perChannelBytes = n * classes * patch * 4
        let tile = max(1, min(outChannels, channelTile ?? tileBudget / max(perChannelBytes, 1)))
        let gradients = FloatBuffer.allocate(n * classes * tile * patch)
        defer { FloatBuffer.deallocate(gradients) }

        let delta = cotangents.pointer
        input.withUnsafePointer { x in
            var o0 = 0
            while o0 < outChannels {
                let t = min(tile, outChannels - o0)
                BLASThreads.set(1)
                // G rows (i, c): δ_ic[o0..<o0+t] (t × pixels) · patches_iᵀ (pixels × patch).
                parallelChunks(n, minimumPerChunk: 1) { range in
                    let patches = FloatBuffer.allocate(patch * pixels)
                    defer { FloatBuffer.deallocate(patches) }
                    for i in range {
                        im2col(x + i * inputSize, g, into: patches, parallel: false)
                        if t == outChannels {
                            sgemm(transposeB: true, m: classes * t, n: patch, k: pixels,
                                  a: delta + i * classes * outChannels * pixels, lda: pixels,
                                  b: patches, ldb: pixels, c: gradients + i * classes * t * patch, ldc: patch, threads: 1)
                        } else {
                            for c in 0..<classes {
                                sgemm(transposeB: true, m: t, n: patch, k: pixels,
                                      a: delta + ((i * classes + c) * outChannels + o0) * pixels, lda: pixels,
                                      b: patches, ldb: pixels, c: gradients + (i * classes + c) * t * patch, ldc: patch, threads: 1)
                            }
                        }
                    }
                }
                ssyrk(n: rows, k: (full ? 1 : classes) * t * patch, a: gradients, lda: (full ? 1 : classes) * t * patch,
                      beta: 1, c: kernel, ldc: rows)
                o0 += t
            }
        }

        if layer.bias?.trainable == true {
            // B[(i,c), o] = Σ_pixels δ_ic[o, ·]
            let sums = FloatBuffer.allocate(n * classes * outChannels)
            defer { FloatBuffer.deallocate(sums) }
            for r in 0..<(n * classes * outChannels) { sums[r] = Elementwise.sum(delta + r * pixels, count: pixels) }
            ssyrk(n: rows, k: (full ? 1 : classes) * outChannels, a: sums, lda: (full ? 1 : classes) * outChannels,
                  beta: 1, c: kernel, ldc: rows)
        }
    }
}

/// For a conv layer whose per-sample weight gradients are smaller than its output cotangents (early
/// layers: few input channels, many pixels), the gradient rows G[(i,c)] = δ_ic · patches_iᵀ and the
/// bias sums are built during each class's reverse pass, and δ is never stored.
/// MNIST conv1: G is 3000 × 288 floats where δ would be 3000 × 25,088.
final class ConvGradientRows {
    let samples: Int, classes: Int, outChannels: Int, patch: Int, pixels: Int
    let hasBias: Bool
    private let patches: UnsafeMutablePointer<Float>   // im2col of the whole batch: patch × (N·pixels)
    let rows: UnsafeMutablePointer<Float>              // [i][c][o][k]
    let biasSums: UnsafeMutablePointer<Float>          // [i][c][o]

    /// Bytes this representation needs, and the bytes the stored cotangents would need.
    static func bytes(_ layer: Conv2D, input: Tensor, output: Tensor, classes: Int) -> (rows: Int, cotangents: Int) {
        let n = input.shape[0], w = layer.weight.value.shape
        let patch = w[1] * w[2] * w[3], pixels = output.shape[2] * output.shape[3]
        return ((patch * n * pixels + n * classes * w[0] * (patch + 1)) * 4, output.count * classes * 4)
    }

    init(_ layer: Conv2D, input: Tensor, classes: Int) {
        let w = layer.weight.value.shape
        let g = ConvGeometry(batch: input.shape[0], inChannels: input.shape[1], height: input.shape[2], width: input.shape[3],
                             outChannels: w[0], kernelHeight: w[2], kernelWidth: w[3], stride: layer.stride, padding: layer.padding)
        samples = g.batch
        self.classes = classes
        outChannels = w[0]
        patch = g.patchSize
        pixels = g.outHeight * g.outWidth
        hasBias = layer.bias?.trainable == true
        let buffer = FloatBuffer.allocate(g.patchSize * g.outputPixels)
        input.withUnsafePointer { im2col($0, g, into: buffer) }
        patches = buffer
        rows = FloatBuffer.allocate(g.batch * classes * w[0] * g.patchSize)
        biasSums = FloatBuffer.allocate(g.batch * classes * w[0])
    }

    /// Adds the rows of logit `c` from its output cotangent [N, O, H, W].
    func add(_ cotangent: Tensor, class c: Int) {
        let (n, o, k, p, classes) = (samples, outChannels, patch, pixels, self.classes)
        let (patches, rows, biasSums) = (self.patches, self.rows, self.biasSums)
        cotangent.withUnsafePointer { delta in
            BLASThreads.set(1)
            parallelChunks(n, minimumPerChunk: 1) { range in
                for i in range {
                    let d = delta + i * o * p
                    sgemm(transposeB: true, m: o, n: k, k: p, a: d, lda: p, b: patches + i * p, ldb: n * p,
                          c: rows + (i * classes + c) * o * k, ldc: k, threads: 1)
                    for ch in 0..<o { biasSums[(i * classes + c) * o + ch] = Elementwise.sum(d + ch * p, count: p) }
                }
            }
        }
    }

    /// K += G Gᵀ (+ B Bᵀ for the bias).
    func addContribution(kind: KernelKind, into kernel: UnsafeMutablePointer<Float>) {
        let full = kind == .full, n = full ? samples * classes : samples, per = full ? 1 : classes
        ssyrk(n: n, k: per * outChannels * patch, a: rows, lda: per * outChannels * patch, beta: 1, c: kernel, ldc: n)
        if hasBias { ssyrk(n: n, k: per * outChannels, a: biasSums, lda: per * outChannels, beta: 1, c: kernel, ldc: n) }
    }

    deinit {
        FloatBuffer.deallocate(patches)
        FloatBuffer.deallocate(rows)
        FloatBuffer.deallocate(biasSums)
    }
}
