import Kernels

/// The function that labels a synthetic task's inputs: linear, quadratic xᵀAx, or a two-layer network.
public struct SyntheticTeacher: Sendable, Equatable {
    /// What the teacher computes.
    public enum Kind: Sendable, Equatable {
        /// y = β·x, with β (d values).
        case linear(weights: [Double])
        /// y = xᵀAx, with A symmetric (d × d, row-major).
        case quadratic(matrix: [Double])
        /// y = (1/√m) Σ_r a_r σ(w_r·x), with w ([m × d], row-major) and a (m values).
        case network(hidden: [Double], output: [Double], activation: TwoLayerActivation)
    }

    /// The input dimension d the teacher reads.
    public let dimension: Int
    /// What it computes.
    public let kind: Kind

    /// A teacher of `kind` on inputs of `dimension`; the sizes of the weights are checked against it.
    public init(dimension: Int, kind: Kind) throws {
        guard dimension >= 1 else {
            throw SyntheticDataError.invalidSetting(name: "teacher dimension", value: "\(dimension)", requirement: "at least 1")
        }
        let values: [Double]
        switch kind {
        case .linear(let w):
            guard w.count == dimension else { throw SyntheticDataError.teacherDimension(teacher: w.count, inputs: dimension) }
            values = w
        case .quadratic(let a):
            guard a.count == dimension * dimension else {
                throw SyntheticDataError.invalidSetting(name: "quadratic teacher matrix size", value: "\(a.count)",
                                                        requirement: "d² = \(dimension * dimension)")
            }
            for i in 0..<dimension { for j in 0..<i where a[i * dimension + j] != a[j * dimension + i] {
                throw SyntheticDataError.invalidSetting(name: "quadratic teacher matrix entry (\(i), \(j))", value: "\(a[i * dimension + j])",
                                                        requirement: "equal to entry (\(j), \(i)) = \(a[j * dimension + i]) (A is symmetric)")
            } }
            values = a
        case .network(let hidden, let output, _):
            guard !output.isEmpty, hidden.count == output.count * dimension else {
                throw SyntheticDataError.invalidSetting(name: "teacher network sizes", value: "\(hidden.count) hidden weights, \(output.count) output weights",
                                                        requirement: "m ≥ 1 output weights and m × d = \(output.count) × \(dimension) hidden weights")
            }
            values = hidden + output
        }
        if let bad = values.first(where: { !$0.isFinite }) {
            throw SyntheticDataError.invalidSetting(name: "teacher weight", value: "\(bad)", requirement: "finite")
        }
        self.dimension = dimension
        self.kind = kind
    }

    /// y = β·x with β ~ N(0, I_d), so that y has unit variance on inputs with E xxᵀ = I/d.
    public static func randomLinear(dimension: Int, rng: inout Xoshiro256) throws -> SyntheticTeacher {
        try SyntheticTeacher(dimension: dimension, kind: .linear(weights: (0..<max(dimension, 0)).map { _ in rng.nextNormal() }))
    }

    /// y = xᵀAx with A = U diag(spectrum) Uᵀ for a random orthogonal U (Gram–Schmidt on a Gaussian
    /// matrix): the eigenvalues of A are `spectrum`, its eigenvectors uniformly random.
    public static func randomQuadratic(spectrum: [Double], rng: inout Xoshiro256) throws -> SyntheticTeacher {
        let d = spectrum.count
        guard d >= 1 else { throw SyntheticDataError.invalidSetting(name: "quadratic teacher spectrum", value: "empty", requirement: "d ≥ 1 eigenvalues") }
        var basis: [[Double]] = []
        while basis.count < d {
            var v = (0..<d).map { _ in rng.nextNormal() }
            for u in basis {
                let dot = zip(u, v).reduce(0) { $0 + $1.0 * $1.1 }
                for i in 0..<d { v[i] -= dot * u[i] }
            }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            if norm > 1e-8 { basis.append(v.map { $0 / norm }) }  // a (vanishingly rare) dependent draw is redrawn
        }
        var a = [Double](repeating: 0, count: d * d)
        for (u, lambda) in zip(basis, spectrum) {
            for i in 0..<d { for j in 0..<d { a[i * d + j] += lambda * u[i] * u[j] } }
        }
        for i in 0..<d { for j in 0..<i { a[j * d + i] = a[i * d + j] } }  // exactly symmetric despite rounding
        return try SyntheticTeacher(dimension: d, kind: .quadratic(matrix: a))
    }

    /// A random two-layer teacher of `width` units: w_r ~ N(0, I_d), a_r = ±1.
    public static func randomNetwork(dimension: Int, width: Int, activation: TwoLayerActivation,
                                     rng: inout Xoshiro256) throws -> SyntheticTeacher {
        guard width >= 1 else { throw SyntheticDataError.invalidSetting(name: "teacher width", value: "\(width)", requirement: "at least 1") }
        let hidden = (0..<(width * max(dimension, 0))).map { _ in rng.nextNormal() }
        let output = (0..<width).map { _ in (rng.next() & 1) == 0 ? -1.0 : 1.0 }
        return try SyntheticTeacher(dimension: dimension, kind: .network(hidden: hidden, output: output, activation: activation))
    }

    /// The teacher's value at `x` (d values).
    public func callAsFunction(_ x: [Double]) -> Double {
        let d = dimension
        switch kind {
        case .linear(let w):
            return zip(w, x).reduce(0) { $0 + $1.0 * $1.1 }
        case .quadratic(let a):
            var y = 0.0
            for i in 0..<d {
                var row = 0.0
                for j in 0..<d { row += a[i * d + j] * x[j] }
                y += x[i] * row
            }
            return y
        case .network(let hidden, let output, let sigma):
            var y = 0.0
            for r in 0..<output.count {
                var z = 0.0
                for j in 0..<d { z += hidden[r * d + j] * x[j] }
                y += output[r] * sigma(z)
            }
            return y / Double(output.count).squareRoot()
        }
    }
}
