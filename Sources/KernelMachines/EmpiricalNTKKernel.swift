import Autodiff
import Foundation
import NN
import NTK

/// The empirical NTK of any network at fixed parameters (an initialisation, a checkpoint's), as a
/// scalar ``KernelFunction``.
///
/// **Which kernel.** For a network f: x ↦ R^C with trainable parameters θ (weights and biases; frozen
/// parameters are not part of it), this is the class mean of the per-output NTK,
///
///     Θ(x, x′) = (1/C) Σ_c ∇_θ f_c(x) · ∇_θ f_c(x′),
///
/// neural-tangents' `trace_axes=(-1,)` kernel divided by C. It is the one scalar kernel the paper's
/// predictor f(x) = Θ(x, X) Θ(X, X)⁻¹ Y uses with one-hot (C outputs) or ±1 (one output) targets,
/// and as the width grows it tends to the analytic kernel Θ (whose C-output form is Θ ⊗ I_C). It is
/// not the NC × NC kernel that drives a finite network's own dynamics.
///
/// **How.** ``matrix(_:_:)`` runs the structured NTK engine (`EmpiricalNTK.cross`, traced) and
/// divides by C. Products never form Θ(x, X): with u_{k,c} = Σ_j W_jk ∇_θ f_c(x_j) — one forward
/// pass over X (in batches) and k·C reverse passes with the column W_·k as the cotangent of output c —
///
///     (Θ(x, X) W)_ik = (1/C) Σ_c ∇_θ f_c(x_i) · u_{k,c},
///
/// one forward-mode pass (JVP) at x per (k, c) with the tangent u_{k,c} on the parameters, reading
/// output c. Its input gradient is reverse mode through those JVPs (reverse-over-forward). The
/// vectors u are computed once per predictor (see ``KernelRegression``) and cost k·C times the
/// parameter count in Float. The general ``inputGradient(_:_:cotangent:)`` is the product gradient
/// with W = Gᵀ and the identity cotangent, so it costs N₁·C reverse passes over X₂ and N₁·C one-sample
/// JVPs: meant for small batches and checks.
///
/// The kernel holds a snapshot of the parameter values taken when it is made; each call puts them in
/// the network, computes, and puts the live values back, so training the network afterwards does not
/// change the kernel. Calls are serialised by a lock; do not run the network elsewhere (train it,
/// evaluate it) while a call is in progress. A `LinearizedModel` gives the kernel of its network at
/// its anchor θ₀ (the linearized model's NTK).
public final class EmpiricalNTKKernel: KernelFunction, PreparedProductKernel, @unchecked Sendable {
    /// The network whose NTK this is (a `LinearizedModel`'s own network).
    public let model: Module
    /// The parameter values the kernel is taken at, by dotted name.
    public let parameters: [String: Tensor]
    /// Samples per forward pass when folding X into parameter-space vectors and when running JVPs.
    public let batchSize: Int
    /// The working-memory budget of the NTK engine and of the parameter-space vectors, in bytes.
    public let memoryBudgetBytes: Int
    private let lock = NSLock()

    /// The NTK of `model` at `parameters` (nil: its current parameters; for a `LinearizedModel`, its
    /// anchor θ₀).
    /// - Throws: `ModuleError.parametersDoNotMatch` when `parameters` do not match the network, and
    ///   ``KernelPredictorError/invalidSetting(name:value:requirement:)`` for a batch size or budget
    ///   below 1.
    public init(model: Module, parameters: [String: Tensor]? = nil, batchSize: Int = 256,
                memoryBudgetBytes: Int = 4 << 30) throws {
        guard batchSize >= 1 else {
            throw KernelPredictorError.invalidSetting(name: "batch size", value: Double(batchSize), requirement: "at least 1")
        }
        guard memoryBudgetBytes >= 1 else {
            throw KernelPredictorError.invalidSetting(name: "memory budget", value: Double(memoryBudgetBytes),
                                                      requirement: "at least 1 byte")
        }
        let network = (model as? LinearizedModel)?.network ?? model
        let snapshot = parameters ?? (model as? LinearizedModel)?.anchor ?? model.parameterValues()
        // Validate by loading (which changes nothing when it fails), then put the live values back.
        let live = network.parameterValues()
        try network.loadParameterValues(snapshot)
        try network.loadParameterValues(live)
        self.model = network
        self.parameters = snapshot.mapValues(\.detached)
        self.batchSize = batchSize
        self.memoryBudgetBytes = memoryBudgetBytes
    }

    /// For example "empirical NTK (class mean over outputs) of a network with 1234 trainable parameters".
    public var description: String {
        let count = model.trainableParameters.reduce(0) { $0 + $1.parameter.value.count }
        return "empirical NTK (class mean over outputs) of a network with \(count) trainable parameters"
    }

    /// Θ(X₁, X₂) from the structured NTK engine (traced, divided by C), in its Float accumulation, in
    /// blocks of samples that let the engine keep to the memory budget (`EmpiricalNTK.largestBlock`).
    public func matrix(_ x1: Tensor, _ x2: Tensor) throws -> Float64Matrix {
        try KernelInputs.checkPair(x1, x2)
        let n1 = x1.shape[0], n2 = x2.shape[0]
        guard n1 > 0, n2 > 0 else { return Float64Matrix(rows: n1, columns: n2) }
        let options = EmpiricalNTK.Options(kind: .traced, memoryBudgetBytes: memoryBudgetBytes)
        return try withParameters {
            let scale = 1 / Double(try outputCount(x2))
            // Blocks of samples small enough for the engine to keep to the budget (the result aside),
            // as even as they can be.
            let largest = try EmpiricalNTK.largestBlock(model, inputs: x2, options: options)
            let pieces = (n2 + largest - 1) / largest, size = (n2 + pieces - 1) / pieces
            let blocks = stride(from: 0, to: n2, by: size).map { $0..<min($0 + size, n2) }
            var result = Float64Matrix(rows: n1, columns: n2)
            func place(_ values: [Float], rows: Range<Int>, columns: Range<Int>, mirrored: Bool) {
                for (r, i) in rows.enumerated() {
                    for (c, j) in columns.enumerated() {
                        let v = Double(values[r * columns.count + c]) * scale
                        result[i, j] = v
                        if mirrored { result[j, i] = v }
                    }
                }
            }
            // Θ(X, X) of one batch (a Gram matrix) is symmetric: the engine's SYRK path does half the
            // work on diagonal blocks, and the blocks above them are computed once and mirrored. Each
            // block of X₂ is recorded once; the engine runs the rows through in row blocks of its own.
            let symmetric = x1.storage === x2.storage && x1.shape == x2.shape
            for columns in blocks {
                let xb = try KernelInputs.samples(x2, columns)
                if symmetric {
                    place(try EmpiricalNTK.compute(model, inputs: xb, options: options).values, rows: columns, columns: columns, mirrored: false)
                }
                let rows = symmetric ? 0..<columns.lowerBound : 0..<n1
                guard !rows.isEmpty else { continue }
                let cross = try EmpiricalNTK.cross(model, try KernelInputs.samples(x1, rows), xb, options: options)
                place(cross.values, rows: rows, columns: columns, mirrored: symmetric)
            }
            return result
        }
    }

    /// The gradient of Σ_ij G_ij Θ(X₁, X₂)_ij with respect to `x1`, as the product gradient with W = Gᵀ and
    /// the identity cotangent (each sample of X₁ then needs its own one-sample JVPs).
    public func inputGradient(_ x1: Tensor, _ x2: Tensor, cotangent: Float64Matrix) throws -> Tensor {
        try KernelInputs.checkPair(x1, x2)
        let n1 = x1.shape[0]
        try KernelInputs.checkMatrix(cotangent, "cotangent", rows: n1, columns: x2.shape[0])
        var identity = Float64Matrix(rows: n1, columns: n1)
        for i in 0..<n1 { identity[i, i] = 1 }
        return try productOperator(x2, weights: cotangent.transposed, memoryBudgetBytes: memoryBudgetBytes)
            .inputGradient(x1, cotangent: identity)
    }

    /// Θ(X₁, X₂)·W as J(X₁)(J(X₂)ᵀW), without forming Θ.
    public func product(_ x1: Tensor, _ x2: Tensor, weights: Float64Matrix) throws -> Float64Matrix {
        try KernelInputs.checkPair(x1, x2)
        return try productOperator(x2, weights: weights, memoryBudgetBytes: memoryBudgetBytes).apply(x1)
    }

    /// The input gradient of Σ_ik G_ik (Θ(X₁, X₂)·W)_ik, reverse mode through the JVPs at X₁.
    public func productInputGradient(_ x1: Tensor, _ x2: Tensor, weights: Float64Matrix,
                                     cotangent: Float64Matrix) throws -> Tensor {
        try KernelInputs.checkPair(x1, x2)
        return try productOperator(x2, weights: weights, memoryBudgetBytes: memoryBudgetBytes)
            .inputGradient(x1, cotangent: cotangent)
    }

    /// Folds X and W into the k·C parameter-space vectors u_{k,c} = Σ_j W_jk ∇_θ f_c(x_j).
    func productOperator(_ x2: Tensor, weights: Float64Matrix, memoryBudgetBytes budget: Int) throws -> KernelProductOperator {
        try KernelInputs.checkBatch(x2, "X₂")
        let n2 = x2.shape[0], columns = weights.columns
        try KernelInputs.checkMatrix(weights, "weights", rows: n2, columns: columns)
        return try withParameters {
            let params = model.trainableParameters
            let parameterCount = params.reduce(0) { $0 + $1.parameter.value.count }
            let classes = try (n2 > 0 ? outputCount(x2) : 1)
            let needed = 4 * parameterCount * columns * classes
            guard needed <= budget else {
                throw KernelPredictorError.exceedsMemoryBudget(
                    neededBytes: needed, budgetBytes: budget,
                    detail: "the \(columns)·\(classes) parameter-space vectors J(X)ᵀW of \(parameterCount) parameters")
            }
            var vectors: [[Tensor]] = Array(repeating: params.map { Tensor.zeros($0.parameter.value.shape) },
                                            count: columns * classes)
            for lo in stride(from: 0, to: n2, by: batchSize) {
                let hi = min(lo + batchSize, n2), b = hi - lo
                let leaves = params.map { $0.parameter.value.detached.requiringGradient() }
                for (p, leaf) in zip(params, leaves) { p.parameter.value = leaf }
                defer { for (p, leaf) in zip(params, leaves) { p.parameter.value = leaf.detached } }
                let y = try model(try KernelInputs.samples(x2, lo..<hi))
                guard y.rank == 2, y.shape[0] == b, y.shape[1] == classes else {
                    throw NTKError.outputShape(y.shape, samples: b)
                }
                for k in 0..<columns {
                    for c in 0..<classes {
                        var seed = [Float](repeating: 0, count: b * classes)
                        for i in 0..<b { seed[i * classes + c] = Float(weights[lo + i, k]) }
                        let g = try gradients(of: y, wrt: leaves, seed: Tensor(shape: [b, classes], scalars: seed),
                                              allowUnconnected: true)
                        vectors[k * classes + c] = try zip(vectors[k * classes + c], g).map { try $0 + $1 }
                    }
                }
            }
            return EmpiricalProductOperator(kernel: self, inputShape: x2.shape, classes: classes, columns: columns,
                                            vectors: vectors)
        }
    }

    /// Runs `body` with the snapshot's values in the network, restoring the live values afterwards.
    func withParameters<R>(_ body: () throws -> R) throws -> R {
        lock.lock()
        defer { lock.unlock() }
        let params = model.namedParameters
        let live = params.map { $0.parameter.value }
        defer { for (p, value) in zip(params, live) { p.parameter.value = value } }
        for p in params {
            guard let value = parameters[p.name], value.shape == p.parameter.value.shape else {
                throw ModuleError.parametersDoNotMatch([.missing(name: p.name, shape: p.parameter.value.shape)])
            }
            p.parameter.value = value
        }
        return try body()
    }

    /// C, the number of outputs, from one sample of `x`.
    func outputCount(_ x: Tensor) throws -> Int {
        let y = try model(try KernelInputs.samples(x, 0..<1))
        guard y.rank == 2, y.shape[0] == 1, y.shape[1] > 0 else { throw NTKError.outputShape(y.shape, samples: 1) }
        return y.shape[1]
    }
}

/// Θ(·, X)·W of an ``EmpiricalNTKKernel`` through the parameter-space vectors u_{k,c}.
struct EmpiricalProductOperator: KernelProductOperator {
    let kernel: EmpiricalNTKKernel
    /// X's shape (its per-sample shape is what x must have).
    let inputShape: [Int]
    let classes: Int
    let columns: Int
    /// u_{k,c} at index k·C + c, one tensor per trainable parameter.
    let vectors: [[Tensor]]

    func apply(_ x: Tensor) throws -> Float64Matrix {
        try checkInput(x)
        let n1 = x.shape[0]
        var out = Float64Matrix(rows: n1, columns: columns)
        let scale = 1 / Double(classes)
        try kernel.withParameters {
            let params = kernel.model.trainableParameters
            let anchor = params.map { $0.parameter.value }
            for lo in stride(from: 0, to: n1, by: kernel.batchSize) {
                let hi = min(lo + kernel.batchSize, n1)
                let chunk = try KernelInputs.samples(x, lo..<hi)
                for k in 0..<columns {
                    for c in 0..<classes {
                        guard let t = try tangentOutputs(chunk, params: params, anchor: anchor, vector: k * classes + c) else { continue }
                        t.withUnsafePointer { p in
                            for i in 0..<(hi - lo) { out[lo + i, k] += Double(p[i * classes + c]) * scale }
                        }
                    }
                }
            }
        }
        return out
    }

    func inputGradient(_ x: Tensor, cotangent: Float64Matrix) throws -> Tensor {
        try checkInput(x)
        let n1 = x.shape[0], per = x.shape.dropFirst().reduce(1, *)
        try KernelInputs.checkMatrix(cotangent, "cotangent", rows: n1, columns: columns)
        var gradient = [Double](repeating: 0, count: n1 * per)
        let scale = 1 / Double(classes)
        try kernel.withParameters {
            let params = kernel.model.trainableParameters
            let anchor = params.map { $0.parameter.value }
            for k in 0..<columns {
                // Only the samples with a nonzero cotangent in this column contribute.
                let rows = (0..<n1).filter { cotangent[$0, k] != 0 }
                for lo in stride(from: 0, to: rows.count, by: kernel.batchSize) {
                    let chunkRows = Array(rows[lo..<min(lo + kernel.batchSize, rows.count)])
                    let b = chunkRows.count
                    let input = (chunkRows.count == n1 ? x.detached : KernelInputs.gather(x, rows: chunkRows)).requiringGradient()
                    for c in 0..<classes {
                        guard let t = try tangentOutputs(input, params: params, anchor: anchor, vector: k * classes + c) else { continue }
                        var seed = [Float](repeating: 0, count: b * classes)
                        for (r, i) in chunkRows.enumerated() { seed[r * classes + c] = Float(cotangent[i, k] * scale) }
                        let g = try gradients(of: t, wrt: [input], seed: Tensor(shape: [b, classes], scalars: seed),
                                              allowUnconnected: true)[0]
                        g.withUnsafePointer { p in
                            for (r, i) in chunkRows.enumerated() {
                                for j in 0..<per { gradient[i * per + j] += Double(p[r * per + j]) }
                            }
                        }
                    }
                }
            }
        }
        return KernelInputs.tensor(gradient, shape: x.shape)
    }

    /// J(x)·u for the parameter-space vector `vector` (the output tangent, `[b, C]`, carrying a graph
    /// to `x` when `x` requires gradients), or nil when the outputs do not depend on the parameters.
    private func tangentOutputs(_ x: Tensor, params: [(name: String, parameter: Parameter)], anchor: [Tensor],
                                vector: Int) throws -> Tensor? {
        for (p, (value, tangent)) in zip(params, zip(anchor, vectors[vector])) {
            p.parameter.value = try value.withTangent(tangent)
        }
        defer { for (p, value) in zip(params, anchor) { p.parameter.value = value } }
        let y = try kernel.model(x)
        let b = x.shape[0]
        guard y.rank == 2, y.shape[0] == b, y.shape[1] == classes else { throw NTKError.outputShape(y.shape, samples: b) }
        return try y.tangent
    }

    private func checkInput(_ x: Tensor) throws {
        try KernelInputs.checkBatch(x, "X₁")
        guard x.shape.dropFirst().elementsEqual(inputShape.dropFirst()) else {
            throw KernelMachineError.incompatibleShapes(first: x.shape, second: inputShape)
        }
    }
}
