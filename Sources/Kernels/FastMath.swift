/// Single-precision exp, log and the normal tail written with multiplies, adds, bit casts and
/// branch-free selects only, so that a plain loop calling them vectorises (a call to libm's `expf`
/// cannot). The polynomials are Cephes' single-precision ones (`expf`, `logf`, `tanhf`) and, for the
/// normal tail, the Chebyshev fit of Numerical Recipes' `erfcc` (fractional error < 1.2e-7).
///
/// Accuracy against Double over the ranges the tests sweep (see `KernelsVersusReferenceTests`):
/// exp, log, tanh, sigmoid ≤ 2 ulp; softplus ≤ 3 ulp; GELU (erf form) ≤ 1e-6 relative everywhere; GELU′ ≤ 1e-6
/// relative to |Φ(x)| + |x φ(x)| (it crosses zero near x = −0.75).
/// NaN propagates; ±infinity and zero give the IEEE results.
@usableFromInline
enum FastMath {
    /// eˣ, with correct overflow to infinity, gradual underflow and NaN propagation.
    @inline(__always) @usableFromInline
    static func exp(_ x: Float) -> Float {
        // Clamp so the exponent arithmetic stays in range (comparisons with NaN are false, so NaN passes).
        var v = x < -104 ? -104 : x
        v = v > 89 ? 89 : v
        // n = round(v / ln 2): adding 1.5·2²³ leaves n in the low mantissa bits.
        let magic: Float = 12_582_912
        let shifted = v * 1.442_695_04 + magic
        let n = shifted - magic
        // r = v − n ln 2 in two parts (Cody–Waite), |r| ≤ ln 2 / 2.
        let r = (v - n * 0.693_359_375) - n * -2.121_944_4e-4
        var p: Float = 1.987_569_15e-4
        p = p * r + 1.398_199_950_7e-3
        p = p * r + 8.333_451_907_3e-3
        p = p * r + 4.166_579_589_4e-2
        p = p * r + 1.666_666_545_9e-1
        p = p * r + 5.000_000_120_1e-1
        p = p * (r * r) + r + 1
        // 2ⁿ as two normal powers of two, so that n in [−150, 129] neither wraps nor loses the
        // subnormal range: the final product rounds once into an infinity or a subnormal.
        let k = Int32(bitPattern: shifted.bitPattern) &- Int32(bitPattern: magic.bitPattern)
        let k1 = k &>> 1, k2 = k &- k1
        let s1 = Float(bitPattern: UInt32(bitPattern: (k1 &+ 127) &<< 23))
        let s2 = Float(bitPattern: UInt32(bitPattern: (k2 &+ 127) &<< 23))
        return p * s1 * s2
    }

    /// Natural logarithm: −∞ at ±0, NaN below zero, +∞ at +∞; subnormal inputs are exact.
    @inline(__always) @usableFromInline
    static func log(_ x: Float) -> Float {
        let subnormal = x < Float.leastNormalMagnitude
        let scaled = subnormal ? x * 8_388_608 : x  // 2²³
        let bits = Int32(bitPattern: scaled.bitPattern)
        var e = Float((bits &>> 23) & 0xff) - 126
        e = subnormal ? e - 23 : e
        // x = m·2ᵉ with m in [0.5, 1), then moved to [√½, √2) and shifted by −1.
        var m = Float(bitPattern: UInt32(bitPattern: (bits & 0x007f_ffff) | 0x3f00_0000))
        let low = m < 0.707_106_781_186_547_524
        e = low ? e - 1 : e
        m = low ? m + m - 1 : m - 1
        let z = m * m
        var y: Float = 7.037_683_629_2e-2
        y = y * m - 1.151_461_031_0e-1
        y = y * m + 1.167_699_874_0e-1
        y = y * m - 1.242_014_084_6e-1
        y = y * m + 1.424_932_278_7e-1
        y = y * m - 1.666_805_766_5e-1
        y = y * m + 2.000_071_476_5e-1
        y = y * m - 2.499_999_399_3e-1
        y = y * m + 3.333_333_117_4e-1
        y = y * m * z
        y += -2.121_944_40e-4 * e
        y += -0.5 * z
        var r = m + y
        r += 0.693_359_375 * e
        r = x == 0 ? -.infinity : r
        r = x < 0 ? .nan : r
        r = x == .infinity ? .infinity : r
        return x != x ? x : r
    }

    /// Hyperbolic tangent: an odd polynomial below |x| = 0.625, 1 − 2/(e^{2|x|} + 1) above.
    @inline(__always) @usableFromInline
    static func tanh(_ x: Float) -> Float {
        let a = x.magnitude
        let e = exp(a + a)
        var large = 1 - 2 / (e + 1)
        large = x < 0 ? -large : large
        let z = x * x
        var p: Float = -5.704_988_727_45e-3
        p = p * z + 2.063_908_879_54e-2
        p = p * z - 5.373_971_555_31e-2
        p = p * z + 1.333_144_220_36e-1
        p = p * z - 3.333_328_194_22e-1
        let small = p * z * x + x
        return a < 0.625 ? small : large
    }

    /// The logistic function 1 / (1 + e^{−x}).
    @inline(__always) @usableFromInline
    static func sigmoid(_ x: Float) -> Float { 1 / (1 + exp(-x)) }

    /// log(1 + t) for t in [0, 1] (NaN passes): 2·atanh(s) with s = t/(2 + t) ≤ 1/3, as the odd
    /// series 2s(1 + s²/3 + s⁴/5 + …) to s¹⁵, whose truncation error is below 4e-9 relative.
    @inline(__always) @usableFromInline
    static func log1pUnit(_ t: Float) -> Float {
        let s = t / (2 + t)
        let z = s * s
        var p: Float = 1.0 / 15
        p = p * z + 1.0 / 13
        p = p * z + 1.0 / 11
        p = p * z + 1.0 / 9
        p = p * z + 1.0 / 7
        p = p * z + 1.0 / 5
        p = p * z + 1.0 / 3
        return (s + s) + (s + s) * (p * z)
    }

    /// log(1 + eˣ) = max(x, 0) + log1p(e^{−|x|}), stable for every x (and x itself, to the last
    /// bit, above x = 17 where the correction is below half an ulp).
    @inline(__always) @usableFromInline
    static func softplus(_ x: Float) -> Float {
        let tail = log1pUnit(exp(-x.magnitude))
        return (x > 0 ? x : 0) + tail
    }

    /// e^{c − x²/2} for moderate c, keeping full relative accuracy for large |x|: x² is split exactly
    /// into two parts (Dekker), and the rounding error of the exponent is carried as a factor
    /// (1 + error), since a single Float exponent of size x²/2 would lose ulp(x²/2) of it.
    @inline(__always) @usableFromInline
    static func gaussianExp(_ x: Float, plus c: Float) -> Float {
        let a = x.magnitude > 30 ? 30 : x.magnitude  // beyond 30 the result underflows anyway
        let split = a * 4097
        let high = split - (split - a), low = a - high  // 12 + 12 significant bits
        let h = -0.5 * (high * high)  // exact
        let small = c - 0.5 * ((high + high) * low + low * low)  // moderate: rounding ≈ 1e-7 absolute
        let hi = h + small
        let error = small - (hi - h)  // Fast2Sum (|h| ≥ |small| wherever the correction matters)
        return exp(hi) * (1 + error)
    }

    /// Q(|x|) = P(Z > |x|) for a standard normal Z, i.e. erfc(|x|/√2)/2, with fractional error about
    /// 1.2e-7 at every |x| (Numerical Recipes' `erfcc`). Zero for infinite x.
    @inline(__always) @usableFromInline
    static func normalTail(_ x: Float) -> Float {
        let z = x.magnitude * 0.707_106_781_186_547_524
        let t = 1 / (1 + 0.5 * z)
        var p: Float = 0.170_872_77
        p = p * t - 0.822_152_23
        p = p * t + 1.488_515_87
        p = p * t - 1.135_203_98
        p = p * t + 0.278_868_07
        p = p * t - 0.186_288_06
        p = p * t + 0.096_784_18
        p = p * t + 0.374_091_96
        p = p * t + 1.000_023_68
        p = p * t - 1.265_512_23
        return 0.5 * t * gaussianExp(x, plus: p)
    }

    /// Φ(x), the standard normal distribution function.
    @inline(__always) @usableFromInline
    static func normalCDF(_ x: Float) -> Float {
        let q = normalTail(x)
        return x < 0 ? q : 1 - q
    }

    /// φ(x) = e^{−x²/2} / √(2π), the standard normal density.
    @inline(__always) @usableFromInline
    static func normalDensity(_ x: Float) -> Float { 0.398_942_280_401_432_678 * gaussianExp(x, plus: 0) }

    /// GELU (erf form): x·Φ(x). Zero below x = −20, where x·Φ(x) underflows (and −∞·0 would be NaN).
    @inline(__always) @usableFromInline
    static func gelu(_ x: Float) -> Float {
        let y = x * normalCDF(x)
        return x < -20 ? -0.0 : y
    }

    /// GELU′(x) = Φ(x) + x·φ(x).
    @inline(__always) @usableFromInline
    static func geluDerivative(_ x: Float) -> Float {
        let xd = x * normalDensity(x)
        return normalCDF(x) + (x.magnitude > 20 ? 0 : xd)
    }

    /// GELU″(x) = φ(x)·(2 − x²).
    @inline(__always) @usableFromInline
    static func geluSecondDerivative(_ x: Float) -> Float {
        let y = normalDensity(x) * (2 - x * x)
        return x.magnitude > 20 ? 0 : y
    }
}
