import Autodiff
import NN

extension EmpiricalNTK {
    /// The same kernel from the explicit Jacobian (one reverse pass per logit and sample, J Jᵀ in
    /// Double). Works for any `Module`; slow and memory-hungry — the reference the engine is tested against.
    public static func bruteForce(_ model: Module, inputs: Tensor, kind: KernelKind = .full) throws -> KernelMatrix {
        let n = inputs.shape.first ?? 0
        guard n > 0 else { throw NTKError.emptyBatch }
        let params = model.trainableParameters
        let live = params.map { $0.parameter.value }
        defer { for (p, value) in zip(params, live) { p.parameter.value = value } }
        let leaves = live.map { $0.detached.requiringGradient() }
        for (p, leaf) in zip(params, leaves) { p.parameter.value = leaf }
        let logits = try model(inputs.detached)
        guard logits.rank == 2, logits.shape[0] == n else { throw NTKError.outputShape(logits.shape, samples: n) }
        let classes = logits.shape[1]
        var jacobian: [[Float]] = []
        for i in 0..<n {
            for c in 0..<classes {
                var seed = [Float](repeating: 0, count: n * classes)
                seed[i * classes + c] = 1
                let g = try gradients(of: logits, wrt: leaves, seed: Tensor(shape: [n, classes], scalars: seed),
                                      allowUnconnected: true)
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
}
