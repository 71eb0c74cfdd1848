import XCTest
import Autodiff
import Kernels

/// Every primitive's VJP against central finite differences, and its JVP against its VJP through
/// the dot-product identity ⟨u, J v⟩ = ⟨Jᵀ u, v⟩.
final class OpRuleTests: XCTestCase {
    var rng = Xoshiro256(seed: 2024)

    /// Random values kept at least `margin` away from zero (so ReLU/sign/clamp kinks are not crossed
    /// by the finite-difference step).
    func random(_ shape: [Int], scale: Float = 1, margin: Float = 0) -> Tensor {
        let n = shape.reduce(1, *)
        var v = [Float](repeating: 0, count: n)
        for i in 0..<n {
            var x = Float(rng.nextNormal()) * scale
            while abs(x) < margin { x = Float(rng.nextNormal()) * scale }
            v[i] = x
        }
        return Tensor(shape: shape, scalars: v)
    }

    func dot(_ a: Tensor, _ b: Tensor) -> Double {
        zip(a.scalars, b.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }

    /// Checks op `f` at `inputs` for every input index listed in `differentiable`.
    func checkRules(_ name: String, _ inputs: [Tensor], differentiable: [Int]? = nil, eps: Float = 1e-2,
                    tolerance: Double = 5e-3, samples: Int = 12, _ f: ([Tensor]) -> Tensor,
                    file: StaticString = #filePath, line: UInt = #line) {
        let indices = differentiable ?? Array(inputs.indices)
        let y0 = f(inputs)
        let u = random(y0.shape)
        for i in indices {
            // Reverse mode.
            var tracked = inputs
            tracked[i] = inputs[i].requiringGradient()
            let grad = gradients(of: f(tracked), wrt: [tracked[i]], seed: u)[0]
            XCTAssertEqual(grad.shape, inputs[i].shape, "\(name): gradient shape", file: file, line: line)

            // Finite differences on sampled coordinates.
            let n = inputs[i].count
            for _ in 0..<min(samples, n) {
                let j = Int(rng.next() % UInt64(n))
                var plus = inputs, minus = inputs
                plus[i].withUnsafeMutablePointer { $0[j] += eps }
                minus[i].withUnsafeMutablePointer { $0[j] -= eps }
                let fd = (dot(u, f(plus)) - dot(u, f(minus))) / Double(2 * eps)
                let g = Double(grad.scalars[j])
                XCTAssertEqual(g, fd, accuracy: tolerance * max(1, abs(fd)),
                               "\(name): ∂/∂input\(i)[\(j)] VJP \(g) vs finite difference \(fd)", file: file, line: line)
            }

            // Forward mode: ⟨u, J v⟩ = ⟨Jᵀ u, v⟩.
            let v = random(inputs[i].shape)
            var dual = inputs
            dual[i] = inputs[i].withTangent(v)
            let out = f(dual)
            let jv = out.tangent ?? Tensor.zeros(out.shape)
            XCTAssertEqual(out.primal.scalars, y0.scalars, "\(name): value changed by tangent", file: file, line: line)
            let lhs = dot(u, jv), rhs = dot(grad, v)
            XCTAssertEqual(lhs, rhs, accuracy: 1e-4 * max(1, abs(rhs)),
                           "\(name): JVP/VJP identity for input \(i): \(lhs) vs \(rhs)", file: file, line: line)
        }
    }

    func testElementwiseRules() {
        let a = random([3, 4]), b = random([3, 4])
        checkRules("add", [a, b]) { $0[0] + $0[1] }
        checkRules("sub", [a, b]) { $0[0] - $0[1] }
        checkRules("mul", [a, b]) { $0[0] * $0[1] }
        checkRules("scaled", [a]) { $0[0].scaled(by: -2.5) }
        checkRules("adding", [a]) { $0[0].adding(3) }
        checkRules("reshaped", [a]) { $0[0].reshaped([2, 6]) }
        checkRules("sum", [a]) { $0[0].sum() }
        checkRules("mean", [a]) { $0[0].mean() }
        let kinked = random([3, 4], margin: 0.1)
        checkRules("relu", [kinked]) { $0[0].relu() }
        checkRules("gated", [a, kinked], differentiable: [0]) { $0[0].gated(by: $0[1]) }
        checkRules("sign", [kinked]) { $0[0].sign() }
        // Keep values away from the clamp bounds ±0.5.
        let clampInput = Tensor(shape: [8], scalars: [-1.2, -0.7, -0.3, 0.1, 0.2, 0.35, 0.8, 1.5])
        checkRules("clamped", [clampInput]) { $0[0].clamped(to: -0.5, 0.5) }
    }

    func testLinearRules() {
        let x = random([5, 7]), w = random([3, 7]), b = random([3])
        checkRules("linear", [x, w, b]) { linear($0[0], weight: $0[1], bias: $0[2]) }
        checkRules("linear without bias", [x, w]) { linear($0[0], weight: $0[1], bias: nil) }
    }

    func testConvolutionRules() {
        for (stride, padding) in [(1, 1), (2, 1), (1, 0)] {
            let x = random([2, 3, 6, 5]), w = random([4, 3, 3, 3]), b = random([4])
            checkRules("conv2d s\(stride) p\(padding)", [x, w, b]) {
                conv2d($0[0], weight: $0[1], bias: $0[2], stride: stride, padding: padding)
            }
        }
    }

    func testPoolingRules() {
        let x = random([2, 3, 6, 4])
        checkRules("avgPool2d", [x]) { avgPool2d($0[0]) }
        checkRules("maxPool2d", [x], eps: 1e-3, tolerance: 1e-2) { maxPool2d($0[0]) }
        let odd = random([1, 2, 5, 5])
        checkRules("avgPool2d odd size", [odd]) { avgPool2d($0[0]) }
    }

    func testLossRules() {
        let logits = random([4, 10], scale: 2)
        let labels: [Int32] = [1, 0, 9, 4]
        checkRules("softmaxCrossEntropy", [logits]) { softmaxCrossEntropy(logits: $0[0], labels: labels) }
        let targets = random([4, 10])
        checkRules("meanSquaredError", [logits, targets]) { meanSquaredError(predictions: $0[0], targets: $0[1]) }
    }

    /// Reverse mode through a forward-mode computation (what the linearized model needs): the
    /// gradient with respect to x of ⟨u, J_W f(W, x) · V⟩ against finite differences in x.
    func testReverseModeThroughJVP() {
        let x = random([2, 2, 5, 5]), w = random([3, 2, 3, 3]), v = random([3, 2, 3, 3])
        let u = random([2, 3 * 2 * 2])
        func directional(_ input: Tensor) -> Tensor {
            let out = maxPool2d(conv2d(input, weight: w.withTangent(v), bias: nil, padding: 1).relu())
            return (out.tangent!.flattenedBatch() * u).sum()
        }
        let (_, grad) = valueWithGradient(at: x, directional)
        let eps: Float = 1e-3
        for j in [0, 7, 23, 49, 77, 99] {
            var p = x, m = x
            p.withUnsafeMutablePointer { $0[j] += eps }
            m.withUnsafeMutablePointer { $0[j] -= eps }
            let fd = (Double(directional(p).scalar) - Double(directional(m).scalar)) / Double(2 * eps)
            XCTAssertEqual(Double(grad.scalars[j]), fd, accuracy: 1e-2 * max(1, abs(fd)))
        }
    }

    func testGradientOfUnusedInputIsZeroAndGraphIsIterative() {
        let a = Tensor(shape: [2], scalars: [1, 2]).requiringGradient()
        let unused = Tensor(shape: [3], scalars: [1, 2, 3]).requiringGradient()
        var y = a
        for _ in 0..<20_000 { y = y.adding(1) }  // deep graph: recursion would overflow the stack
        let g = gradients(of: y.sum(), wrt: [a, unused])
        XCTAssertEqual(g[0].scalars, [1, 1])
        XCTAssertEqual(g[1].scalars, [0, 0, 0])
    }

    func testGradientsAccumulateOverSharedUses() {
        let x = Tensor(shape: [3], scalars: [1, -2, 3])
        let (_, g) = valueWithGradient(at: x) { ($0 * $0 + $0).sum() }  // d/dx (x² + x) = 2x + 1
        XCTAssertEqual(g.scalars, [3, -3, 7])
    }
}

/// NaN must never be turned into an ordinary number by an op (silent corruption).
final class NaNPropagationTests: XCTestCase {
    func testReLUPropagatesNaN() {
        let y = Tensor(shape: [4], scalars: [.nan, -1, 2, -.infinity]).relu().scalars
        XCTAssertTrue(y[0].isNaN)
        XCTAssertEqual(Array(y[1...]), [0, 2, 0])
        XCTAssertFalse(Elementwise.allFinite([1, .nan, 3], count: 3))
        XCTAssertFalse(Elementwise.allFinite([Float](repeating: 1, count: 40) + [.infinity], count: 41))
        XCTAssertTrue(Elementwise.allFinite([Float](repeating: -2, count: 37), count: 37))
    }
}
