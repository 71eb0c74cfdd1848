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
    case unsupportedLayer(String)
    case exceedsMemoryBudget(neededBytes: Int, budgetBytes: Int, detail: String)
    case emptyBatch

    public var description: String {
        switch self {
        case .unsupportedLayer(let s):
            return "the structured NTK engine does not know layer \(s); use EmpiricalNTK.bruteForce for such models"
        case .exceedsMemoryBudget(let need, let budget, let detail):
            return String(format: "the NTK needs at least %.0f MB but the memory budget is %.0f MB (%@); raise the budget or use a smaller batch or the traced kernel",
                          Double(need) / 1e6, Double(budget) / 1e6, detail)
        case .emptyBatch: return "the NTK needs at least one input"
        }
    }
}

/// The empirical neural tangent kernel of a `Sequential` model on a batch, computed layer by layer
/// without materialising the Jacobian (all trainable parameters, weights and biases, no normalisation).
///
/// One forward pass keeps each layer's input; C reverse passes (one per logit c, seeding ∂f_c on every
/// sample) give each layer's output cotangent δ_{i,c}. Then, per layer:
/// - Dense W [out, in] with inputs a_i: K += (δ_ic·δ_jd)(a_i·a_j + 1) (the 1 is the bias);
/// - Conv: the per-sample weight gradients G_ic = δ_ic · patches_iᵀ are stacked as the rows of G and
///   K += G Gᵀ by SYRK, in tiles of output channels sized to the memory budget (tiling the columns of G
///   costs no recomputation); the bias adds B Bᵀ with B_ic = Σ_pixels δ_ic.
/// The traced kernel is the same computation with the C rows of a sample concatenated.
public enum EmpiricalNTK {
    /// Settings of a kernel computation.
    public struct Options: Sendable, Equatable {
        public var kind: KernelKind
        /// An upper bound on the engine's working memory (cotangents, gradient tiles, kernel buffers).
        public var memoryBudgetBytes: Int
        /// Width of a conv layer's gradient tile, in output channels (nil: as wide as the budget allows).
        public var channelTile: Int?

        public init(kind: KernelKind = .full, memoryBudgetBytes: Int = 4 << 30, channelTile: Int? = nil) {
            self.kind = kind
            self.memoryBudgetBytes = memoryBudgetBytes
            self.channelTile = channelTile
        }
    }

    /// The kernel of `model` on `inputs` ([N, …]).
    public static func compute(_ model: Sequential, inputs: Tensor, options: Options = Options()) throws -> KernelMatrix {
        let n = inputs.shape.first ?? 0
        guard n > 0 else { throw NTKError.emptyBatch }
        let layers = try structuredLayers(model)

        // Forward pass keeping every trainable layer's input and output. Parameters are plain values, so
        // reverse passes compute no weight gradients; the graph starts at the first layer's output (a
        // leaf), so no pass differentiates down to the input either.
        var x = inputs.detached
        var records: [(layer: ParametricLayer, input: Tensor, output: Tensor)] = []
        for (name, module) in model.layers {
            var y = module(x)
            if !y.requiresGradient { y = y.requiringGradient() }
            if let p = layers[name] { records.append((p, x.detached, y)) }
            x = y
        }
        let logits = x
        precondition(logits.rank == 2, "the model must output [N, classes], got \(logits.shape)")
        let classes = logits.shape[1]
        let rows = options.kind == .full ? n * classes : n

        // Per layer, store the output cotangents, or (early conv layers, where it is smaller) build the
        // per-sample gradient rows during the reverse passes.
        let useRows = records.map { r -> Bool in
            guard case .conv(let conv) = r.layer else { return false }
            let b = ConvGradientRows.bytes(conv, input: r.input, output: r.output, classes: classes)
            return b.rows < b.cotangents
        }
        // Memory check before any large allocation.
        let storedBytes = zip(records, useRows).reduce(0) { total, pair in
            guard pair.1, case .conv(let conv) = pair.0.layer else { return total + pair.0.output.count * classes * 4 }
            return total + ConvGradientRows.bytes(conv, input: pair.0.input, output: pair.0.output, classes: classes).rows
        }
        let kernelBytes = rows * rows * 4 * 2
        let minimumTile = zip(records, useRows).compactMap { r, early -> Int? in
            guard !early, case .conv(let c) = r.layer else { return nil }
            return n * classes * c.weight.value.shape[1...].reduce(1, *) * 4
        }.max() ?? 0
        let needed = storedBytes + kernelBytes + minimumTile
        if needed > options.memoryBudgetBytes {
            throw NTKError.exceedsMemoryBudget(neededBytes: needed, budgetBytes: options.memoryBudgetBytes,
                                               detail: "cotangents and gradient rows \(storedBytes / 1_000_000) MB, kernel \(kernelBytes / 1_000_000) MB, one-channel gradient tile \(minimumTile / 1_000_000) MB")
        }
        let tileBudget = options.memoryBudgetBytes - storedBytes - kernelBytes

        // C reverse passes; cotangents stored sample-major then class: [i][c][output element].
        var cotangents = zip(records, useRows).map { r, early in
            early ? nil : CotangentStore(perSample: r.output.count / n, samples: n, classes: classes)
        }
        var gradientRows: [ConvGradientRows?] = zip(records, useRows).map { r, early in
            guard early, case .conv(let conv) = r.layer else { return nil }
            return ConvGradientRows(conv, input: r.input, classes: classes)
        }
        let outputs = records.map(\.output)
        for c in 0..<classes {
            var seed = [Float](repeating: 0, count: n * classes)
            for i in 0..<n { seed[i * classes + c] = 1 }
            let grads = gradients(of: logits, wrt: outputs, seed: Tensor(shape: [n, classes], scalars: seed))
            for (l, g) in grads.enumerated() {
                cotangents[l]?.store(g, class: c)
                gradientRows[l]?.add(g, class: c)
            }
        }

        // Contributions accumulate in one Float buffer (upper triangle); each is itself a Float SYRK.
        let kernel = FloatBuffer.allocateZeroed(rows * rows)
        let scratch = FloatBuffer.allocate(rows * rows)
        defer { FloatBuffer.deallocate(kernel); FloatBuffer.deallocate(scratch) }
        for (l, r) in records.enumerated() {
            if let early = gradientRows[l] {
                early.addContribution(kind: options.kind, into: kernel)
                gradientRows[l] = nil
                continue
            }
            switch r.layer {
            case .dense(let d):
                addDense(d, input: r.input, cotangents: cotangents[l]!, kind: options.kind, scratch: scratch, into: kernel)
            case .conv(let conv):
                addConv(conv, input: r.input, cotangents: cotangents[l]!, kind: options.kind, tileBudget: tileBudget,
                        channelTile: options.channelTile, into: kernel)
            }
            cotangents[l]!.release()
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

    /// The same kernel from the explicit Jacobian (one reverse pass per logit and sample, J Jᵀ in
    /// Double). Works for any `Module`; slow and memory-hungry — the reference the engine is tested against.
    public static func bruteForce(_ model: Module, inputs: Tensor, kind: KernelKind = .full) -> KernelMatrix {
        let n = inputs.shape[0]
        let logits = model(inputs)
        let classes = logits.shape[1]
        var jacobian: [[Float]] = []
        for i in 0..<n {
            for c in 0..<classes {
                var seed = [Float](repeating: 0, count: n * classes)
                seed[i * classes + c] = 1
                let seedTensor = Tensor(shape: [n, classes], scalars: seed)
                let params = model.trainableParameters
                let leaves = params.map { $0.parameter.value.requiringGradient() }
                for (p, leaf) in zip(params, leaves) { p.parameter.value = leaf }
                let out = model(inputs)
                let g = gradients(of: out, wrt: leaves, seed: seedTensor)
                for p in params { p.parameter.value = p.parameter.value.detached }
                jacobian.append(g.flatMap(\.scalars))
            }
        }
        let rows = kind == .full ? n * classes : n
        var values = [Float](repeating: 0, count: rows * rows)
        for a in 0..<rows {
            for b in 0..<rows {
                var s = 0.0
                if kind == .full {
                    for (x, y) in zip(jacobian[a], jacobian[b]) { s += Double(x) * Double(y) }
                } else {
                    for c in 0..<classes {
                        for (x, y) in zip(jacobian[a * classes + c], jacobian[b * classes + c]) { s += Double(x) * Double(y) }
                    }
                }
                values[a * rows + b] = Float(s)
            }
        }
        return kind == .full ? KernelMatrix(full: values, samples: n, classes: classes) : KernelMatrix(traced: values, samples: n)
    }

    /// The layers with trainable parameters, by name; throws for modules the engine does not know.
    static func structuredLayers(_ model: Sequential) throws -> [String: ParametricLayer] {
        var result: [String: ParametricLayer] = [:]
        for (name, module) in model.layers {
            switch module {
            case let d as Dense:
                if d.weight.trainable { result[name] = .dense(d) }
            case let c as Conv2D:
                if c.weight.trainable { result[name] = .conv(c) }
            case is ReLU, is AvgPool2D, is MaxPool2D, is Flatten, is Scale:
                break
            default:
                if !module.trainableParameters.isEmpty { throw NTKError.unsupportedLayer("'\(name)' (\(type(of: module)))") }
            }
        }
        return result
    }
}

/// A layer whose parameters enter the kernel.
enum ParametricLayer {
    case dense(Dense)
    case conv(Conv2D)
}
