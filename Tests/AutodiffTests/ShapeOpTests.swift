import XCTest
import Autodiff
import Kernels

/// Values of the broadcasting, reduction and shape ops, and the ShapeErrors for bad shapes and axes
/// (never a trap).
final class ShapeOpTests: XCTestCase {
    var r = TestInputs(seed: 99)

    func testBroadcastingValuesMatchReference() throws {
        let pairs: [([Int], [Int])] = [([2, 3], [3]), ([2, 1, 4], [3, 1]), ([], [2, 2]), ([4, 1], [1, 5]), ([3, 4], [3, 4])]
        for (sa, sb) in pairs {
            let a = r.normal(sa), b = r.uniform(sb, 0.5, 2)
            let shape = try XCTUnwrap(StridedLayout.broadcastShape(sa, sb))
            let ops: [(BinaryOperation, Tensor)] = [(.add, try a + b), (.subtract, try a - b), (.multiply, try a * b), (.divide, try a / b)]
            for (op, y) in ops {
                XCTAssertEqual(y.shape, shape, "\(op) \(sa) \(sb)")
                XCTAssertEqual(y.scalars, Reference.broadcast(op, a.scalars, sa, b.scalars, sb, shape: shape), "\(op) \(sa) \(sb)")
            }
        }
        let x = Tensor(shape: [2], scalars: [1, 4])
        XCTAssertEqual((x + 1).scalars, [2, 5])
        XCTAssertEqual((1 - x).scalars, [0, -3])
        XCTAssertEqual((2 * x).scalars, [2, 8])
        XCTAssertEqual((x / 2).scalars, [0.5, 2])
        XCTAssertEqual((2 / x).scalars, [2, 0.5])
        XCTAssertEqual((-x).scalars, [-1, -4])
    }

    /// The error names the operation and both shapes.
    func testBroadcastingShapeErrorNamesBothShapes() {
        let a = Tensor.zeros([3, 4]), b = Tensor.zeros([5])
        let attempts: [(String, () throws -> Tensor)] = [("add", { try a + b }), ("subtract", { try a - b }),
                                                         ("multiply", { try a * b }), ("divide", { try a / b })]
        for (name, attempt) in attempts {
            XCTAssertThrowsError(try attempt()) { error in
                guard let e = error as? ShapeError else { return XCTFail("\(error)") }
                XCTAssertEqual(e.operation, name)
                XCTAssertEqual(e.shapes, [[3, 4], [5]])
                XCTAssertTrue(e.description.contains("[3, 4]") && e.description.contains("[5]"), e.description)
                XCTAssertTrue(e.description.contains("4 vs 5"), e.description)
            }
        }
        XCTAssertThrowsError(try Tensor.zeros([2, 3, 4]) + Tensor.zeros([2, 4])) { error in
            XCTAssertEqual((error as? ShapeError)?.shapes, [[2, 3, 4], [2, 4]])
            XCTAssertTrue("\(error)".contains("dimension -2 is 3 vs 2"), "\(error)")
        }
    }

    func testReductionsAndShapes() throws {
        let t = r.normal([2, 3, 4])
        XCTAssertEqual(try t.sum(alongAxes: [0, 2]).shape, [3])
        XCTAssertEqual(try t.sum(alongAxes: [0, 2]).scalars, Reference.sum(t.scalars, [2, 3, 4], to: [1, 3, 1]))
        XCTAssertEqual(try t.sum(alongAxes: [-1], keepingDimensions: true).shape, [2, 3, 1])
        XCTAssertEqual(try t.sum(alongAxes: []).scalars, t.scalars)
        let mean = try t.mean(alongAxes: [1])
        XCTAssertEqual(mean.shape, [2, 4])
        XCTAssertLessThan(maxRelativeDifference(mean.scalars, Reference.sum(t.scalars, [2, 3, 4], to: [2, 1, 4]).map { $0 / 3 }), 1e-6)
        XCTAssertEqual(try t.broadcasted(to: [5, 2, 3, 4]).shape, [5, 2, 3, 4])
        XCTAssertEqual(try t.transposed(permutation: [2, 0, 1]).scalars, Reference.permute(t.scalars, [2, 3, 4], [2, 0, 1]))
        XCTAssertEqual(try t.transposed().shape, [4, 3, 2])
        let parts = [r.normal([2, 1, 4]), r.normal([2, 2, 4])]
        XCTAssertEqual(try concatenate(parts, alongAxis: 1).scalars,
                       Reference.concatenate(parts.map(\.scalars), parts.map(\.shape), axis: 1))
        let image = r.normal([2, 3, 4, 5])
        XCTAssertEqual(try globalAveragePool(image).shape, [2, 3])
        XCTAssertLessThan(maxRelativeDifference(try globalAveragePool(image).scalars,
                                                Reference.globalAveragePool(image.scalars, planes: 6, planeSize: 20)), 1e-6)
    }

    func testBadShapesAndAxesThrowShapeErrors() {
        let t = Tensor.zeros([2, 3, 4])
        let attempts: [(String, () throws -> Tensor)] = [
            ("sum", { try t.sum(alongAxes: [3]) }),
            ("sum", { try t.sum(alongAxes: [-4]) }),
            ("sum", { try t.sum(alongAxes: [1, -2]) }),
            ("mean", { try t.mean(alongAxes: [5]) }),
            ("transpose", { try t.transposed(permutation: [0, 1]) }),
            ("transpose", { try t.transposed(permutation: [0, 1, 1]) }),
            ("transpose", { try t.transposed(permutation: [0, 1, 3]) }),
            ("concatenate", { try concatenate([], alongAxis: 0) }),
            ("concatenate", { try concatenate([t, Tensor.zeros([2, 3, 5])], alongAxis: 1) }),
            ("concatenate", { try concatenate([t, Tensor.zeros([2, 3])], alongAxis: 0) }),
            ("concatenate", { try concatenate([t], alongAxis: 3) }),
            ("broadcast", { try t.broadcasted(to: [2, 5, 4]) }),
            ("broadcast", { try t.broadcasted(to: [3, 4]) }),
            ("sumToShape", { try t.summed(toShape: [5, 4]) }),
            ("sumToShape", { try t.summed(toShape: [1, 2, 3, 4]) }),
            ("globalAveragePool", { try globalAveragePool(t) }),
            ("reshape", { try t.reshaped([5, 5]) }),
        ]
        for (operation, attempt) in attempts {
            XCTAssertThrowsError(try attempt(), operation) { error in
                XCTAssertEqual((error as? ShapeError)?.operation, operation, "\(error)")
            }
        }
    }
}
