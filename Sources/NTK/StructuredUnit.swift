import Autodiff
import Kernels

/// A dense or convolution primitive whose weight and/or bias are structured parameters (see
/// ``RecordedBatch``), with what the reverse passes keep for it: the output cotangents δ, or — for
/// early convolutions, where they are smaller — the per-sample gradient rows built pass by pass.
final class StructuredUnit {
    enum Kind {
        case dense
        case convolution(ConvGeometry)
    }

    let node: GraphNode
    let input: Tensor
    let kind: Kind
    let weight: Bool
    let bias: Bool
    let samples: Int
    private(set) var cotangents: CotangentStore?
    private(set) var gradientRows: ConvGradientRows?

    init(node: GraphNode, structure: ParameterStructure, weight: Bool, bias: Bool) {
        self.node = node
        self.weight = weight
        self.bias = bias
        switch structure {
        case .dense(let input):
            self.input = input
            kind = .dense
        case .convolution(let input, let geometry):
            self.input = input
            kind = .convolution(geometry)
        }
        samples = input.shape[0]
    }

    /// Output elements per sample.
    var perSample: Int { node.shape.reduce(1, *) / samples }

    /// Whether the gradient rows are built during the reverse passes instead of storing δ (a
    /// convolution whose per-sample weight gradients are smaller than its output cotangents).
    func usesGradientRows(classes: Int) -> Bool {
        guard weight, case .convolution(let g) = kind else { return false }
        return ConvGradientRows.bytes(g, classes: classes) < perSample * samples * classes * 4
    }

    func storedBytes(classes: Int) -> Int {
        if usesGradientRows(classes: classes), case .convolution(let g) = kind { return ConvGradientRows.bytes(g, classes: classes) }
        return perSample * samples * classes * 4
    }

    /// Bytes of a one-output-channel gradient tile (stored-δ convolutions only).
    func tileBytesPerChannel(classes: Int) -> Int {
        guard weight, !usesGradientRows(classes: classes), case .convolution(let g) = kind else { return 0 }
        return samples * classes * g.patchSize * 4
    }

    func prepare(classes: Int) {
        if usesGradientRows(classes: classes), case .convolution(let g) = kind {
            gradientRows = ConvGradientRows(g, input: input, classes: classes, bias: bias)
        } else {
            cotangents = CotangentStore(perSample: perSample, samples: samples, classes: classes)
        }
    }

    /// Takes the output cotangent of logit `c` (all samples).
    func add(_ g: Tensor, class c: Int) {
        cotangents?.store(g, class: c)
        gradientRows?.add(g, class: c)
    }

    /// Frees what the reverse passes kept.
    func release() {
        cotangents?.release()
        cotangents = nil
        gradientRows = nil
    }

    // The stored cotangents are a raw buffer: a unit dropped unreleased (a cross kernel's right side)
    // must not take it along.
    deinit { cotangents?.release() }
}

/// Per-sample, per-class output cotangents of one unit, laid out [sample][class][element], so the
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

/// For a convolution whose per-sample weight gradients are smaller than its output cotangents (early
/// layers: few input channels, many pixels), the gradient rows G[(i,c)] = δ_ic · patches_iᵀ and the
/// bias sums are built during each class's reverse pass, and δ is never stored.
/// MNIST conv1: G is 3000 × 288 floats where δ would be 3000 × 25,088.
final class ConvGradientRows {
    let samples: Int, classes: Int, outChannels: Int, patch: Int, pixels: Int
    let hasBias: Bool
    private let patches: UnsafeMutablePointer<Float>   // im2col of the whole batch: patch × (N·pixels)
    let rows: UnsafeMutablePointer<Float>              // [i][c][o][k]
    let biasSums: UnsafeMutablePointer<Float>          // [i][c][o]

    /// Bytes this representation needs for geometry `g` (whole batch).
    static func bytes(_ g: ConvGeometry, classes: Int) -> Int {
        (g.patchSize * g.outputPixels + g.batch * classes * g.outChannels * (g.patchSize + 1)) * 4
    }

    init(_ g: ConvGeometry, input: Tensor, classes: Int, bias: Bool) {
        samples = g.batch
        self.classes = classes
        outChannels = g.outChannels
        patch = g.patchSize
        pixels = g.outHeight * g.outWidth
        hasBias = bias
        let buffer = FloatBuffer.allocate(g.patchSize * g.outputPixels)
        input.withUnsafePointer { im2col($0, g, into: buffer) }
        patches = buffer
        rows = FloatBuffer.allocate(g.batch * classes * g.outChannels * g.patchSize)
        biasSums = FloatBuffer.allocate(g.batch * classes * g.outChannels)
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

    deinit {
        FloatBuffer.deallocate(patches)
        FloatBuffer.deallocate(rows)
        FloatBuffer.deallocate(biasSums)
    }
}
