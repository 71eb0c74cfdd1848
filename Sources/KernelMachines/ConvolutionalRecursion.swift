/// The per-pair recursion of ``ConvolutionalReLUKernel`` on images of `height × width` positions, in
/// Float64. Only same-position covariances are needed (the readout flattens, so a Dense layer sees
/// every position independently, and a 3×3 convolution of same-position covariances gives
/// same-position covariances): for a pair of images the state is a map of P = height·width values.
///
/// With N(M)_p the sum of M over the 3×3 neighbourhood of p (zero padding, SAME), per layer l:
///
///     Σ¹ = (W²/9)·N(c⁰) + b²,  Θ¹ = Σ¹,     c⁰_p = x_p·x′_p / channels,
///     Rˡ = J₁(Σˡ, qˡ, q′ˡ),  Tˡ = J₀(Σˡ, qˡ, q′ˡ)·Θˡ,
///     Σˡ⁺¹ = (W²/9)·N(Rˡ) + b²,  Θˡ⁺¹ = Σˡ⁺¹ + (W²/9)·N(Tˡ),
///     NNGP = W²·mean_p R^L + b²,  NTK = NNGP + W²·mean_p T^L,
///
/// and the variances qˡ of one image follow the same recursion with J₁(q, q, q) = q/2. N is its own
/// adjoint (the 3×3 neighbourhood relation is symmetric), which the reverse pass uses.
struct ConvolutionalRecursion {
    let channels: Int
    let height: Int
    let width: Int
    let depth: Int
    let w2: Double
    let b2: Double
    let ntk: Bool

    /// Positions per image.
    var positions: Int { height * width }

    /// Working memory of one worker for one pair at a time.
    final class Scratch {
        /// Σˡ and Θˡ for l = 1…depth, each `depth × P`.
        let sigma: UnsafeMutablePointer<Double>
        let theta: UnsafeMutablePointer<Double>
        /// Five maps of P values.
        let a, b, c, d, e: UnsafeMutablePointer<Double>
        private let all: [UnsafeMutablePointer<Double>]

        init(depth: Int, positions: Int) {
            sigma = .allocate(capacity: depth * positions)
            theta = .allocate(capacity: depth * positions)
            a = .allocate(capacity: positions)
            b = .allocate(capacity: positions)
            c = .allocate(capacity: positions)
            d = .allocate(capacity: positions)
            e = .allocate(capacity: positions)
            all = [sigma, theta, a, b, c, d, e]
        }

        deinit { for p in all { p.deallocate() } }
    }

    /// dst = N(src); `tmp` is P values of scratch.
    func neighbourSum(_ src: UnsafePointer<Double>, into dst: UnsafeMutablePointer<Double>,
                      tmp: UnsafeMutablePointer<Double>) {
        let h = height, w = width
        for r in 0..<h {
            let row = src + r * w, out = tmp + r * w
            for col in 0..<w {
                var s = row[col]
                if col > 0 { s += row[col - 1] }
                if col + 1 < w { s += row[col + 1] }
                out[col] = s
            }
        }
        for r in 0..<h {
            let out = dst + r * w, mid = tmp + r * w
            for col in 0..<w { out[col] = mid[col] }
            if r > 0 { let up = tmp + (r - 1) * w; for col in 0..<w { out[col] += up[col] } }
            if r + 1 < h { let down = tmp + (r + 1) * w; for col in 0..<w { out[col] += down[col] } }
        }
    }

    /// c⁰_p = x_p·x′_p / channels for two NCHW images.
    func inputCovariance(_ x: UnsafePointer<Double>, _ y: UnsafePointer<Double>, into out: UnsafeMutablePointer<Double>) {
        let p = positions, inverse = 1 / Double(channels)
        for k in 0..<p { out[k] = 0 }
        for ch in 0..<channels {
            let xc = x + ch * p, yc = y + ch * p
            for k in 0..<p { out[k] += xc[k] * yc[k] }
        }
        for k in 0..<p { out[k] *= inverse }
    }

    /// The pre-activation variances qˡ, l = 1…depth (`depth × P`), of one NCHW image.
    func variances(_ x: UnsafePointer<Double>, scratch: Scratch) -> [Double] {
        let p = positions
        var out = [Double](repeating: 0, count: depth * p)
        inputCovariance(x, x, into: scratch.a)
        out.withUnsafeMutableBufferPointer { q in
            let q = q.baseAddress!
            for l in 0..<depth {
                if l > 0 { for k in 0..<p { scratch.a[k] = q[(l - 1) * p + k] / 2 } }
                neighbourSum(scratch.a, into: scratch.b, tmp: scratch.c)
                for k in 0..<p { q[l * p + k] = w2 / 9 * scratch.b[k] + b2 }
            }
        }
        return out
    }

    /// The kernel of one pair from c⁰ (in `scratch.e`) and both images' variances; leaves Σˡ and Θˡ
    /// in the scratch for ``reverse(seed:qa:qb:scratch:qaAdjoint:)``.
    func forward(qa: UnsafePointer<Double>, qb: UnsafePointer<Double>, scratch s: Scratch) -> Double {
        let p = positions, scale = w2 / 9
        neighbourSum(s.e, into: s.a, tmp: s.c)
        for k in 0..<p {
            s.sigma[k] = scale * s.a[k] + b2
            s.theta[k] = s.sigma[k]
        }
        var meanR = 0.0, meanT = 0.0
        for l in 0..<depth {
            let sigma = s.sigma + l * p, theta = s.theta + l * p, qaL = qa + l * p, qbL = qb + l * p
            // a = Rˡ, b = Tˡ
            for k in 0..<p {
                let (j1, j0) = ReLUArcCosine.values(c: sigma[k], q1: qaL[k], q2: qbL[k])
                s.a[k] = j1
                s.b[k] = j0 * theta[k]
            }
            if l + 1 < depth {
                let nextSigma = s.sigma + (l + 1) * p, nextTheta = s.theta + (l + 1) * p
                neighbourSum(s.a, into: s.d, tmp: s.c)
                for k in 0..<p { nextSigma[k] = scale * s.d[k] + b2 }
                neighbourSum(s.b, into: s.d, tmp: s.c)
                for k in 0..<p { nextTheta[k] = nextSigma[k] + scale * s.d[k] }
            } else {
                for k in 0..<p { meanR += s.a[k]; meanT += s.b[k] }
            }
        }
        let nngp = w2 * meanR / Double(p) + b2
        return ntk ? nngp + w2 * meanT / Double(p) : nngp
    }

    /// The adjoint of the pair's kernel value times `seed` with respect to c⁰ (written to `scratch.e`),
    /// adding the adjoint with respect to the first image's variances to `qaAdjoint` (`depth × P`).
    /// Needs the state of the ``forward(qa:qb:scratch:)`` of the same pair.
    func reverse(seed: Double, qa: UnsafePointer<Double>, qb: UnsafePointer<Double>, scratch s: Scratch,
                 qaAdjoint: UnsafeMutablePointer<Double>) {
        let p = positions, scale = w2 / 9
        // a = adjoint of Rˡ, b = adjoint of Tˡ.
        let readout = seed * w2 / Double(p)
        for k in 0..<p {
            s.a[k] = readout
            s.b[k] = ntk ? readout : 0
        }
        for l in stride(from: depth - 1, through: 0, by: -1) {
            let sigma = s.sigma + l * p, theta = s.theta + l * p, qaL = qa + l * p, qbL = qb + l * p
            let qaBar = qaAdjoint + l * p
            // d = adjoint of Σˡ in total (Θˡ contains Σˡ), c = adjoint of Θˡ.
            for k in 0..<p {
                let r = ReLUArcCosine(c: sigma[k], q1: qaL[k], q2: qbL[k])
                let rBar = s.a[k], tBar = s.b[k]
                let thetaBar = tBar * r.j0
                let j0Bar = tBar * theta[k]
                qaBar[k] += rBar * r.j1DQ + j0Bar * r.j0DQ
                s.d[k] = rBar * r.j0 + j0Bar * r.j0DC + thetaBar
                s.c[k] = thetaBar
            }
            if l > 0 {
                neighbourSum(s.d, into: s.a, tmp: s.e)
                neighbourSum(s.c, into: s.b, tmp: s.e)
                for k in 0..<p {
                    s.a[k] *= scale
                    s.b[k] *= scale
                }
            } else {
                neighbourSum(s.d, into: s.e, tmp: s.a)
                for k in 0..<p { s.e[k] *= scale }
            }
        }
    }

    /// The adjoint with respect to the per-position input variance x_p·x_p / channels of one image,
    /// from the adjoint of its variances qˡ (`depth × P`, consumed); written to `out` (P values).
    func variancesReverse(_ qaAdjoint: UnsafeMutablePointer<Double>, into out: UnsafeMutablePointer<Double>,
                          scratch s: Scratch) {
        let p = positions, scale = w2 / 9
        for l in stride(from: depth - 1, through: 1, by: -1) {
            neighbourSum(qaAdjoint + l * p, into: s.a, tmp: s.c)
            let previous = qaAdjoint + (l - 1) * p
            for k in 0..<p { previous[k] += scale / 2 * s.a[k] }
        }
        neighbourSum(qaAdjoint, into: out, tmp: s.c)
        for k in 0..<p { out[k] *= scale }
    }
}
