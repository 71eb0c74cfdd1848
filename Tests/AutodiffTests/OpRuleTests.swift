import XCTest
import Autodiff
import Kernels

/// One op configuration to run through the library's `checkRules`.
struct RuleCase {
    enum Family { case arithmetic, elementwise, unary, reduction, shape, layer, loss }
    let name: String
    let family: Family
    let inputs: [Tensor]
    var differentiable: [Int]? = nil
    var options = RuleCheckOptions()
    let f: ([Tensor]) throws -> Tensor
}

/// Every built-in primitive through the public rule checker: VJP against finite differences, JVP
/// against VJP, reverse-over-forward and reverse mode through the tangent. Inputs of ops with kinks
/// (ReLU, sign, clamp, max pool) stay more than the finite-difference step away from them.
final class OpRuleTests: XCTestCase {
    /// The cases (built afresh from a fixed seed on each call).
    static func cases() -> [RuleCase] {
        var r = TestInputs(seed: 2024)
        var cases: [RuleCase] = []
        func add(_ name: String, _ family: RuleCase.Family, _ inputs: [Tensor], differentiable: [Int]? = nil,
                 options: RuleCheckOptions = RuleCheckOptions(), _ f: @escaping ([Tensor]) throws -> Tensor) {
            cases.append(RuleCase(name: name, family: family, inputs: inputs, differentiable: differentiable, options: options, f: f))
        }

        // Broadcasting arithmetic: equal shapes (the fast path), broadcasting both ways, a scalar.
        let shapePairs: [([Int], [Int])] = [([3, 4], [3, 4]), ([2, 3, 4], [3, 1]), ([4], [2, 1, 4]), ([], [2, 3])]
        for (sa, sb) in shapePairs {
            let a = r.normal(sa), b = r.normal(sb), positive = r.uniform(sb, 0.5, 2)
            add("add \(sa) \(sb)", .arithmetic, [a, b]) { try $0[0] + $0[1] }
            add("subtract \(sa) \(sb)", .arithmetic, [a, b]) { try $0[0] - $0[1] }
            add("multiply \(sa) \(sb)", .arithmetic, [a, b]) { try $0[0] * $0[1] }
            add("divide \(sa) \(sb)", .arithmetic, [a, positive]) { try $0[0] / $0[1] }
            add("divide \(sb) \(sa)", .arithmetic, [positive, r.uniform(sa, 0.5, 2)]) { try $0[0] / $0[1] }
        }
        add("broadcasted(to:)", .arithmetic, [r.normal([3, 1])]) { try $0[0].broadcasted(to: [2, 3, 4]) }
        add("summed(toShape:)", .arithmetic, [r.normal([2, 3, 4])]) { try $0[0].summed(toShape: [3, 1]) }
        add("constant / tensor", .arithmetic, [r.uniform([5], 0.5, 2)]) { 2 / $0[0] }
        add("constant − tensor", .arithmetic, [r.normal([5])]) { 2 - $0[0] }
        add("tensor / constant, −tensor", .arithmetic, [r.normal([5])]) { -($0[0] / 4) }

        // Elementwise ops on the hot path and their helpers.
        let a = r.normal([3, 4]), kinked = r.normal([3, 4], margin: 0.1)
        add("scale", .elementwise, [a]) { $0[0].scaled(by: -2.5) }
        add("shift", .elementwise, [a]) { $0[0].adding(3) }
        add("relu", .elementwise, [kinked]) { $0[0].relu() }
        add("gate", .elementwise, [a, kinked], differentiable: [0]) { $0[0].gated(by: $0[1]) }
        add("sign", .elementwise, [kinked]) { $0[0].sign() }
        let clampInput = Tensor(shape: [8], scalars: [-1.2, -0.7, -0.3, 0.1, 0.2, 0.35, 0.8, 1.5])
        add("clamp", .elementwise, [clampInput]) { $0[0].clamped(to: -0.5, 0.5) }

        // Transcendental and other unary functions.
        let x = r.normal([3, 5], scale: 1.5), positive = r.uniform([3, 5], 0.5, 3)
        add("exp", .unary, [x]) { $0[0].exp() }
        add("log", .unary, [positive]) { $0[0].log() }
        add("tanh", .unary, [x]) { $0[0].tanh() }
        add("sigmoid", .unary, [x]) { $0[0].sigmoid() }
        add("gelu", .unary, [x]) { $0[0].gelu() }
        add("geluDerivative", .unary, [x]) { $0[0].geluDerivative() }
        add("softplus", .unary, [x]) { $0[0].softplus() }
        add("square", .unary, [x]) { $0[0].square() }
        add("sqrt", .unary, [positive]) { $0[0].sqrt() }
        add("tanh ∘ exp ∘ gelu (chain)", .unary, [r.normal([6])]) { $0[0].gelu().exp().tanh() }

        // Reductions.
        let t = r.normal([2, 3, 4])
        add("sum", .reduction, [t]) { $0[0].sum() }
        add("mean", .reduction, [t]) { $0[0].mean() }
        add("sum along [0, 2]", .reduction, [t]) { try $0[0].sum(alongAxes: [0, 2]) }
        add("sum along [-1] keeping dims", .reduction, [t]) { try $0[0].sum(alongAxes: [-1], keepingDimensions: true) }
        add("mean along [1] keeping dims", .reduction, [t]) { try $0[0].mean(alongAxes: [1], keepingDimensions: true) }
        add("globalAveragePool", .reduction, [r.normal([2, 3, 4, 5])]) { try globalAveragePool($0[0]) }

        // Shapes.
        add("reshape", .shape, [a]) { try $0[0].reshaped([2, 6]) }
        add("transpose [2, 0, 1]", .shape, [t]) { try $0[0].transposed(permutation: [2, 0, 1]) }
        add("transpose (matrix)", .shape, [a]) { try $0[0].transposed() }
        add("transpose NCHW→NHWC", .shape, [r.normal([2, 3, 2, 4])]) { try $0[0].transposed(permutation: [0, 2, 3, 1]) }
        add("concatenate axis 1", .shape, [r.normal([2, 1, 3]), r.normal([2, 4, 3]), r.normal([2, 2, 3])]) {
            try concatenate($0, alongAxis: 1)
        }
        add("concatenate axis -1", .shape, [r.normal([2, 3]), r.normal([2, 2])]) { try concatenate($0, alongAxis: -1) }

        // Layers.
        let features = r.normal([5, 7]), weight = r.normal([3, 7]), bias = r.normal([3])
        add("linear", .layer, [features, weight, bias]) { try linear($0[0], weight: $0[1], bias: $0[2]) }
        add("linear without bias", .layer, [features, weight]) { try linear($0[0], weight: $0[1], bias: nil) }
        for (stride, padding) in [(1, 1), (2, 1), (1, 0), (2, 0)] {
            let image = r.normal([2, 3, 6, 5]), kernel = r.normal([4, 3, 3, 3]), b = r.normal([4])
            add("conv2d stride \(stride) padding \(padding)", .layer, [image, kernel, b]) {
                try conv2d($0[0], weight: $0[1], bias: $0[2], stride: stride, padding: padding)
            }
        }
        add("avgPool2d", .layer, [r.normal([2, 3, 6, 4])]) { try avgPool2d($0[0]) }
        add("avgPool2d odd size", .layer, [r.normal([1, 2, 5, 5])]) { try avgPool2d($0[0]) }
        add("maxPool2d", .layer, [r.separated([2, 3, 6, 4])]) { try maxPool2d($0[0]) }
        add("maxPool2d ∘ relu ∘ conv2d", .layer, [r.normal([2, 2, 5, 5]), r.normal([3, 2, 3, 3])]) {
            // Reverse-over-forward across primitives: the gradient in x of J_W(x)·V, as the linearized model needs.
            try maxPool2d(conv2d($0[0], weight: $0[1], bias: nil, padding: 1).relu())
        }

        // Losses.
        let logits = r.normal([4, 10], scale: 2), labels: [Int32] = [1, 0, 9, 4]
        add("softmaxCrossEntropy", .loss, [logits]) { try softmaxCrossEntropy(logits: $0[0], labels: labels) }
        add("meanSquaredError", .loss, [logits, r.normal([4, 10])]) { try meanSquaredError(predictions: $0[0], targets: $0[1]) }
        add("binaryCrossEntropyWithLogits", .loss, [logits, r.uniform([4, 10], 0, 1)], differentiable: [0]) {
            try binaryCrossEntropyWithLogits(logits: $0[0], targets: $0[1])
        }
        return cases
    }

    /// Every built-in primitive, by its static member (a renamed or new primitive must be added here).
    static let builtIns: [Primitive] = [
        .add, .subtract, .multiply, .divide, .broadcast, .sumToShape,
        .scale, .shift, .relu, .gate, .sign, .clamp,
        .exp, .log, .tanh, .sigmoid, .gelu, .geluDerivative, .softplus, .square, .sqrt,
        .sum, .globalAveragePool, .reshape, .transpose, .concatenate,
        .linear, .conv2d, .averagePool, .maxPool, .maxPoolSelect,
        .softmaxCrossEntropy, .meanSquaredError, .binaryCrossEntropyWithLogits,
    ]

    func run(_ family: RuleCase.Family, file: StaticString = #filePath, line: UInt = #line) throws {
        let selected = Self.cases().filter { $0.family == family }
        XCTAssertFalse(selected.isEmpty, file: file, line: line)
        for c in selected {
            assertPasses(try checkRules(name: c.name, inputs: c.inputs, differentiable: c.differentiable, options: c.options, c.f),
                         file: file, line: line)
        }
    }

    func testArithmeticRules() throws { try run(.arithmetic) }
    func testElementwiseRules() throws { try run(.elementwise) }
    func testUnaryRules() throws { try run(.unary) }
    func testReductionRules() throws { try run(.reduction) }
    func testShapeRules() throws { try run(.shape) }
    func testLayerRules() throws { try run(.layer) }
    func testLossRules() throws { try run(.loss) }

    /// The cases reach every built-in primitive, in reverse mode or inside a JVP rule.
    func testEveryBuiltInPrimitiveIsChecked() throws {
        var reached = Set<String>()
        for c in Self.cases() {
            let indices = c.differentiable ?? Array(c.inputs.indices)
            var tracked = c.inputs, dual = c.inputs
            for i in indices {
                tracked[i] = c.inputs[i].requiringGradient()
                dual[i] = try c.inputs[i].withTangent(Tensor(repeating: 1, shape: c.inputs[i].shape).requiringGradient())
            }
            reached.formUnion(recordedPrimitives(try c.f(tracked)))
            if let tangent = try c.f(dual).tangent { reached.formUnion(recordedPrimitives(tangent)) }
        }
        let missing = Self.builtIns.map(\.name).filter { !reached.contains($0) }
        XCTAssertEqual(missing, [], "built-in primitives no rule check reaches")
    }
}
