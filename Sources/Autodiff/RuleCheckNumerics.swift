import Kernels

/// A central difference and the rounding noise it may carry.
struct Difference {
    /// (⟨u, g(x + h eⱼ)⟩ − ⟨u, g(x − h eⱼ)⟩) / 2h, in Double.
    let value: Double
    /// The allowance for Float32 rounding in g: `roundingUlps` · 2⁻²⁴ · Σᵢ|uᵢ gᵢ| (both points) / 2h.
    let noise: Double
}

// The numerics behind `checkRules`: random directions, sampled coordinates, central differences
// with Double accumulation, and tolerance-aware comparisons.
extension RuleCheckRun {
    /// A tensor of standard normal values.
    mutating func randomTensor(_ shape: [Int]) -> Tensor {
        Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in Float(rng.nextNormal()) })
    }

    /// `options.samples` distinct flat indices below `count` (all of them for small counts), sorted.
    mutating func sampleCoordinates(_ count: Int) -> [Int] {
        guard count > options.samples else { return Array(0..<count) }
        var chosen = Set<Int>()
        while chosen.count < max(options.samples, 0) { chosen.insert(Int(rng.next() % UInt64(count))) }
        return chosen.sorted()
    }

    /// The central difference of x ↦ ⟨u, g(x)⟩ along coordinate `j` of input `i`.
    func centralDifference(input i: Int, coordinate j: Int, u: Tensor, _ g: ([Tensor]) throws -> Tensor) throws -> Difference {
        var plus = inputs, minus = inputs
        let x = inputs[i].scalars[j]
        let high = x + options.epsilon, low = x - options.epsilon
        plus[i].withUnsafeMutablePointer { $0[j] = high }
        minus[i].withUnsafeMutablePointer { $0[j] = low }
        let gp = try g(plus), gm = try g(minus)
        let step = Double(high) - Double(low)
        let noise = options.roundingUlps * 0x1p-24 * (absoluteDot(u, gp) + absoluteDot(u, gm)) / step
        return Difference(value: (dot(u, gp) - dot(u, gm)) / step, noise: noise)
    }

    /// Appends one check per sampled coordinate: `measured[j]` against its central difference, with
    /// tolerance `options.tolerance` · max(|expected|, RMS of this input's expected values) + noise.
    mutating func compare(_ kind: RuleCheckKind, input i: Int, coordinates: [Int], measured: [Float], _ differences: [Difference]) {
        let rms = (differences.reduce(0.0) { $0 + $1.value * $1.value } / Double(max(differences.count, 1))).squareRoot()
        for (j, d) in zip(coordinates, differences) {
            let tolerance = options.tolerance * max(abs(d.value), rms) + d.noise
            checks.append(RuleCheck(kind, input: i, coordinate: j, measured: Double(measured[j]), expected: d.value, tolerance: tolerance))
        }
    }
}

/// ⟨a, b⟩ accumulated in Double (a zero tensor of the wrong shape counts as zero).
func dot(_ a: Tensor, _ b: Tensor) -> Double {
    guard a.count == b.count else { return .nan }
    return a.withUnsafePointer { pa in b.withUnsafePointer { pb in
        (0..<a.count).reduce(0.0) { $0 + Double(pa[$1]) * Double(pb[$1]) }
    } }
}

/// Σ|aᵢ bᵢ| in Double: the scale against which the rounding error of ⟨a, b⟩ is judged.
func absoluteDot(_ a: Tensor, _ b: Tensor) -> Double {
    guard a.count == b.count else { return .nan }
    return a.withUnsafePointer { pa in b.withUnsafePointer { pb in
        (0..<a.count).reduce(0.0) { $0 + abs(Double(pa[$1]) * Double(pb[$1])) }
    } }
}
