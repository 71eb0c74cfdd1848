/// A symmetric `n × n` kernel (Gram) matrix stored densely, row-major, in Float.
///
/// Two layouts appear in the paper (see PAPER.md, Notation):
/// - the **full** kernel, `n = N·C`: entry `((i, c), (j, d)) = Θ(x_i, x_j)[c, d]` over N samples and C
///   logits. Here rows are **sample-major**: row `i·C + c`. (The paper's metrics are invariant to the
///   ordering of the NC rows, so sample-major versus class-major does not change any metric.)
/// - the **traced** kernel, `n = N`: entry `(i, j) = Σ_c Θ(x_i, x_j)[c, c]`.
///
/// ``sampleCount`` and ``classCount`` describe which of the two a matrix is (both `nil` when unknown);
/// they are descriptors only and play no part in the metrics.
///
/// Reductions (norms, traces, inner products) accumulate in Double: a 3000 × 3000 kernel has nine
/// million terms, far past what Float accumulation keeps accurate.
public struct KernelMatrix: Sendable, Equatable {
    /// The side length: `N·C` for a full kernel, `N` for a traced one.
    public let n: Int
    /// The `n × n` entries, row-major.
    public var values: [Float]
    /// The number of samples N, when known.
    public var sampleCount: Int?
    /// The number of classes (logits) C per sample for a full kernel; `nil` for traced or unknown.
    public var classCount: Int?

    /// Wraps `values` (`n × n`, row-major). When both descriptors are given, `n` must equal
    /// `sampleCount · classCount`; for a traced kernel pass only `sampleCount` (equal to `n`).
    public init(n: Int, values: [Float], sampleCount: Int? = nil, classCount: Int? = nil) {
        precondition(n >= 0 && values.count == n * n,
                     "KernelMatrix: expected \(n)×\(n) = \(n * n) values, got \(values.count)")
        if let samples = sampleCount {
            precondition(samples * (classCount ?? 1) == n,
                         "KernelMatrix: sampleCount \(samples) × classCount \(classCount ?? 1) ≠ n = \(n)")
        }
        self.n = n
        self.values = values
        self.sampleCount = sampleCount
        self.classCount = classCount
    }

    /// A full NC × NC kernel with sample-major rows (row `i·C + c`).
    public init(full values: [Float], samples: Int, classes: Int) {
        self.init(n: samples * classes, values: values, sampleCount: samples, classCount: classes)
    }

    /// A traced N × N kernel.
    public init(traced values: [Float], samples: Int) {
        self.init(n: samples, values: values, sampleCount: samples, classCount: nil)
    }

    /// Entry `(i, j)`.
    public subscript(i: Int, j: Int) -> Float {
        get { values[i * n + j] }
        set { values[i * n + j] = newValue }
    }

    /// Entry `Θ(x_i, x_j)[c, d]` of a full kernel (sample-major rows).
    public subscript(sample i: Int, class c: Int, sample j: Int, class d: Int) -> Float {
        guard let classes = classCount else {
            preconditionFailure("KernelMatrix: per-class access needs a full kernel with classCount set")
        }
        return values[(i * classes + c) * n + j * classes + d]
    }

    /// Whether this is a full kernel (C > 1 classes per sample recorded).
    public var isFull: Bool { classCount != nil }

    /// `Σ_ij K_ij²`, accumulated in Double.
    public var squaredFrobeniusNorm: Double {
        KernelMetrics.dot(values, values)
    }

    /// The Frobenius norm `‖K‖ = sqrt(Σ_ij K_ij²)`, accumulated in Double (the paper's kernel magnitude).
    public var frobeniusNorm: Double { squaredFrobeniusNorm.squareRoot() }

    /// `Σ_i K_ii`, accumulated in Double (equal to the sum of the eigenvalues).
    public var trace: Double {
        var sum = 0.0
        values.withUnsafeBufferPointer { v in
            for i in 0..<n { sum += Double(v[i * n + i]) }
        }
        return sum
    }

    /// The largest `|K_ij − K_ji|`, relative to the largest `|K_ij|` (0 for an exactly symmetric matrix).
    public var relativeAsymmetry: Double {
        var worst: Float = 0, largest: Float = 0
        values.withUnsafeBufferPointer { v in
            for i in 0..<n {
                for j in 0..<n {
                    worst = max(worst, abs(v[i * n + j] - v[j * n + i]))
                    largest = max(largest, abs(v[i * n + j]))
                }
            }
        }
        return largest == 0 ? 0 : Double(worst / largest)
    }
}
