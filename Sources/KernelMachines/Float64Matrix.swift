import Kernels

/// A dense row-major matrix of `Double`s: kernel values Θ(X₁, X₂) (rows for X₁, columns for X₂),
/// cotangents of a kernel, or regression weights.
public struct Float64Matrix: Sendable, Equatable {
    /// Number of rows.
    public let rows: Int
    /// Number of columns.
    public let columns: Int
    /// The `rows × columns` entries, row-major.
    public var values: [Double]

    /// Wraps `values` as a `rows × columns` matrix.
    /// - Throws: ``KernelMachineError/matrixSize(rows:columns:count:)`` when the count does not match.
    public init(rows: Int, columns: Int, values: [Double]) throws {
        guard rows >= 0, columns >= 0, values.count == rows * columns else {
            throw KernelMachineError.matrixSize(rows: rows, columns: columns, count: values.count)
        }
        self.rows = rows
        self.columns = columns
        self.values = values
    }

    /// A `rows × columns` matrix with every entry `value` (negative sizes count as 0).
    public init(rows: Int, columns: Int, repeating value: Double = 0) {
        self.rows = max(rows, 0)
        self.columns = max(columns, 0)
        values = [Double](repeating: value, count: self.rows * self.columns)
    }

    /// Entry `(i, j)`.
    public subscript(i: Int, j: Int) -> Double {
        get { values[i * columns + j] }
        set { values[i * columns + j] = newValue }
    }

    /// Row `i` as an array.
    public func row(_ i: Int) -> ArraySlice<Double> { values[(i * columns)..<((i + 1) * columns)] }

    /// The transpose, `columns × rows`.
    public var transposed: Float64Matrix {
        var out = Float64Matrix(rows: columns, columns: rows)
        for i in 0..<rows {
            for j in 0..<columns { out.values[j * rows + i] = values[i * columns + j] }
        }
        return out
    }

    /// The product `self · other` in Float64 (OpenBLAS `dgemm`).
    /// - Throws: ``KernelMachineError/productShape(left:right:)`` when the inner dimensions differ.
    public func multiplied(by other: Float64Matrix) throws -> Float64Matrix {
        guard columns == other.rows else {
            throw KernelMachineError.productShape(left: [rows, columns], right: [other.rows, other.columns])
        }
        var out = Float64Matrix(rows: rows, columns: other.columns)
        values.withUnsafeBufferPointer { a in
            other.values.withUnsafeBufferPointer { b in
                out.values.withUnsafeMutableBufferPointer { c in
                    Float64GEMM.multiply(m: rows, n: other.columns, k: columns,
                                         a: a.baseAddress, b: b.baseAddress, transposeB: false,
                                         c: c.baseAddress)
                }
            }
        }
        return out
    }
}
