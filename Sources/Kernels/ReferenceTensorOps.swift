#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// libm in Double, named apart from the `Function` cases.
private func libmExp(_ x: Double) -> Double { exp(x) }
private func libmLog(_ x: Double) -> Double { log(x) }
private func libmLog1p(_ x: Double) -> Double { log1p(x) }
private func libmTanh(_ x: Double) -> Double { tanh(x) }
private func libmErfc(_ x: Double) -> Double { erfc(x) }

/// Naive twins of the elementwise activations (in Double with libm) and of the broadcasting,
/// reduction, permutation, concatenation and global-pooling kernels (one index computation per
/// element, straight from the definitions).
extension Reference {
    /// The elementwise functions with a vectorised kernel in `Elementwise`.
    public enum Function: String, CaseIterable, Sendable {
        /// eˣ, log x, tanh x, σ(x), log(1 + eˣ), x·Φ(x), Φ(x) + x φ(x), √x, x².
        case exp, log, tanh, sigmoid, softplus, gelu, geluDerivative, sqrt, square

        /// The function at x, in Double.
        public func callAsFunction(_ x: Double) -> Double {
            switch self {
            case .exp: return libmExp(x)
            case .log: return libmLog(x)
            case .tanh: return libmTanh(x)
            case .sigmoid: return 1 / (1 + libmExp(-x))
            case .softplus: return max(x, 0) + libmLog1p(libmExp(-abs(x)))
            case .gelu: return x * Reference.normalCDF(x)
            case .geluDerivative: return Reference.normalCDF(x) + x * Reference.normalDensity(x)
            case .sqrt: return x.squareRoot()
            case .square: return x * x
            }
        }

        /// The derivative at x, in Double.
        public func derivative(_ x: Double) -> Double {
            switch self {
            case .exp: return libmExp(x)
            case .log: return 1 / x
            case .tanh: let t = libmTanh(x); return 1 - t * t
            case .sigmoid, .softplus: let s = 1 / (1 + libmExp(-x)); return self == .softplus ? s : s * (1 - s)
            case .gelu: return Reference.normalCDF(x) + x * Reference.normalDensity(x)
            case .geluDerivative: return Reference.normalDensity(x) * (2 - x * x)
            case .sqrt: return 0.5 / x.squareRoot()
            case .square: return 2 * x
            }
        }
    }

    /// Φ(x) = erfc(−x/√2)/2, in Double.
    public static func normalCDF(_ x: Double) -> Double { 0.5 * libmErfc(-x / 2.0.squareRoot()) }
    /// φ(x) = e^{−x²/2}/√(2π), in Double.
    public static func normalDensity(_ x: Double) -> Double { libmExp(-0.5 * x * x) / (2 * Double.pi).squareRoot() }

    /// f(x) elementwise, in Double.
    public static func apply(_ f: Function, _ x: [Float]) -> [Double] { x.map { f(Double($0)) } }

    /// g·f′(x) elementwise — the pullback of f at x — in Double.
    public static func pullback(_ f: Function, _ x: [Float], _ g: [Float]) -> [Double] {
        zip(x, g).map { f.derivative(Double($0)) * Double($1) }
    }

    /// The pullback computed from the saved output y, as the fast kernels do for exp (g·y), tanh
    /// (g·(1 − y²)), sigmoid (g·y(1 − y)) and sqrt (g/(2y)); in Double.
    public static func pullback(_ f: Function, output y: [Float], _ g: [Float]) -> [Double] {
        zip(y, g).map { yv, gv in
            let y = Double(yv), g = Double(gv)
            switch f {
            case .exp: return g * y
            case .tanh: return g * (1 - y * y)
            case .sigmoid: return g * y * (1 - y)
            case .sqrt: return g / (2 * y)
            default: preconditionFailure("\(f) has no output-based pullback")
            }
        }
    }

    /// Row-major strides of a shape.
    static func rowMajorStrides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        for d in stride(from: shape.count - 2, through: 0, by: -1) { s[d] = s[d + 1] * shape[d + 1] }
        return s
    }

    /// The multi-index of flat position `i` in `shape`.
    static func multiIndex(_ i: Int, _ shape: [Int]) -> [Int] {
        var r = i
        var index = [Int](repeating: 0, count: shape.count)
        for d in stride(from: shape.count - 1, through: 0, by: -1) { index[d] = r % shape[d]; r /= shape[d] }
        return index
    }

    /// The flat position in an operand of shape `shape` (right-aligned, broadcast along extent-1
    /// dimensions) of the result's multi-index `index`.
    static func broadcastOffset(_ index: [Int], _ shape: [Int]) -> Int {
        let strides = rowMajorStrides(shape), lead = index.count - shape.count
        return shape.indices.reduce(0) { $0 + (shape[$1] == 1 ? 0 : index[lead + $1] * strides[$1]) }
    }

    /// a ∘ b with NumPy broadcasting, element by element; `shape` is the broadcast shape.
    public static func broadcast(_ op: BinaryOperation, _ a: [Float], _ aShape: [Int], _ b: [Float], _ bShape: [Int],
                                 shape: [Int]) -> [Float] {
        (0..<shape.reduce(1, *)).map { i in
            let index = multiIndex(i, shape)
            return op.apply(a[broadcastOffset(index, aShape)], b[broadcastOffset(index, bShape)])
        }
    }

    /// x of shape `shape` summed (in Double) down to `target`, a shape it broadcasts from.
    public static func sum(_ x: [Float], _ shape: [Int], to target: [Int]) -> [Float] {
        var y = [Double](repeating: 0, count: target.reduce(1, *))
        for i in x.indices { y[broadcastOffset(multiIndex(i, shape), target)] += Double(x[i]) }
        return y.map(Float.init)
    }

    /// x with its axes permuted: result axis i is x's axis `permutation[i]`.
    public static func permute(_ x: [Float], _ shape: [Int], _ permutation: [Int]) -> [Float] {
        let outShape = permutation.map { shape[$0] }, strides = rowMajorStrides(shape)
        return (0..<x.count).map { i in
            let index = multiIndex(i, outShape)
            return x[permutation.indices.reduce(0) { $0 + index[$1] * strides[permutation[$1]] }]
        }
    }

    /// Concatenation of tensors (equal ranks, equal shapes but along `axis`) along `axis`.
    public static func concatenate(_ parts: [[Float]], _ shapes: [[Int]], axis: Int) -> [Float] {
        var outShape = shapes[0]
        outShape[axis] = shapes.reduce(0) { $0 + $1[axis] }
        return (0..<outShape.reduce(1, *)).map { i in
            var index = multiIndex(i, outShape)
            var k = 0
            while index[axis] >= shapes[k][axis] { index[axis] -= shapes[k][axis]; k += 1 }
            let strides = rowMajorStrides(shapes[k])
            return parts[k][index.indices.reduce(0) { $0 + index[$1] * strides[$1] }]
        }
    }

    /// The mean of each of `planes` contiguous planes of `planeSize` elements, in Double.
    public static func globalAveragePool(_ x: [Float], planes: Int, planeSize: Int) -> [Float] {
        (0..<planes).map { p in
            Float((0..<planeSize).reduce(0.0) { $0 + Double(x[p * planeSize + $1]) } / Double(planeSize))
        }
    }
}
