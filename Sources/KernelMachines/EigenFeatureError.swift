/// Errors of eigen-features, their evaluation and eigenspace comparisons, each naming the offending
/// argument and value. Features are numbered from 1 (the largest eigenvalue), as in the paper.
public enum EigenFeatureError: Error, CustomStringConvertible, Equatable {
    /// Feature `feature` was requested of a kernel machine with `count` features (one per training input).
    case featureOutOfRange(feature: Int, count: Int)
    /// Feature `feature` has the eigenvalue `eigenvalue`, at most the rounding threshold `threshold`: its
    /// t → ∞ gain 1/λ is not defined.
    case nonPositiveEigenvalue(feature: Int, eigenvalue: Double, threshold: Double)
    /// No features were requested.
    case noFeatures
    /// A feature was requested twice (its contribution would be counted twice).
    case repeatedFeature(Int)
    /// Two kernel machines compared on different training inputs (`detail` says how they differ).
    case differentTrainingInputs(detail: String)
    /// The rows of a subspace basis are not orthonormal: max |B Bᵀ − I| is `deviation`.
    case basisNotOrthonormal(argument: String, deviation: Double)
    /// A subspace basis of `rows` vectors in dimension `columns` that cannot be compared (`expected` says why).
    case basisShape(argument: String, rows: Int, columns: Int, expected: String)
    /// A number of features (top-k, r most robust) outside `allowed`.
    case countOutOfRange(name: String, value: Int, allowed: ClosedRange<Int>)
    /// Feature `feature` exists (the machine has `count`) but only the top `computed` eigenpairs were computed.
    case featureNotComputed(feature: Int, computed: Int, count: Int)

    /// A sentence naming the problem.
    public var description: String {
        switch self {
        case .featureOutOfRange(let feature, let count):
            return "feature \(feature) does not exist: this kernel machine has features 1…\(count), one per training input"
        case .nonPositiveEigenvalue(let feature, let eigenvalue, let threshold):
            return "feature \(feature) has the eigenvalue \(eigenvalue), at most the rounding threshold \(threshold): "
                + "its t → ∞ prediction (1/λ) Θ(x, X) v (vᵀY) is not defined; leave it out, add a ridge or use a finite time"
        case .noFeatures:
            return "no eigen-features were requested"
        case .repeatedFeature(let j):
            return "feature \(j) is requested twice"
        case .differentTrainingInputs(let detail):
            return "the two kernel machines were not built on the same training inputs: \(detail)"
        case .basisNotOrthonormal(let argument, let deviation):
            return "the rows of basis \(argument) are not orthonormal (max |B Bᵀ − I| = \(deviation))"
        case .basisShape(let argument, let rows, let columns, let expected):
            return "basis \(argument) is \(rows)×\(columns); expected \(expected)"
        case .countOutOfRange(let name, let value, let allowed):
            return "the \(name) is \(value); it must be in \(allowed.lowerBound)…\(allowed.upperBound)"
        case .featureNotComputed(let feature, let computed, let count):
            return "feature \(feature) was not computed: only the top \(computed) of the \(count) eigenpairs of the Gram matrix were; "
                + "decompose more of them (or completely) to use it"
        }
    }
}
