import Foundation

/// The ReLU step of the infinite-width recursions: for jointly Gaussian pre-activations (u, v) with
/// variances q₁, q₂ and covariance c, the arc-cosine kernels of order 1 and 0,
///
///     J₁ = E[relu(u) relu(v)] = (s + (π − θ) c) / (2π),   J₀ = E[relu′(u) relu′(v)] = (π − θ) / (2π),
///
/// with s = √(q₁q₂ − c²) and θ = atan2(s, c), and their partial derivatives in c and q₁ (the first
/// argument's variance): ∂J₁/∂c = J₀, ∂J₁/∂q₁ = s / (4π q₁), ∂J₀/∂c = 1 / (2π s),
/// ∂J₀/∂q₁ = −c / (4π q₁ s).
///
/// Two degenerate cases, where the kernels are not differentiable: a zero variance (an input whose
/// pre-activation is identically 0, e.g. a zero input without bias) gives J₁ = J₀ = 0, as a finite
/// network with relu′(0) = 0 does, and zero partials; parallel inputs (s ≈ 0, the kernel has a cone
/// there) keep J₁ and J₀ but take the singular partials of θ as 0 — a valid subgradient.
struct ReLUArcCosine {
    /// E[relu(u) relu(v)].
    var j1: Double
    /// E[relu′(u) relu′(v)].
    var j0: Double
    /// ∂J₁/∂q₁ (∂J₁/∂c is J₀).
    var j1DQ: Double
    /// ∂J₀/∂c.
    var j0DC: Double
    /// ∂J₀/∂q₁.
    var j0DQ: Double

    /// Below this value of s / √(q₁q₂) (the sine of the angle between the inputs) the angle is not
    /// resolved in Float64 (q₁q₂ − c² cancels) and the inputs count as parallel.
    static let parallelSine = 1e-7

    /// The kernels alone.
    @inline(__always)
    static func values(c: Double, q1: Double, q2: Double) -> (j1: Double, j0: Double) {
        let qq = q1 * q2
        guard qq > 0 else { return (0, 0) }
        let s = max(qq - c * c, 0).squareRoot()
        let theta = atan2(s, c)
        return ((s + (Double.pi - theta) * c) / (2 * Double.pi), (Double.pi - theta) / (2 * Double.pi))
    }

    /// The kernels and their partials.
    @inline(__always)
    init(c: Double, q1: Double, q2: Double) {
        let qq = q1 * q2
        guard qq > 0 else {
            self.init(j1: 0, j0: 0, j1DQ: 0, j0DC: 0, j0DQ: 0)
            return
        }
        let s = max(qq - c * c, 0).squareRoot()
        let theta = atan2(s, c)
        let twoPi = 2 * Double.pi
        let resolved = s > Self.parallelSine * qq.squareRoot()
        self.init(j1: (s + (Double.pi - theta) * c) / twoPi,
                  j0: (Double.pi - theta) / twoPi,
                  j1DQ: s / (2 * twoPi * q1),
                  j0DC: resolved ? 1 / (twoPi * s) : 0,
                  j0DQ: resolved ? -c / (2 * twoPi * q1 * s) : 0)
    }

    /// Memberwise.
    @inline(__always)
    init(j1: Double, j0: Double, j1DQ: Double, j0DC: Double, j0DQ: Double) {
        self.j1 = j1
        self.j0 = j0
        self.j1DQ = j1DQ
        self.j0DC = j0DC
        self.j0DQ = j0DQ
    }
}
