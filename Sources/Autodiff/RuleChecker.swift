import Kernels

/// Settings of ``checkRules(name:inputs:differentiable:options:_:)``. The defaults suit Float32
/// functions of inputs of order one.
public struct RuleCheckOptions: Sendable {
    /// Step h of the central differences (f(x + h eⱼ) − f(x − h eⱼ)) / 2h, added to one input
    /// coordinate at a time (the difference of the rounded Float inputs is used as 2h). Default 1e-2:
    /// in Float32 the truncation error (h²/6)·f‴ ≈ 2e-5 and the rounding error ≈ 2⁻²⁴|f|/h ≈ 6e-6|f| are
    /// then both well under the tolerance; a smaller h drowns the difference in rounding. Inputs must
    /// stay more than h away from kinks (ReLU at 0, max-pool ties, clamp bounds).
    public var epsilon: Float
    /// A finite-difference comparison passes when |measured − expected| ≤ tolerance · s + noise,
    /// where s is the larger of |expected| and the root mean square of the input's sampled expected
    /// values (so near-zero coordinates are judged on the gradient's scale), and noise is the
    /// rounding allowance below. Default 5e-3.
    public var tolerance: Double
    /// The duality check passes when |⟨u, Jv⟩ − ⟨Jᵀu, v⟩| ≤ dualityTolerance · max(Σ|uᵢ(Jv)ᵢ|, Σ|(Jᵀu)ⱼvⱼ|):
    /// both sides are exact up to Float32 rounding. Default 1e-4.
    public var dualityTolerance: Double
    /// The rounding noise allowed in a central difference, in units of 2⁻²⁴ · Σᵢ|uᵢ fᵢ| / 2h (fᵢ at
    /// both points). Default 16.
    public var roundingUlps: Double
    /// Coordinates per input sampled for finite differences (all of them for smaller inputs). Default 12.
    public var samples: Int
    /// Seed of the random cotangent u, tangents v and sampled coordinates (a fixed default, so that
    /// a report is reproducible).
    public var seed: UInt64

    /// Settings with the given values (the defaults documented on each property).
    public init(epsilon: Float = 1e-2, tolerance: Double = 5e-3, dualityTolerance: Double = 1e-4,
                roundingUlps: Double = 16, samples: Int = 12, seed: UInt64 = 20_221_128) {
        self.epsilon = epsilon
        self.tolerance = tolerance
        self.dualityTolerance = dualityTolerance
        self.roundingUlps = roundingUlps
        self.samples = samples
        self.seed = seed
    }
}

/// Checks the differentiation rules of the primitives a function uses, the way the built-in ones
/// are tested, and reports every comparison.
///
/// `f` maps `inputs` to one tensor; the inputs listed in `differentiable` (default: all) are checked.
/// With u a random cotangent of the output's shape and v random tangents of the inputs' shapes:
/// - the VJP (reverse mode, seeded with u) against central finite differences of ⟨u, f(x)⟩
///   (accumulated in Double) on sampled coordinates;
/// - the JVP (forward mode) against the VJP: ⟨u, J v⟩ = ⟨Jᵀu, v⟩, and that carrying tangents does
///   not change the value;
/// - reverse-over-forward: the gradient in x of ⟨u, J(x)v⟩, computed by reverse mode through the JVP
///   rules with x requiring gradients and carrying the tangent v (all differentiable inputs at once,
///   so cross terms like ∂/∂x of J_W v_W are covered), against central differences of the JVP;
/// - reverse mode through the tangent: the gradient of ⟨u, J v⟩ in v, which must equal Jᵀu — this is
///   where a JVP rule computed on raw buffers (returning a plain tensor) raises
///   ``AutodiffError/nonDifferentiableTangent(primitive:)``.
/// A missing rule (a primitive recorded with `pullback: nil` or `tangent: nil`) shows up as failed
/// checks carrying ``AutodiffError/missingRule(primitive:mode:)``.
///
/// Rule errors are reported, not thrown. This function throws only when `f` itself throws at the
/// given inputs (or at a finite-difference point), or when `differentiable` names an input that does
/// not exist. An empty `differentiable` list makes no checks (and an empty report passes).
public func checkRules(name: String, inputs: [Tensor], differentiable: [Int]? = nil,
                       options: RuleCheckOptions = RuleCheckOptions(),
                       _ f: ([Tensor]) throws -> Tensor) throws -> RuleCheckReport {
    let indices = differentiable ?? Array(inputs.indices)
    for i in indices where !inputs.indices.contains(i) {
        throw ShapeError("checkRules", "differentiable input \(i) does not exist (\(inputs.count) inputs)",
                         shapes: inputs.map(\.shape))
    }
    return try withoutActuallyEscaping(f) { f in
        var run = RuleCheckRun(f: f, inputs: inputs.map(\.detached), indices: indices, options: options)
        try run.checkAll()
        return RuleCheckReport(name: name, options: options, checks: run.checks)
    }
}

/// The state of one `checkRules` call: the function, its plain inputs, the random directions and
/// the checks made so far.
struct RuleCheckRun {
    let f: ([Tensor]) throws -> Tensor
    let inputs: [Tensor]
    let indices: [Int]
    let options: RuleCheckOptions
    var rng: Xoshiro256
    var checks: [RuleCheck] = []

    init(f: @escaping ([Tensor]) throws -> Tensor, inputs: [Tensor], indices: [Int], options: RuleCheckOptions) {
        self.f = f
        self.inputs = inputs
        self.indices = indices
        self.options = options
        rng = Xoshiro256(seed: options.seed)
    }

    mutating func checkAll() throws {
        let y = try f(inputs).detached
        let u = randomTensor(y.shape)
        let v = indices.map { randomTensor(inputs[$0].shape) }
        let coordinates = indices.map { sampleCoordinates(inputs[$0].count) }
        // Central differences of ⟨u, f(x)⟩: the expected VJP coordinates.
        let fdGradients = try indices.indices.map { k in
            try coordinates[k].map { j in try centralDifference(input: indices[k], coordinate: j, u: u, f) }
        }

        for (k, i) in indices.enumerated() {
            let vjp = checkReverse(input: i, u: u, coordinates: coordinates[k], differences: fdGradients[k])
            checkForward(input: i, y: y, u: u, v: v[k], vjp: vjp)
        }
        checkReverseOverForward(u: u, v: v, coordinates: coordinates)
        checkTangentTranspose(u: u, v: v, coordinates: coordinates, differences: fdGradients)
    }

    /// (a) The VJP seeded with u against central differences; returns Jᵀu when it could be computed.
    mutating func checkReverse(input i: Int, u: Tensor, coordinates: [Int], differences: [Difference]) -> Tensor? {
        do {
            var tracked = inputs
            tracked[i] = inputs[i].requiringGradient()
            let g = try gradients(of: f(tracked), wrt: [tracked[i]], seed: u, allowUnconnected: true)[0]
            compare(.reverseVersusFiniteDifferences, input: i, coordinates: coordinates, measured: g.scalars, differences)
            return g
        } catch {
            checks.append(RuleCheck(.reverseVersusFiniteDifferences, input: i, error: error))
            return nil
        }
    }

    /// (b) The JVP along v against the VJP, and the value computed alongside the tangent.
    mutating func checkForward(input i: Int, y: Tensor, u: Tensor, v: Tensor, vjp: Tensor?) {
        do {
            var dual = inputs
            dual[i] = try inputs[i].withTangent(v)
            let out = try f(dual)
            let jv = try out.tangent ?? Tensor.zeros(out.shape)
            let drift = zip(out.scalars, y.scalars).reduce(0.0) { max($0, abs(Double($1.0) - Double($1.1))) }
            let size = y.scalars.reduce(0.0) { max($0, abs(Double($1))) }
            checks.append(RuleCheck(.forwardValue, input: i, coordinate: nil, measured: drift, expected: 0, tolerance: 1e-6 * max(size, 1)))
            guard let vjp else {
                checks.append(RuleCheck(.forwardVersusReverse, input: i, error: RuleCheckPrerequisite.noVJP))
                return
            }
            let lhs = dot(u, jv), rhs = dot(vjp, v)
            let scale = max(absoluteDot(u, jv), absoluteDot(vjp, v))
            checks.append(RuleCheck(.forwardVersusReverse, input: i, coordinate: nil, measured: lhs, expected: rhs,
                                    tolerance: options.dualityTolerance * scale + 1e-12))
        } catch {
            checks.append(RuleCheck(.forwardVersusReverse, input: i, error: error))
        }
    }

    /// (c) ∂⟨u, J(x)v⟩/∂x by reverse mode through the JVP, against central differences of the JVP.
    mutating func checkReverseOverForward(u: Tensor, v: [Tensor], coordinates: [[Int]]) {
        let measured: [Tensor]
        do {
            var dual = inputs
            var leaves: [Tensor] = []
            for (k, i) in indices.enumerated() {
                let leaf = inputs[i].requiringGradient()
                leaves.append(leaf)
                dual[i] = try leaf.withTangent(v[k])
            }
            if let jv = try f(dual).tangent {
                measured = try gradients(of: jv, wrt: leaves, seed: u, allowUnconnected: true)
            } else {
                measured = leaves.map { Tensor.zeros($0.shape) }
            }
        } catch {
            for i in indices { checks.append(RuleCheck(.reverseOverForward, input: i, error: error)) }
            return
        }
        // The JVP at perturbed inputs (plain, forward mode only).
        let jvp: ([Tensor]) throws -> Tensor = { [indices, f] x in
            var dual = x
            for (k, i) in indices.enumerated() { dual[i] = try x[i].withTangent(v[k]) }
            let out = try f(dual)
            return try out.tangent ?? Tensor.zeros(out.shape)
        }
        for (k, i) in indices.enumerated() {
            do {
                let differences = try coordinates[k].map { j in try centralDifference(input: i, coordinate: j, u: u, jvp) }
                compare(.reverseOverForward, input: i, coordinates: coordinates[k], measured: measured[k].scalars, differences)
            } catch {
                checks.append(RuleCheck(.reverseOverForward, input: i, error: error))
            }
        }
    }

    /// (d) ∂⟨u, J v⟩/∂v by reverse mode through the JVP (the tangents require gradients), against the
    /// central differences of ⟨u, f⟩, i.e. Jᵀu.
    mutating func checkTangentTranspose(u: Tensor, v: [Tensor], coordinates: [[Int]], differences: [[Difference]]) {
        do {
            var dual = inputs
            var tangents: [Tensor] = []
            for (k, i) in indices.enumerated() {
                let t = v[k].requiringGradient()
                tangents.append(t)
                dual[i] = try inputs[i].withTangent(t)
            }
            let measured: [Tensor]
            if let jv = try f(dual).tangent {
                measured = try gradients(of: jv, wrt: tangents, seed: u, allowUnconnected: true)
            } else {
                measured = tangents.map { Tensor.zeros($0.shape) }
            }
            for (k, i) in indices.enumerated() {
                compare(.tangentTranspose, input: i, coordinates: coordinates[k], measured: measured[k].scalars, differences[k])
            }
        } catch {
            for i in indices { checks.append(RuleCheck(.tangentTranspose, input: i, error: error)) }
        }
    }
}

/// Why a check could not be made although no rule raised an error.
enum RuleCheckPrerequisite: Error, CustomStringConvertible {
    case noVJP
    var description: String { "not compared: the VJP could not be computed (see the VJP check)" }
}
