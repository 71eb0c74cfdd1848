/// A small, fast, seedable pseudo-random generator (xoshiro256**) whose whole state is four
/// 64-bit words, so it can be saved in a checkpoint and restored to continue bit-identically.
///
/// Every source of randomness in Tangent (initialisation, shuffling, random attack starts)
/// takes one of these explicitly; there is no global generator.
public struct Xoshiro256: RandomNumberGenerator, Sendable, Equatable, Codable {
    /// The raw state words. Restoring them restores the stream exactly.
    public var state: [UInt64]

    /// Seeds the generator by expanding `seed` with SplitMix64, as the xoshiro authors recommend.
    public init(seed: UInt64) {
        var s = seed
        var words = [UInt64](repeating: 0, count: 4)
        for i in 0..<4 {
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            words[i] = z ^ (z >> 31)
        }
        state = words
    }

    /// Restores a generator from saved state words (four of them).
    public init(state: [UInt64]) {
        precondition(state.count == 4, "xoshiro256 state has four words")
        self.state = state
    }

    @inlinable
    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = rotl(state[1] &* 5, 7) &* 9
        let t = state[1] << 17
        state[2] ^= state[0]
        state[3] ^= state[1]
        state[1] ^= state[2]
        state[0] ^= state[3]
        state[2] ^= t
        state[3] = rotl(state[3], 45)
        return result
    }

    @inlinable
    func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 &- k)) }

    /// A uniform Float in [0, 1) built from the top 24 bits (exactly representable).
    @inlinable
    public mutating func nextUniformFloat() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// A uniform Double in [0, 1) from the top 53 bits.
    @inlinable
    public mutating func nextUniformDouble() -> Double {
        Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// A standard normal sample (Box–Muller, one value per call; simple and deterministic).
    public mutating func nextNormal() -> Double {
        var u1 = nextUniformDouble()
        while u1 <= .leastNormalMagnitude { u1 = nextUniformDouble() }
        let u2 = nextUniformDouble()
        return (-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2)
    }

    /// A standard normal sample conditioned on [lower, upper] (rejection sampling).
    public mutating func nextTruncatedNormal(lower: Double = -2, upper: Double = 2) -> Double {
        while true {
            let z = nextNormal()
            if z >= lower && z <= upper { return z }
        }
    }

    /// A uniformly random permutation of 0..<count (Fisher–Yates, driven only by this generator).
    public mutating func permutation(_ count: Int) -> [Int] {
        var p = Array(0..<count)
        if count < 2 { return p }
        for i in stride(from: count - 1, to: 0, by: -1) {
            let j = Int(next() % UInt64(i + 1))
            p.swapAt(i, j)
        }
        return p
    }
}

#if canImport(Glibc)
import Glibc
@usableFromInline func _log(_ x: Double) -> Double { Glibc.log(x) }
@usableFromInline func _cos(_ x: Double) -> Double { Glibc.cos(x) }
#else
import Darwin
@usableFromInline func _log(_ x: Double) -> Double { Darwin.log(x) }
@usableFromInline func _cos(_ x: Double) -> Double { Darwin.cos(x) }
#endif
