import XCTest
import Kernels

/// The activation, broadcasting, reduction, permutation, concatenation and global-pooling kernels
/// against their naive twins in `Reference`.
final class TensorKernelsVersusReferenceTests: XCTestCase {
    var rng = Xoshiro256(seed: 7)

    func randomArray(_ n: Int, scale: Float = 1) -> [Float] { (0..<n).map { _ in Float(rng.nextNormal()) * scale } }

    typealias Unary = (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void

    func kernel(_ f: Reference.Function) -> Unary {
        switch f {
        case .exp: return { Elementwise.exp($0, $1, count: $2) }
        case .log: return { Elementwise.log($0, $1, count: $2) }
        case .tanh: return { Elementwise.tanh($0, $1, count: $2) }
        case .sigmoid: return { Elementwise.sigmoid($0, $1, count: $2) }
        case .softplus: return { Elementwise.softplus($0, $1, count: $2) }
        case .gelu: return { Elementwise.gelu($0, $1, count: $2) }
        case .geluDerivative: return { Elementwise.geluDerivative($0, $1, count: $2) }
        case .sqrt: return { Elementwise.sqrt($0, $1, count: $2) }
        case .square: return { Elementwise.square($0, $1, count: $2) }
        }
    }

    func apply(_ k: Unary, _ x: [Float]) -> [Float] {
        var y = [Float](repeating: .nan, count: x.count)
        x.withUnsafeBufferPointer { px in y.withUnsafeMutableBufferPointer { k(px.baseAddress!, $0.baseAddress!, x.count) } }
        return y
    }

    /// Arguments covering each function's range: a geometric sweep over magnitudes plus normals.
    func sweep(_ f: Reference.Function) -> [Float] {
        var xs: [Float] = []
        var m: Float = 1e-30
        while m < (f == .exp ? 88 : 40) { xs.append(m); if f != .log && f != .sqrt { xs.append(-m) }; m *= 1.003 }
        xs += randomArray(50_000, scale: 4).map { f == .log || f == .sqrt ? abs($0) + 1e-6 : $0 }
        return xs
    }

    /// Accuracy against Double: ≤ 2 ulp for exp, log, tanh, sigmoid, ≤ 3 for softplus (ulp of the correctly
    /// rounded result), ≤ 1e-6 relative for GELU and GELU′ (GELU′ relative to Φ(x) + |x|φ(x), as it
    /// crosses zero), on every result that is a normal Float above 1e-36.
    func testActivationsAreAccurate() {
        for f in Reference.Function.allCases {
            let xs = sweep(f)
            let ys = apply(kernel(f), xs)
            var worstUlps = 0.0, worstRelative = 0.0, worstAt: Float = 0
            for (x, y) in zip(xs, ys) {
                let exact = f(Double(x))
                guard exact.isFinite, abs(exact) > 1e-36 else { continue }
                let error = abs(Double(y) - exact)
                let ulps = error / Double(Float(exact).magnitude.ulp)
                let scale = f == .geluDerivative ? Reference.normalCDF(Double(x)) + abs(Double(x)) * Reference.normalDensity(Double(x)) : abs(exact)
                if ulps > worstUlps { worstUlps = ulps; worstAt = x }
                worstRelative = max(worstRelative, error / scale)
            }
            switch f {
            case .gelu, .geluDerivative: XCTAssertLessThanOrEqual(worstRelative, 1e-6, "\(f): relative error")
            case .softplus: XCTAssertLessThanOrEqual(worstUlps, 3, "\(f): \(worstUlps) ulp at \(worstAt)")
            default: XCTAssertLessThanOrEqual(worstUlps, 2, "\(f): \(worstUlps) ulp at \(worstAt)")
            }
        }
    }

    func testActivationsSpecialValues() {
        let tiny = Float.leastNormalMagnitude / 1024  // subnormal
        let special: [Float] = [.nan, .infinity, -.infinity, 0, -0.0, 100, -100, tiny, -tiny]
        func values(_ f: Reference.Function) -> [Float] { apply(kernel(f), special) }
        for f in Reference.Function.allCases { XCTAssertTrue(values(f)[0].isNaN, "\(f)(NaN)") }
        XCTAssertEqual(Array(values(.exp)[1...5]), [.infinity, 0, 1, 1, .infinity])
        XCTAssertEqual(Double(values(.exp)[6]), 3.720076e-44, accuracy: 3e-45)  // gradual underflow
        let log = values(.log)
        XCTAssertEqual([log[1], log[3], log[4]], [.infinity, -.infinity, -.infinity])
        XCTAssertTrue(log[2].isNaN && log[6].isNaN && log[8].isNaN)
        XCTAssertEqual(log[7], Float(Reference.Function.log(Double(special[7]))), accuracy: 1e-5)  // subnormal input
        XCTAssertEqual(Array(values(.tanh)[1...6]), [1, -1, 0, 0, 1, -1])
        XCTAssertEqual(Array(values(.sigmoid)[1...3]), [1, 0, 0.5])
        XCTAssertEqual(Array(values(.softplus)[1...2]), [.infinity, 0])
        XCTAssertEqual(values(.softplus)[5], 100)
        XCTAssertEqual(Array(values(.gelu)[1...6]), [.infinity, 0, 0, 0, 100, 0])
        XCTAssertEqual(Array(values(.geluDerivative)[1...3]), [1, 0, 0.5])
    }

    func testActivationPullbacksMatchReference() {
        let x = randomArray(1000, scale: 3), g = randomArray(1000)
        let positive = x.map { abs($0) + 0.1 }
        func pullback(_ k: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void, _ saved: [Float]) -> [Float] {
            var dx = [Float](repeating: .nan, count: g.count)
            g.withUnsafeBufferPointer { pg in saved.withUnsafeBufferPointer { ps in
                dx.withUnsafeMutableBufferPointer { k(pg.baseAddress!, ps.baseAddress!, $0.baseAddress!, g.count) }
            } }
            return dx
        }
        // Errors relative to the larger of the result and the incoming cotangent (the derivatives of
        // tanh and sigmoid are computed from the rounded output, GELU′ crosses zero).
        func close(_ a: [Float], _ b: [Double], _ what: String) {
            let worst = zip(zip(a, b), g).reduce(0.0) { max($0, abs(Double($1.0.0) - $1.0.1) / max(abs($1.0.1), abs(Double($1.1)))) }
            XCTAssertLessThan(worst, 2e-6, what)
        }
        let tanhY = apply(kernel(.tanh), x), sigmoidY = apply(kernel(.sigmoid), x), sqrtY = apply(kernel(.sqrt), positive)
        close(pullback({ Elementwise.tanhBackward($0, output: $1, $2, count: $3) }, tanhY), Reference.pullback(.tanh, output: tanhY, g), "tanh")
        close(pullback({ Elementwise.sigmoidBackward($0, output: $1, $2, count: $3) }, sigmoidY),
              Reference.pullback(.sigmoid, output: sigmoidY, g), "sigmoid")
        close(pullback({ Elementwise.sqrtBackward($0, output: $1, $2, count: $3) }, sqrtY), Reference.pullback(.sqrt, output: sqrtY, g), "sqrt")
        close(pullback({ Elementwise.softplusBackward($0, input: $1, $2, count: $3) }, x), Reference.pullback(.softplus, x, g), "softplus")
        close(pullback({ Elementwise.geluBackward($0, input: $1, $2, count: $3) }, x), Reference.pullback(.gelu, x, g), "gelu")
        close(pullback({ Elementwise.geluDerivativeBackward($0, input: $1, $2, count: $3) }, x), Reference.pullback(.geluDerivative, x, g), "gelu′")
        close(pullback({ Elementwise.squareBackward($0, input: $1, $2, count: $3) }, x), Reference.pullback(.square, x, g), "square")
        close(pullback({ Elementwise.divide($0, $1, $2, count: $3) }, positive), Reference.pullback(.log, positive, g), "log (g / x)")
    }

    /// Shape pairs covering equal shapes, scalars, leading and inner broadcasts, both directions.
    let broadcastPairs: [([Int], [Int])] = [
        ([3, 4], [3, 4]), ([], [5]), ([5], []), ([2, 3, 4], [4]), ([2, 3, 4], [3, 1]), ([2, 1, 4], [1, 3, 1]),
        ([4, 1], [1, 5]), ([2, 3, 1, 5], [3, 7, 1]), ([1], [6, 1]), ([2, 0, 3], [3]),
    ]

    func testBroadcastingMatchesReference() {
        for (sa, sb) in broadcastPairs {
            guard let shape = StridedLayout.broadcastShape(sa, sb), let layout = StridedLayout.broadcasting([sa, sb], to: shape) else {
                return XCTFail("\(sa) and \(sb) should broadcast")
            }
            let a = randomArray(sa.reduce(1, *)), b = randomArray(sb.reduce(1, *)).map { $0 + 3 }
            for op in BinaryOperation.allCases {
                var y = [Float](repeating: .nan, count: shape.reduce(1, *))
                a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in y.withUnsafeMutableBufferPointer {
                    Broadcasting.apply(op, pa.baseAddress!, pb.baseAddress!, $0.baseAddress!, layout: layout)
                } } }
                XCTAssertEqual(y, Reference.broadcast(op, a, sa, b, sb, shape: shape), "\(op) \(sa) \(sb)")
            }
        }
        XCTAssertNil(StridedLayout.broadcastShape([3, 4], [5]))
        XCTAssertNil(StridedLayout.broadcasting([[2, 3]], to: [3]))
        // Merged dimensions: [N, C, H, W] with a per-channel operand walks [N, C, H·W].
        XCTAssertEqual(StridedLayout.broadcasting([[2, 3, 4, 5], [1, 3, 1, 1]], to: [2, 3, 4, 5])?.extents, [2, 3, 20])
    }

    func testExpandAndSumMatchReference() {
        for (small, large) in [([3, 1], [2, 3, 4]), ([4], [3, 4]), ([], [2, 2]), ([1, 5], [4, 5]), ([2, 1, 3], [2, 6, 3])] {
            guard let layout = StridedLayout.broadcasting([small], to: large) else { return XCTFail("\(small) → \(large)") }
            let x = randomArray(small.reduce(1, *)), big = randomArray(large.reduce(1, *))
            var expanded = [Float](repeating: .nan, count: big.count)
            x.withUnsafeBufferPointer { px in expanded.withUnsafeMutableBufferPointer { Broadcasting.expand(px.baseAddress!, $0.baseAddress!, layout: layout) } }
            XCTAssertEqual(expanded, Reference.broadcast(.add, x, small, [Float](repeating: 0, count: big.count), large, shape: large))
            var summed = [Float](repeating: .nan, count: x.count)
            big.withUnsafeBufferPointer { pb in summed.withUnsafeMutableBufferPointer {
                Broadcasting.sum(pb.baseAddress!, into: $0.baseAddress!, count: x.count, layout: layout)
            } }
            XCTAssertLessThan(zip(summed, Reference.sum(big, large, to: small)).reduce(0) { max($0, abs($1.0 - $1.1)) }, 1e-5, "\(small) ← \(large)")
        }
    }

    func testPermuteMatchesReference() {
        let cases: [([Int], [Int])] = [([3, 4], [1, 0]), ([2, 3, 4], [2, 0, 1]), ([2, 3, 4, 5], [0, 2, 3, 1]), ([2, 3, 4], [0, 1, 2]),
                                       ([1, 3, 1, 4], [3, 2, 1, 0]), ([300, 700], [1, 0])]
        for (shape, permutation) in cases {
            let x = randomArray(shape.reduce(1, *))
            var y = [Float](repeating: .nan, count: x.count)
            x.withUnsafeBufferPointer { px in y.withUnsafeMutableBufferPointer {
                Rearrangement.permute(px.baseAddress!, shape: shape, permutation: permutation, into: $0.baseAddress!)
            } }
            XCTAssertEqual(y, Reference.permute(x, shape, permutation), "\(shape) \(permutation)")
        }
    }

    func testConcatenateAndSplitMatchReference() {
        let shapes = [[2, 1, 3], [2, 4, 3], [2, 2, 3]], axis = 1
        let parts = shapes.map { randomArray($0.reduce(1, *)) }
        let blocks = shapes.map { $0[axis] * 3 }
        var y = [Float](repeating: .nan, count: parts.reduce(0) { $0 + $1.count })
        let buffers = parts.map { p -> UnsafeMutablePointer<Float> in
            let b = UnsafeMutablePointer<Float>.allocate(capacity: p.count); b.initialize(from: p, count: p.count); return b
        }
        defer { buffers.forEach { $0.deallocate() } }
        y.withUnsafeMutableBufferPointer {
            Rearrangement.concatenate(buffers.map { UnsafePointer($0) }, blockSizes: blocks, outer: 2, into: $0.baseAddress!)
        }
        XCTAssertEqual(y, Reference.concatenate(parts, shapes, axis: axis))
        let outputs = parts.map { p -> UnsafeMutablePointer<Float> in
            let b = UnsafeMutablePointer<Float>.allocate(capacity: p.count); b.initialize(repeating: .nan, count: p.count); return b
        }
        defer { outputs.forEach { $0.deallocate() } }
        y.withUnsafeBufferPointer { Rearrangement.split($0.baseAddress!, blockSizes: blocks, outer: 2, into: outputs) }
        for (k, p) in parts.enumerated() { XCTAssertEqual(Array(UnsafeBufferPointer(start: outputs[k], count: p.count)), p) }
    }

    func testGlobalAveragePoolingMatchesReference() {
        let planes = 6, size = 49
        let x = randomArray(planes * size), dy = randomArray(planes)
        var y = [Float](repeating: .nan, count: planes), dx = [Float](repeating: .nan, count: x.count)
        x.withUnsafeBufferPointer { px in y.withUnsafeMutableBufferPointer {
            GlobalPooling.averageForward(px.baseAddress!, planes: planes, planeSize: size, into: $0.baseAddress!)
        } }
        XCTAssertLessThan(zip(y, Reference.globalAveragePool(x, planes: planes, planeSize: size)).reduce(0) { max($0, abs($1.0 - $1.1)) }, 1e-6)
        dy.withUnsafeBufferPointer { pd in dx.withUnsafeMutableBufferPointer {
            GlobalPooling.averageBackward(pd.baseAddress!, planes: planes, planeSize: size, into: $0.baseAddress!)
        } }
        // The backward pass is the adjoint: ⟨dy, pool(x)⟩ = ⟨unpool(dy), x⟩.
        let lhs = zip(dy, y).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let rhs = zip(dx, x).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        XCTAssertEqual(lhs, rhs, accuracy: 1e-5 * max(1, abs(lhs)))
    }
}
