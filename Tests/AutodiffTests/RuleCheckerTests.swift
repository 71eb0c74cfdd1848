import XCTest
import Foundation
import Autodiff
import Kernels

/// The rule checker on user primitives with broken rules: it must flag each kind of mistake, and
/// the core must raise the matching error when the broken rule is used.
final class RuleCheckerTests: XCTestCase {
    let naiveTanhPrimitive = Primitive("naiveTanh")

    /// tanh as a user would write it on raw buffers: correct VJP, and a JVP rule that is correct in
    /// value but computed from raw buffers, so it returns a plain tensor reverse mode cannot follow.
    func naiveTanh(_ x: Tensor) -> Tensor {
        let y = Tensor(shape: x.shape, scalars: x.scalars.map { Foundation.tanh($0) })
        let slope: (Tensor) -> Tensor = { g in Tensor(shape: g.shape, scalars: zip(g.scalars, y.scalars).map { $0 * (1 - $1 * $1) }) }
        return Tensor.record(y, primitive: naiveTanhPrimitive, inputs: [x],
                             pullback: { g, _ in [slope(g)] },
                             tangent: { t in t[0].map(slope) })
    }

    /// The reported bug: duality passes, reverse-over-forward silently gives 0 where finite
    /// differences give a clearly nonzero value. The checker flags it, and the core raises
    /// `.nonDifferentiableTangent` when reverse mode runs through the tangent.
    func testNaiveTanhJVPIsFlagged() throws {
        var r = TestInputs(seed: 1)
        let x = r.normal([3, 4])
        let report = try checkRules(name: "naiveTanh", inputs: [x]) { self.naiveTanh($0[0]) }
        XCTAssertFalse(report.passed)
        XCTAssertTrue(report.checks(.reverseVersusFiniteDifferences).allSatisfy(\.passed), report.table)
        XCTAssertTrue(report.checks(.forwardVersusReverse).allSatisfy(\.passed), report.table)
        let overForward = report.checks(.reverseOverForward)
        XCTAssertFalse(overForward.isEmpty)
        XCTAssertTrue(overForward.allSatisfy { $0.measured == 0 }, "reverse mode cannot see the plain tangent: \(report.table)")
        XCTAssertTrue(overForward.contains { !$0.passed && abs($0.expected ?? 0) > 0.01 }, report.table)
        XCTAssertEqual(report.errors, [.nonDifferentiableTangent(primitive: "naiveTanh")], report.table)
        XCTAssertTrue(report.description.contains("reverse-over-forward"), report.description)

        // The built-in tanh passes everything on the same input.
        assertPasses(try checkRules(name: "tanh", inputs: [x]) { $0[0].tanh() })

        // Directly: the silent zero …
        let leaf = x.requiringGradient()
        let v = Tensor(repeating: 1, shape: x.shape)
        let silent = try gradients(of: try XCTUnwrap(try naiveTanh(leaf.withTangent(v)).tangent), wrt: [leaf],
                                   allowUnconnected: true)[0]
        XCTAssertEqual(silent.scalars, [Float](repeating: 0, count: x.count))
        let right = try gradients(of: try XCTUnwrap(try leaf.withTangent(v).tanh().tangent), wrt: [leaf])[0]
        XCTAssertGreaterThan(right.scalars.map(abs).max() ?? 0, 0.01)
        // … and the error once the tangent itself is tracked.
        let trackedTangent = v.requiringGradient()
        let out = naiveTanh(try x.withTangent(trackedTangent))
        XCTAssertThrowsError(try gradients(of: try XCTUnwrap(try out.tangent), wrt: [trackedTangent])) { error in
            XCTAssertEqual(error as? AutodiffError, .nonDifferentiableTangent(primitive: "naiveTanh"))
        }
    }

    func testMissingVJPRuleIsReported() throws {
        let p = Primitive("noVJP")
        let f: (Tensor) -> Tensor = { x in
            Tensor.record(x.detached.scaled(by: 3), primitive: p, inputs: [x], pullback: nil, tangent: { t in t[0]?.scaled(by: 3) })
        }
        let x = Tensor(shape: [4], scalars: [1, -2, 3, 0.5])
        let report = try checkRules(name: "noVJP", inputs: [x]) { f($0[0]) }
        XCTAssertFalse(report.passed)
        XCTAssertEqual(report.errors, [.missingRule(primitive: "noVJP", mode: .reverse)], report.table)
        XCTAssertTrue(report.checks(.reverseVersusFiniteDifferences).contains { $0.autodiffError == .missingRule(primitive: "noVJP", mode: .reverse) })
        // Forward mode alone still works, and is checked against finite differences.
        XCTAssertTrue(report.checks(.tangentTranspose).allSatisfy(\.passed), report.table)
        let leaf = x.requiringGradient()
        XCTAssertThrowsError(try gradients(of: f(leaf), wrt: [leaf])) { error in
            XCTAssertEqual(error as? AutodiffError, .missingRule(primitive: "noVJP", mode: .reverse))
        }
    }

    func testMissingJVPRuleIsReported() throws {
        let p = Primitive("noJVP")
        let f: (Tensor) -> Tensor = { x in
            Tensor.record(x.detached.scaled(by: 3), primitive: p, inputs: [x], pullback: { g, _ in [g.scaled(by: 3)] }, tangent: nil)
        }
        let x = Tensor(shape: [4], scalars: [1, -2, 3, 0.5])
        let report = try checkRules(name: "noJVP", inputs: [x]) { f($0[0]) }
        XCTAssertFalse(report.passed)
        XCTAssertTrue(report.checks(.reverseVersusFiniteDifferences).allSatisfy(\.passed), report.table)
        XCTAssertEqual(report.errors, [.missingRule(primitive: "noJVP", mode: .forward)], report.table)
        for kind in [RuleCheckKind.forwardVersusReverse, .reverseOverForward, .tangentTranspose] {
            XCTAssertTrue(report.checks(kind).contains { $0.autodiffError == .missingRule(primitive: "noJVP", mode: .forward) }, "\(kind)")
        }
        XCTAssertThrowsError(try jvp(at: x, tangent: x) { f($0) }) { error in
            XCTAssertEqual(error as? AutodiffError, .missingRule(primitive: "noJVP", mode: .forward))
        }
    }

    /// A VJP off by a factor and a JVP with the wrong sign are each caught by their own check.
    func testWrongRulesAreCaught() throws {
        let x = Tensor(shape: [5], scalars: [0.3, -1.1, 2.0, 0.7, -0.4])
        let wrongVJP = try checkRules(name: "wrongVJP", inputs: [x]) { x in
            Tensor.record(x[0].detached.square(), primitive: Primitive("wrongVJP"), inputs: [x[0]],
                          pullback: { g, _ in [try g * x[0].detached] },  // should be 2 g x
                          tangent: { t in try t[0].map { try $0 * (x[0].primal * 2) } })
        }
        XCTAssertFalse(wrongVJP.checks(.reverseVersusFiniteDifferences).contains(where: \.passed), wrongVJP.table)
        XCTAssertFalse(wrongVJP.checks(.forwardVersusReverse).contains(where: \.passed), wrongVJP.table)
        XCTAssertTrue(wrongVJP.checks(.tangentTranspose).allSatisfy(\.passed), wrongVJP.table)

        let wrongJVP = try checkRules(name: "wrongJVP", inputs: [x]) { x in
            Tensor.record(x[0].detached.square(), primitive: Primitive("wrongJVP"), inputs: [x[0]],
                          pullback: { g, _ in [try g * x[0].detached * 2] },
                          tangent: { t in try t[0].map { try $0 * (x[0].primal * -2) } })
        }
        XCTAssertTrue(wrongJVP.checks(.reverseVersusFiniteDifferences).allSatisfy(\.passed), wrongJVP.table)
        XCTAssertFalse(wrongJVP.checks(.forwardVersusReverse).contains(where: \.passed), wrongJVP.table)
        XCTAssertFalse(wrongJVP.checks(.tangentTranspose).contains(where: \.passed), wrongJVP.table)
    }

    func testReportAPI() throws {
        let x = Tensor(shape: [3], scalars: [0.2, -0.5, 1.0])
        let good = try checkRules(name: "exp", inputs: [x]) { $0[0].exp() }
        XCTAssertNoThrow(try good.requirePassing())
        XCTAssertTrue(good.description.hasPrefix("checkRules(exp): all"), good.description)
        XCTAssertEqual(Set(good.checks.map(\.kind)), Set(RuleCheckKind.allCases))
        for check in good.checks where check.coordinate != nil {
            XCTAssertNotNil(check.measured)
            XCTAssertNotNil(check.expected)
            XCTAssertGreaterThan(check.tolerance, 0)
        }

        let bad = try checkRules(name: "naiveTanh", inputs: [x]) { self.naiveTanh($0[0]) }
        XCTAssertThrowsError(try bad.requirePassing()) { error in
            let failure = error as? RuleCheckFailure
            XCTAssertNotNil(failure)
            XCTAssertTrue("\(error)".contains("FAIL"), "\(error)")
            XCTAssertEqual(failure?.report.failures.count, bad.failures.count)
        }
        // Asking for an input that does not exist is an error, not a trap.
        XCTAssertThrowsError(try checkRules(name: "exp", inputs: [x], differentiable: [1]) { $0[0].exp() }) { error in
            XCTAssertTrue(error is ShapeError, "\(error)")
        }
        // A function that cannot run on its inputs: its own error comes through.
        XCTAssertThrowsError(try checkRules(name: "bad shapes", inputs: [x, Tensor.zeros([2])]) { try $0[0] + $0[1] }) { error in
            XCTAssertEqual((error as? ShapeError)?.operation, "add")
        }
    }
}
