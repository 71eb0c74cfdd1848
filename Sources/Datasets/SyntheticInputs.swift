import Kernels

/// How the inputs of a synthetic task are drawn in dimension d. Both are scaled so that ‖x‖ ≈ 1:
/// Gaussian entries have variance 1/d, and sphere points lie on the unit sphere.
public enum SyntheticInputDistribution: String, Codable, Sendable, CaseIterable {
    /// x ~ N(0, I_d / d).
    case gaussian
    /// x uniform on the unit sphere of R^d (a normalised Gaussian vector).
    case sphere

    /// Writes one input into `x` (d values) from `rng`.
    func draw(into x: inout [Double], rng: inout Xoshiro256) {
        let d = x.count
        for i in 0..<d { x[i] = rng.nextNormal() }
        let scale: Double
        switch self {
        case .gaussian:
            scale = 1 / Double(d).squareRoot()
        case .sphere:
            let norm = x.reduce(0) { $0 + $1 * $1 }.squareRoot()
            scale = norm > 0 ? 1 / norm : 0
        }
        for i in 0..<d { x[i] *= scale }
    }
}
