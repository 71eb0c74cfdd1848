import XCTest
import Autodiff
import Kernels

/// `gradients(of:wrt:)` and friends: unconnected inputs, deep graphs, accumulation, NaN.
final class GradientAPITests: XCTestCase {
    func testUnconnectedInputThrowsUnlessAllowed() throws {
        let a = Tensor(shape: [2], scalars: [1, 2]).requiringGradient()
        let unused = Tensor(shape: [3], scalars: [1, 2, 3]).requiringGradient()
        let y = try (a * a).sum()
        XCTAssertThrowsError(try gradients(of: y, wrt: [a, unused])) { error in
            XCTAssertEqual(error as? AutodiffError, .notConnected(index: 1, shape: [3]))
        }
        let g = try gradients(of: y, wrt: [a, unused], allowUnconnected: true)
        XCTAssertEqual(g[0].scalars, [2, 4])
        XCTAssertEqual(g[1].scalars, [0, 0, 0])
        // An output computed from nothing that requires gradients: every input is unconnected.
        let constant = Tensor(shape: [2], scalars: [5, 6]).sum()
        XCTAssertThrowsError(try gradients(of: constant, wrt: [a])) { error in
            XCTAssertEqual(error as? AutodiffError, .notConnected(index: 0, shape: [2]))
        }
        XCTAssertEqual(try gradients(of: constant, wrt: [a], allowUnconnected: true)[0].scalars, [0, 0])
    }

    func testDeepGraphIsWalkedIteratively() throws {
        let a = Tensor(shape: [2], scalars: [1, 2]).requiringGradient()
        var y = a
        for _ in 0..<20_000 { y = y.adding(1) }  // recursion would overflow the stack
        XCTAssertEqual(try gradients(of: y.sum(), wrt: [a])[0].scalars, [1, 1])
    }

    func testGradientsAccumulateOverSharedUses() throws {
        let x = Tensor(shape: [3], scalars: [1, -2, 3])
        let (_, g) = try valueWithGradient(at: x) { try ($0 * $0 + $0).sum() }  // d/dx (x² + x) = 2x + 1
        XCTAssertEqual(g.scalars, [3, -3, 7])
    }

    /// The VJP of a broadcast operand sums over the broadcast axes.
    func testBroadcastGradientSumsOverBroadcastAxes() throws {
        let x = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let b = Tensor(shape: [3], scalars: [10, 20, 30]).requiringGradient()
        let y = try (x * b).sum()
        XCTAssertEqual(try gradients(of: y, wrt: [b])[0].scalars, [5, 7, 9])
        let c = Tensor(shape: [2, 1], scalars: [1, 1]).requiringGradient()
        XCTAssertEqual(try gradients(of: try (x + c).sum(), wrt: [c])[0].shape, [2, 1])
        XCTAssertEqual(try gradients(of: try (x + c).sum(), wrt: [c])[0].scalars, [3, 3])
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

    func testUnaryOpsPropagateNaN() {
        let x = Tensor(shape: [3], scalars: [.nan, 1, .nan])
        for (name, y) in [("exp", x.exp()), ("log", x.log()), ("tanh", x.tanh()), ("sigmoid", x.sigmoid()),
                          ("gelu", x.gelu()), ("softplus", x.softplus()), ("square", x.square()), ("sqrt", x.sqrt())] {
            XCTAssertTrue(y.scalars[0].isNaN && y.scalars[2].isNaN, name)
            XCTAssertFalse(y.scalars[1].isNaN, name)
        }
    }
}
