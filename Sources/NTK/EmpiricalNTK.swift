import Autodiff
import Foundation
import Kernels
import NN

/// Which kernel to compute: the paper's full NC×NC Gram matrix
/// K[(i,c),(j,d)] = Σ_p ∂f_c(x_i)/∂θ_p · ∂f_d(x_j)/∂θ_p (rows sample-major, i·C + c), or the traced
/// N×N kernel Σ_c K[(i,c),(j,c)].
public enum KernelKind: String, Codable, Sendable, CaseIterable {
    case full
    case traced
}

/// Errors of the NTK engine.
public enum NTKError: Error, CustomStringConvertible, Equatable {
    case exceedsMemoryBudget(neededBytes: Int, budgetBytes: Int, detail: String)
    case emptyBatch
    /// The model's output is not [N, classes] for N inputs.
    case outputShape([Int], samples: Int)
    /// A batch-dependent value fed by parameters does not have the samples along its first axis.
    case cannotAttributeSamples(primitive: String, shape: [Int], samples: Int)
    /// The two batches of a cross kernel did not record the same computation.
    case batchesDiffer(String)
    /// Two kernels compared by a metric have different sizes (n × n and m × m).
    case kernelSizesDiffer(Int, Int)

    public var description: String {
        switch self {
        case .exceedsMemoryBudget(let need, let budget, let detail):
            return "the NTK needs at least \(byteSize(need)) but the memory budget is \(byteSize(budget)) (\(detail)); raise the budget or use a smaller batch or the traced kernel"
        case .emptyBatch: return "the NTK needs at least one input"
        case .outputShape(let shape, let n):
            return "the NTK needs a model output of shape [\(n), classes] for \(n) inputs; got \(shape)"
        case .cannotAttributeSamples(let p, let shape, let n):
            return "primitive '\(p)' produces shape \(shape), whose first axis does not hold the \(n) samples; the NTK engine cannot split its parameter gradients per sample"
        case .batchesDiffer(let detail):
            return "the two batches of a cross kernel recorded different computations (\(detail)); the model must not branch on its input"
        case .kernelSizesDiffer(let n, let m):
            return "kernel metrics compare kernels of the same size; got \(n)×\(n) and \(m)×\(m)"
        }
    }
}

/// `bytes` for a message: in MB from 1 MB up (whole), in kB below.
func byteSize(_ bytes: Int) -> String {
    bytes >= 1_000_000 ? "\(bytes / 1_000_000) MB" : String(format: "%.1f kB", Double(bytes) / 1000)
}

/// The empirical neural tangent kernel of any `Module`, computed from the recorded graph without
/// materialising the Jacobian (all trainable parameters, weights and biases, no normalisation).
///
/// One forward pass records the graph; C reverse passes (one per logit c, seeding ∂f_c on every sample)
/// give each structured node's output cotangent δ_{i,c}. Then, per parameter (see `RecordedBatch`):
/// - the weight and bias of a dense primitive with inputs a_i: K += (δ_ic·δ_jd)(a_i·a_j + 1);
/// - of a convolution: the per-sample weight gradients G_ic = δ_ic · patches_iᵀ are stacked as the rows
///   of G and K += G Gᵀ by SYRK, in tiles of output channels sized to the memory budget (tiling the
///   columns of G costs no recomputation); the bias adds B Bᵀ with B_ic = Σ_pixels δ_ic;
/// - any other parameter (a user's primitive, shared weights): per-sample gradient rows from the
///   cotangents where it enters the batch computation, K += G Gᵀ.
/// When the stores of all layers do not fit in the memory budget at once, the layers are processed in
/// groups that do, from the output side inward: the reverse passes are repeated for each group, stopping
/// at its deepest layer, and each group's stores are freed before the next (less memory for more time;
/// the kernel is the same up to the order of its floating-point sums).
/// The traced kernel is the same computation with the C rows of a sample concatenated. Cross kernels
/// Θ(X₁, X₂) take the same pieces from both batches and multiply them with GEMMs, in row blocks of X₁.
public enum EmpiricalNTK {
    /// Settings of a kernel computation.
    public struct Options: Sendable, Equatable {
        /// Full (NC × NC) or traced (N × N).
        public var kind: KernelKind
        /// An upper bound on the engine's working memory (cotangents, gradient tiles, kernel buffers).
        public var memoryBudgetBytes: Int
        /// Width of a conv layer's gradient tile, in output channels (nil: as wide as the budget allows).
        public var channelTile: Int?

        /// Options with the given kind, budget (default 4 GiB) and tile width.
        public init(kind: KernelKind = .full, memoryBudgetBytes: Int = 4 << 30, channelTile: Int? = nil) {
            self.kind = kind
            self.memoryBudgetBytes = memoryBudgetBytes
            self.channelTile = channelTile
        }
    }

    /// The kernel of `model` on `inputs` ([N, …]). A `LinearizedModel` gives J(θ₀) J(θ₀)ᵀ.
    public static func compute(_ model: Module, inputs: Tensor, options: Options = Options()) throws -> KernelMatrix {
        if let linearized = model as? LinearizedModel {
            return try linearized.withAnchorParameters { try compute($0, inputs: inputs, options: options) }
        }
        // Idle buffers are part of the budget: none while recording, then what one reverse pass frees
        // for the next (see RecordedBatch.passBytes).
        let batch = try FloatBuffer.withIdleLimit(bytes: 0) { try RecordedBatch(model: model, inputs: inputs) }
        return try FloatBuffer.withIdleLimit(bytes: batch.transientBytes()) { try compute(batch, options: options) }
    }

    private static func compute(_ batch: RecordedBatch, options: Options) throws -> KernelMatrix {
        let n = batch.samples, classes = batch.classes
        let rows = options.kind == .full ? n * classes : n
        let (groups, kernelBytes) = try layerGroups(batch, options: options)
        let genericBytes = batch.generic?.bytes ?? 0, passBytes = batch.passBytes()

        // Contributions accumulate in one Float buffer (upper triangle); each is itself a Float SYRK.
        let kernel = FloatBuffer.allocateZeroed(rows * rows)
        defer { FloatBuffer.deallocate(kernel) }
        let block = KernelBlock(pointer: kernel, ldc: rows, symmetric: true)
        for (index, group) in groups.enumerated() {
            let first = index == 0
            try batch.runReversePasses(units: group, includeGeneric: first)
            let stored = group.reduce(first ? genericBytes : 0) { $0 + batch.structured[$1].storedBytes(classes: classes) }
            addContributions(batch, batch, units: group, includeGeneric: first, options: options,
                             tileBudget: options.memoryBudgetBytes - passBytes - stored - kernelBytes, into: block)
            // Freed stores would otherwise wait in the buffer cache while the next group allocates others.
            if groups.count > 1 { FloatBuffer.releaseCache() }
        }
        // Symmetrise from the upper triangle (SYRK writes only that half).
        let values = [Float](unsafeUninitializedCapacity: rows * rows) { out, count in
            for i in 0..<rows {
                for j in i..<rows {
                    let v = kernel[i * rows + j]
                    out[i * rows + j] = v
                    out[j * rows + i] = v
                }
            }
            count = rows * rows
        }
        return options.kind == .full ? KernelMatrix(full: values, samples: n, classes: classes)
                                     : KernelMatrix(traced: values, samples: n)
    }

    /// How many groups of layers (each with its own set of C reverse passes) ``compute(_:inputs:options:)``
    /// would process under `options`' memory budget: 1 when every layer's store fits at once. Records one
    /// forward pass of `model` on `inputs` to find out.
    public static func layerGroupCount(_ model: Module, inputs: Tensor, options: Options = Options()) throws -> Int {
        if let linearized = model as? LinearizedModel {
            return try linearized.withAnchorParameters { try layerGroupCount($0, inputs: inputs, options: options) }
        }
        return try layerGroups(RecordedBatch(model: model, inputs: inputs), options: options).groups.count
    }

    /// The groups of structured units (see ``RecordedBatch/unitGroups(fitting:)``) whose stores fit in
    /// the budget beside the recorded passes, the kernel's two buffers (`kernelBytes`), a one-channel
    /// gradient tile and the generic rows; throws when even the largest unit alone does not.
    static func layerGroups(_ batch: RecordedBatch, options: Options) throws -> (groups: [[Int]], kernelBytes: Int) {
        let need = symmetricNeed(batch, samples: batch.samples, kind: options.kind)
        let available = options.memoryBudgetBytes - need.total + need.largestUnit
        guard need.total <= options.memoryBudgetBytes, let groups = batch.unitGroups(fitting: available) else {
            throw NTKError.exceedsMemoryBudget(neededBytes: need.total, budgetBytes: options.memoryBudgetBytes, detail: need.detail)
        }
        return (groups, need.kernel)
    }

    /// The least memory ``compute(_:inputs:options:)`` needs for `samples` samples of `batch`'s
    /// computation: its recorded passes, the kernel's two buffers, a one-channel gradient tile, the
    /// generic rows and the largest layer's store (layers beyond it can wait for another group).
    static func symmetricNeed(_ batch: RecordedBatch, samples: Int, kind: KernelKind)
        -> (total: Int, kernel: Int, largestUnit: Int, detail: String) {
        let rows = kind == .full ? samples * batch.classes : samples
        let kernel = rows * rows * 4 * 2, pass = batch.passBytes(samples: samples)
        let tile = batch.scale(batch.minimumTileBytes, to: samples)
        let generic = batch.scale(batch.generic?.bytes ?? 0, to: samples)
        let largest = batch.scale(batch.structured.map { $0.storedBytes(classes: batch.classes) }.max() ?? 0, to: samples)
        return (pass + kernel + tile + generic + largest, kernel, largest,
                "recorded forward and reverse passes \(byteSize(pass)), the largest layer's cotangents \(byteSize(largest)), generic gradient rows \(byteSize(generic)), kernel \(byteSize(kernel)), one-channel gradient tile \(byteSize(tile))")
    }

    /// The cross kernel Θ(X₁, X₂) of `model`: N₁C × N₂C (full) or N₁ × N₂ (traced), rows for X₁.
    /// X₂'s pieces are computed once and X₁ is processed in row blocks sized to the memory budget.
    public static func cross(_ model: Module, _ inputs1: Tensor, _ inputs2: Tensor,
                             options: Options = Options()) throws -> CrossKernelMatrix {
        if let linearized = model as? LinearizedModel {
            return try linearized.withAnchorParameters { try cross($0, inputs1, inputs2, options: options) }
        }
        let n1 = inputs1.shape.first ?? 0
        guard n1 > 0 else { throw NTKError.emptyBatch }
        let right = try FloatBuffer.withIdleLimit(bytes: 0) { try RecordedBatch(model: model, inputs: inputs2) }
        return try FloatBuffer.withIdleLimit(bytes: right.transientBytes()) {
            try cross(model, inputs1, right, options: options)
        }
    }

    /// ``cross(_:_:_:options:)`` with X₂ recorded.
    private static func cross(_ model: Module, _ inputs1: Tensor, _ right: RecordedBatch,
                              options: Options) throws -> CrossKernelMatrix {
        let n1 = inputs1.shape[0]
        let n2 = right.samples, classes = right.classes
        let full = options.kind == .full, per = full ? classes : 1
        let columns = n2 * per
        let outputBytes = n1 * per * columns * 4
        // X₂'s graph and stores stay while row blocks of X₁ (the same computation) come and go.
        let rightBytes = right.passBytes() + right.storedBytes
        let perSample = right.scale(rightBytes, to: 1), tilePerSample = right.scale(right.minimumTileBytes, to: 1)
        try checkBudget(passesAndStores: rightBytes + perSample, output: outputBytes,
                        tile: tilePerSample * (n2 + 1), options: options)
        try right.runReversePasses()

        let available = options.memoryBudgetBytes - rightBytes - outputBytes - tilePerSample * n2
        let blockSize = max(1, min(n1, available / max(perSample + tilePerSample, 1) / 2))
        var values = [Float](repeating: 0, count: n1 * per * columns)
        var start = 0
        while start < n1 {
            let count = min(blockSize, n1 - start)
            let slice = try rowsOf(inputs1, start..<(start + count))
            let left = try RecordedBatch(model: model, inputs: slice)
            try requireSameComputation(left, right)
            try left.runReversePasses()
            let tileBudget = options.memoryBudgetBytes - rightBytes - left.passBytes() - left.storedBytes - outputBytes
            values.withUnsafeMutableBufferPointer { out in
                let block = KernelBlock(pointer: out.baseAddress! + start * per * columns, ldc: columns, symmetric: false)
                addContributions(left, right, options: options, tileBudget: tileBudget, into: block)
            }
            start += count
        }
        return CrossKernelMatrix(values: values, rowSamples: n1, columnSamples: n2, classes: full ? classes : nil)
    }

    /// The most samples per block for which ``compute(_:inputs:options:)`` on one block of `inputs`
    /// and ``cross(_:_:_:options:)`` between two such blocks keep to `options`' memory budget (at most
    /// the batch size). Records one forward pass of `model` on two samples to find out; assumes, as
    /// the engine does, that every batch-dependent value holds the samples along its first axis.
    /// - Throws: ``NTKError/exceedsMemoryBudget(neededBytes:budgetBytes:detail:)`` when not even one sample fits.
    public static func largestBlock(_ model: Module, inputs: Tensor, options: Options = Options()) throws -> Int {
        if let linearized = model as? LinearizedModel {
            return try linearized.withAnchorParameters { try largestBlock($0, inputs: inputs, options: options) }
        }
        let n = inputs.shape.first ?? 0
        guard n > 0 else { throw NTKError.emptyBatch }
        let probe = try RecordedBatch(model: model, inputs: try rowsOf(inputs, 0..<min(n, 2)))
        let per = options.kind == .full ? probe.classes : 1
        // The larger of compute on b samples and cross between two blocks of b (both sides recorded).
        func need(_ b: Int) -> (bytes: Int, detail: String) {
            let symmetric = symmetricNeed(probe, samples: b, kind: options.kind)
            let side = probe.passBytes(samples: b) + probe.scale(probe.storedBytes, to: b)
            let cross = 2 * side + b * per * b * per * 4 + probe.scale(probe.minimumTileBytes, to: 2 * b)
            return (max(symmetric.total, cross), symmetric.detail)
        }
        func fits(_ b: Int) -> Bool { need(b).bytes <= options.memoryBudgetBytes }
        guard fits(1) else {
            let one = need(1)
            throw NTKError.exceedsMemoryBudget(neededBytes: one.bytes, budgetBytes: options.memoryBudgetBytes,
                                               detail: "one sample: " + one.detail)
        }
        var (low, high) = (1, n)    // fits(low); the answer is in low...high
        while low < high {
            let mid = (low + high + 1) / 2
            if fits(mid) { low = mid } else { high = mid - 1 }
        }
        return low
    }

    /// Adds the contributions of `left` against `right` (the same object for a symmetric block) of the
    /// structured units at `units` (all when nil) and, when `includeGeneric`, of the generic parameters.
    static func addContributions(_ left: RecordedBatch, _ right: RecordedBatch, units: [Int]? = nil,
                                 includeGeneric: Bool = true, options: Options, tileBudget: Int,
                                 into block: KernelBlock) {
        for k in units ?? Array(left.structured.indices) {
            let l = left.structured[k], r = right.structured[k]
            if let rowsL = l.gradientRows, let rowsR = r.gradientRows {
                addGradientRows(rowsL, rowsR, kind: options.kind, into: block)
            } else {
                switch l.kind {
                case .dense:
                    addDense(l, r, classes: left.classes, kind: options.kind, into: block)
                case .convolution(let geometry):
                    addConvolution(l, r, geometry: geometry, classes: left.classes, kind: options.kind,
                                   tileBudget: tileBudget, channelTile: options.channelTile, into: block)
                }
            }
            // A symmetric block is done with the unit; a cross block's right side serves the next row block.
            l.release()
        }
        if includeGeneric, let gl = left.generic, let gr = right.generic { addGeneric(gl, gr, kind: options.kind, into: block) }
    }

    static func checkBudget(passesAndStores: Int, output: Int, tile: Int, options: Options) throws {
        let needed = passesAndStores + output + tile
        if needed > options.memoryBudgetBytes {
            throw NTKError.exceedsMemoryBudget(neededBytes: needed, budgetBytes: options.memoryBudgetBytes,
                                               detail: "recorded passes, cotangents and gradient rows \(byteSize(passesAndStores)), kernel \(byteSize(output)), one-channel gradient tile \(byteSize(tile))")
        }
    }

    static func requireSameComputation(_ a: RecordedBatch, _ b: RecordedBatch) throws {
        guard a.classes == b.classes else { throw NTKError.batchesDiffer("\(a.classes) vs \(b.classes) outputs") }
        guard a.structured.count == b.structured.count,
              zip(a.structured, b.structured).allSatisfy({ $0.node.primitive == $1.node.primitive && $0.perSample == $1.perSample
                                                          && $0.weight == $1.weight && $0.bias == $1.bias }) else {
            throw NTKError.batchesDiffer("structured primitives differ")
        }
        guard (a.generic?.width ?? 0) == (b.generic?.width ?? 0) else { throw NTKError.batchesDiffer("generic parameters differ") }
    }

    /// Rows `range` of a batch tensor.
    static func rowsOf(_ x: Tensor, _ range: Range<Int>) throws -> Tensor {
        let per = x.count / x.shape[0]
        var shape = x.shape
        shape[0] = range.count
        return x.withUnsafePointer { p in
            Tensor(shape: shape, scalars: Array(UnsafeBufferPointer(start: p + range.lowerBound * per, count: range.count * per)))
        }
    }
}
