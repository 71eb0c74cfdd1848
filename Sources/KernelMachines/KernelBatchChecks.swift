import Autodiff

extension KernelInputs {
    /// Checks that `x` is a batch `[N, …]` with at least one value per sample and only finite values,
    /// without converting it; `argument` names it in errors.
    static func checkBatch(_ x: Tensor, _ argument: String) throws {
        let expected = "[N, features…] with at least one feature"
        guard x.rank >= 2, x.shape.dropFirst().reduce(1, *) > 0 else {
            throw KernelMachineError.inputLayout(argument: argument, shape: x.shape, expected: expected)
        }
        let per = x.shape.dropFirst().reduce(1, *)
        try x.withUnsafePointer { p in
            for k in 0..<x.count where !p[k].isFinite {
                throw KernelMachineError.nonFiniteInput(argument: argument, sample: k / per, index: k % per, value: p[k])
            }
        }
    }

    /// Checks `x1` and `x2` as ``checkBatch(_:_:)`` and that their per-sample shapes agree.
    static func checkPair(_ x1: Tensor, _ x2: Tensor) throws {
        try checkBatch(x1, "X₁")
        try checkBatch(x2, "X₂")
        guard x1.shape.dropFirst().elementsEqual(x2.shape.dropFirst()) else {
            throw KernelMachineError.incompatibleShapes(first: x1.shape, second: x2.shape)
        }
    }

    /// Checks that `x` is a batch with the per-sample shape of `training` (a predictor's training inputs)
    /// and finite values.
    static func checkCompatible(_ x: Tensor, with training: Tensor) throws {
        guard x.rank >= 1, x.shape.dropFirst().elementsEqual(training.shape.dropFirst()) else {
            throw KernelMachineError.incompatibleShapes(first: x.shape, second: training.shape)
        }
        try checkBatch(x, "x")
    }

    /// The samples `rows` (in that order) of a batch `[N, …]`, as a new batch.
    static func gather(_ x: Tensor, rows: [Int]) -> Tensor {
        let per = x.shape.dropFirst().reduce(1, *)
        var shape = x.shape
        shape[0] = rows.count
        var values = [Float](repeating: 0, count: rows.count * per)
        x.withUnsafePointer { p in
            for (r, i) in rows.enumerated() {
                for j in 0..<per { values[r * per + j] = p[i * per + j] }
            }
        }
        return Tensor(shape: shape, scalars: values)
    }
}
