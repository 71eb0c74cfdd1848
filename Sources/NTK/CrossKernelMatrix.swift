/// A cross kernel Θ(X₁, X₂) between two batches, stored densely, row-major, in Float: rows for the
/// samples of X₁, columns for those of X₂.
///
/// Full: `N₁C × N₂C`, entry `((i, c), (j, d)) = Θ(x_i, x'_j)[c, d]` with sample-major rows and columns
/// (row `i·C + c`), the same ordering as ``KernelMatrix``. Traced: `N₁ × N₂`, entry `Σ_c Θ(x_i, x'_j)[c, c]`.
public struct CrossKernelMatrix: Sendable, Equatable {
    /// Number of rows: `N₁·C` (full) or `N₁` (traced).
    public let rows: Int
    /// Number of columns: `N₂·C` (full) or `N₂` (traced).
    public let columns: Int
    /// The `rows × columns` entries, row-major.
    public var values: [Float]
    /// N₁, the samples of the first batch.
    public let rowSamples: Int
    /// N₂, the samples of the second batch.
    public let columnSamples: Int
    /// C for a full kernel; nil for a traced one.
    public let classCount: Int?

    /// Wraps `values` for N₁ and N₂ samples, with `classes` logits per sample for a full kernel
    /// (nil: traced).
    public init(values: [Float], rowSamples: Int, columnSamples: Int, classes: Int?) {
        let per = classes ?? 1
        precondition(values.count == rowSamples * per * columnSamples * per,
                     "CrossKernelMatrix: \(values.count) values for \(rowSamples)×\(columnSamples) samples")
        rows = rowSamples * per
        columns = columnSamples * per
        self.values = values
        self.rowSamples = rowSamples
        self.columnSamples = columnSamples
        classCount = classes
    }

    /// Entry `(i, j)`.
    public subscript(i: Int, j: Int) -> Float { values[i * columns + j] }

    /// The Frobenius norm `sqrt(Σ_ij K_ij²)`, accumulated in Double.
    public var frobeniusNorm: Double { KernelMetrics.dot(values, values).squareRoot() }

    /// Entry `Θ(x_i, x'_j)[c, d]` of a full kernel.
    public subscript(sample i: Int, class c: Int, sample j: Int, class d: Int) -> Float {
        guard let classes = classCount else {
            preconditionFailure("CrossKernelMatrix: per-class access needs a full kernel")
        }
        return values[(i * classes + c) * columns + j * classes + d]
    }
}
