import Autodiff

/// Checks and conversions of kernel arguments, shared by every kernel.
enum KernelInputs {
    /// A validated batch in Float64: `count` samples of `features` values each, row-major.
    struct Rows {
        /// The tensor's shape, `[count, …]`.
        let shape: [Int]
        let count: Int
        let features: Int
        let values: [Double]
    }

    /// The samples of `x` (a batch `[N, …]` of rank at least `minimumRank`) as Float64 rows, after
    /// checking that every value is finite.
    static func rows(_ x: Tensor, _ argument: String, minimumRank: Int = 2, expected: String = "[N, features…] with at least one feature") throws -> Rows {
        guard x.rank >= minimumRank else {
            throw KernelMachineError.inputLayout(argument: argument, shape: x.shape, expected: expected)
        }
        let count = x.shape[0]
        let features = x.shape.dropFirst().reduce(1, *)
        guard features > 0 else {
            throw KernelMachineError.inputLayout(argument: argument, shape: x.shape, expected: expected)
        }
        let values = try x.withUnsafePointer { p -> [Double] in
            var out = [Double](repeating: 0, count: count * features)
            for k in 0..<(count * features) {
                let v = p[k]
                guard v.isFinite else {
                    throw KernelMachineError.nonFiniteInput(argument: argument, sample: k / features,
                                                            index: k % features, value: v)
                }
                out[k] = Double(v)
            }
            return out
        }
        return Rows(shape: x.shape, count: count, features: features, values: values)
    }

    /// Both arguments of a kernel as Float64 rows, with equal per-sample shapes.
    static func pair(_ x1: Tensor, _ x2: Tensor, minimumRank: Int = 2,
                     expected: String = "[N, features…] with at least one feature") throws -> (Rows, Rows) {
        let a = try rows(x1, "X₁", minimumRank: minimumRank, expected: expected)
        let b = try rows(x2, "X₂", minimumRank: minimumRank, expected: expected)
        guard a.shape.dropFirst().elementsEqual(b.shape.dropFirst()) else {
            throw KernelMachineError.incompatibleShapes(first: a.shape, second: b.shape)
        }
        return (a, b)
    }

    /// Checks that `matrix` is `rows × columns` with finite entries; `argument` names it in errors.
    static func checkMatrix(_ matrix: Float64Matrix, _ argument: String, rows: Int, columns: Int) throws {
        guard matrix.rows == rows, matrix.columns == columns else {
            throw KernelMachineError.matrixShape(argument: argument, expected: [rows, columns],
                                                 got: [matrix.rows, matrix.columns])
        }
        if let k = matrix.values.firstIndex(where: { !$0.isFinite }) {
            throw KernelMachineError.nonFiniteMatrix(argument: argument, row: k / max(columns, 1),
                                                     column: k % max(columns, 1), value: matrix.values[k])
        }
    }

    /// Samples `range` of a batch `[N, …]` as a new tensor.
    static func samples(_ x: Tensor, _ range: Range<Int>) throws -> Tensor {
        guard x.rank >= 1, range.lowerBound >= 0, range.upperBound <= x.shape[0] else {
            throw KernelMachineError.inputLayout(argument: "x", shape: x.shape, expected: "a batch [N, …] with samples \(range)")
        }
        let per = x.shape.dropFirst().reduce(1, *)
        var shape = x.shape
        shape[0] = range.count
        return x.withUnsafePointer { p in
            Tensor(shape: shape, scalars: Array(UnsafeBufferPointer(start: p + range.lowerBound * per, count: range.count * per)))
        }
    }

    /// A Float64 gradient as a Float tensor of `shape`.
    static func tensor(_ values: [Double], shape: [Int]) -> Tensor {
        Tensor(shape: shape, scalars: values.map { Float($0) })
    }
}
