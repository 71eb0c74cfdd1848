import XCTest
import Autodiff
import Kernels
import NN
import NTK

/// The NTK engine on models beyond a flat chain of known layers: residual nets, nested containers,
/// user-defined primitives and modules, shared and transformed parameters — each against the
/// brute-force Jacobian — and cross kernels against slices of the joint kernel.
final class OpenModelNTKTests: XCTestCase {
    func relativeError(_ a: [Float], _ b: [Float]) -> Double {
        var diff = 0.0, norm = 0.0
        for (x, y) in zip(a, b) { diff += Double(x - y) * Double(x - y); norm += Double(y) * Double(y) }
        XCTAssertGreaterThan(norm, 0, "reference kernel is zero: the test network is dead")
        return (diff / norm).squareRoot()
    }

    func assertMatchesBruteForce(_ model: Module, _ x: Tensor, tolerance: Double = 1e-5,
                                 file: StaticString = #filePath, line: UInt = #line) throws {
        for kind in KernelKind.allCases {
            let engine = try EmpiricalNTK.compute(model, inputs: x, options: .init(kind: kind))
            let brute = try EmpiricalNTK.bruteForce(model, inputs: x, kind: kind)
            XCTAssertEqual(engine.n, brute.n, file: file, line: line)
            XCTAssertLessThan(relativeError(engine.values, brute.values), tolerance, "\(kind)", file: file, line: line)
        }
    }

    /// A small ResNet: a conv stem, an identity residual block, a strided block with a 1×1 projection
    /// shortcut, global average pooling and a dense head.
    static func smallResNet(_ rng: inout Xoshiro256) -> Sequential {
        func block(_ cin: Int, _ cout: Int, stride: Int, _ rng: inout Xoshiro256) -> Residual {
            let body = Sequential([
                ("conv1", Conv2D(inChannels: cin, outChannels: cout, stride: stride, padding: 1, rng: &rng)), ("relu", ReLU()),
                ("conv2", Conv2D(inChannels: cout, outChannels: cout, rng: &rng)),
            ])
            let shortcut = stride == 1 && cin == cout ? nil
                : Conv2D(inChannels: cin, outChannels: cout, kernelSize: 1, stride: stride, padding: 0, rng: &rng)
            return Residual(body, shortcut: shortcut)
        }
        return Sequential([
            ("stem", Conv2D(inChannels: 2, outChannels: 4, rng: &rng)), ("relu0", ReLU()),
            ("block1", block(4, 4, stride: 1, &rng)), ("relu1", ReLU()),
            ("block2", block(4, 6, stride: 2, &rng)), ("relu2", ReLU()),
            ("pool", GlobalAveragePooling()),
            ("fc", Dense(inputs: 6, outputs: 3, rng: &rng)),
        ])
    }

    func testResNetWithTwoResidualBlocksAndGlobalPooling() throws {
        var rng = Xoshiro256(seed: 11)
        let model = Self.smallResNet(&rng)
        XCTAssertTrue(model.namedParameters.map(\.name).contains("block2.shortcut.weight"))
        XCTAssertTrue(model.namedParameters.map(\.name).contains("block1.body.conv2.bias"))
        try assertMatchesBruteForce(model, Initializers.normal([4, 2, 8, 8], rng: &rng))
    }

    func testNestedContainers() throws {
        var rng = Xoshiro256(seed: 12)
        let model = Sequential([
            ("features", Sequential([
                ("conv", Conv2D(inChannels: 1, outChannels: 3, rng: &rng)), ("relu", ReLU()), ("pool", AvgPool2D()),
                ("inner", Sequential([("conv", Conv2D(inChannels: 3, outChannels: 2, rng: &rng)), ("relu", ReLU())])),
            ])),
            ("head", Sequential([("flatten", Flatten()), ("fc", Dense(inputs: 2 * 4 * 4, outputs: 4, rng: &rng))])),
        ])
        XCTAssertEqual(model.namedParameters.map(\.name),
                       ["features.conv.weight", "features.conv.bias", "features.inner.conv.weight", "features.inner.conv.bias",
                        "head.fc.weight", "head.fc.bias"])
        try assertMatchesBruteForce(model, Initializers.normal([3, 1, 8, 8], rng: &rng).adding(0.3))
    }

    func testUserPrimitiveAndUserModule() throws {
        var rng = Xoshiro256(seed: 13)
        let model = Sequential([
            ("fc1", Dense(inputs: 5, outputs: 6, rng: &rng)),
            ("gain", FeatureGain(features: 6, rng: &rng)),
            ("act", SoftsignActivation()),
            ("fc2", Dense(inputs: 6, outputs: 3, rng: &rng)),
        ])
        XCTAssertEqual(model.namedParameters.map(\.name), ["fc1.weight", "fc1.bias", "gain.scale", "fc2.weight", "fc2.bias"])
        try assertMatchesBruteForce(model, Initializers.normal([4, 5], rng: &rng))
        // The user's pieces pass the checks the built-in primitives pass.
        let x = Initializers.normal([3, 6], rng: &rng)
        try checkRules(name: "softsign", inputs: [x]) { try SoftsignActivation()($0[0]) }.requirePassing()
        try checkRules(name: "featureGain", inputs: [x, Initializers.normal([6], rng: &rng)]) { try featureGain($0[0], $0[1]) }
            .requirePassing()
    }

    func testSharedAndTransformedParameters() throws {
        var rng = Xoshiro256(seed: 14)
        // One Dense applied twice (weight sharing) and a weight used as 2·v: both take the general rule.
        let model = TiedNetwork(rng: &rng)
        // A module's own parameters come before its children's, as in PyTorch.
        XCTAssertEqual(model.namedParameters.map(\.name), ["v", "shared.weight", "shared.bias", "head.weight", "head.bias"])
        try assertMatchesBruteForce(model, Initializers.normal([3, 4], rng: &rng))
    }

    func testCrossKernelsAreSlicesOfTheJointKernel() throws {
        var rng = Xoshiro256(seed: 15)
        let models: [Module] = [Self.smallResNet(&rng), TiedNetwork(rng: &rng)]
        let inputs: [(Tensor, Tensor)] = [
            (Initializers.normal([3, 2, 8, 8], rng: &rng), Initializers.normal([2, 2, 8, 8], rng: &rng)),
            (Initializers.normal([3, 4], rng: &rng), Initializers.normal([2, 4], rng: &rng)),
        ]
        for (model, (x1, x2)) in zip(models, inputs) {
            let joint = try concatenateRows(x1, x2)
            for kind in KernelKind.allCases {
                let k = try EmpiricalNTK.compute(model, inputs: joint, options: .init(kind: kind))
                let per = kind == .full ? k.classCount! : 1
                // The smallest budget the cross kernel takes (what it says it needs at a tiny one)
                // forces row blocks of one sample.
                var smallest = 0
                XCTAssertThrowsError(try EmpiricalNTK.cross(model, x1, x2, options: .init(kind: kind, memoryBudgetBytes: 1))) {
                    if case NTKError.exceedsMemoryBudget(let needed, _, _) = $0 { smallest = needed }
                }
                XCTAssertGreaterThan(smallest, 0)
                for budget in [4 << 30, smallest] {
                    let cross = try EmpiricalNTK.cross(model, x1, x2, options: .init(kind: kind, memoryBudgetBytes: budget))
                    XCTAssertEqual(cross.rows, 3 * per)
                    XCTAssertEqual(cross.columns, 2 * per)
                    var slice: [Float] = []
                    for r in 0..<(3 * per) { for c in 0..<(2 * per) { slice.append(k[r, 3 * per + c]) } }
                    XCTAssertLessThan(relativeError(cross.values, slice), 1e-5, "\(type(of: model)) \(kind) budget \(budget)")
                }
            }
        }
    }

    func testCrossKernelOfABatchWithItselfIsTheKernel() throws {
        var rng = Xoshiro256(seed: 16)
        let model = Self.smallResNet(&rng)
        let x = Initializers.normal([3, 2, 8, 8], rng: &rng)
        let k = try EmpiricalNTK.compute(model, inputs: x)
        let cross = try EmpiricalNTK.cross(model, x, x)
        XCTAssertLessThan(relativeError(cross.values, k.values), 1e-6)
    }

    func testLinearizedModelKernelIsTheKernelAtTheAnchor() throws {
        var rng = Xoshiro256(seed: 17)
        let model = Self.smallResNet(&rng)
        let x = Initializers.normal([3, 2, 8, 8], rng: &rng)
        let atAnchor = try EmpiricalNTK.compute(model, inputs: x)
        let linearized = LinearizedModel(network: model)
        for (_, p) in model.trainableParameters { p.value = p.value.adding(0.05) }
        let k = try EmpiricalNTK.compute(linearized, inputs: x)
        XCTAssertEqual(k.values, atAnchor.values)
    }

    func testOutputWithoutABatchAxisIsRefused() throws {
        var rng = Xoshiro256(seed: 18)
        let model = Sequential([("fc", Dense(inputs: 3, outputs: 2, rng: &rng)), ("flat", Flatten())])
        let wrong = Sequential([("fc", Dense(inputs: 3, outputs: 2, rng: &rng)), ("sum", SumAll())])
        XCTAssertNoThrow(try EmpiricalNTK.compute(model, inputs: Initializers.normal([2, 3], rng: &rng)))
        XCTAssertThrowsError(try EmpiricalNTK.compute(wrong, inputs: Initializers.normal([2, 3], rng: &rng))) { error in
            XCTAssertTrue("\(error)".contains("[2, classes]"), "\(error)")
        }
    }

    func concatenateRows(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        var shape = a.shape
        shape[0] += b.shape[0]
        return Tensor(shape: shape, scalars: a.scalars + b.scalars)
    }
}

// MARK: - User-defined pieces

/// A user's primitive: y[n, f] = x[n, f] · s[f], with hand-written rules.
func featureGain(_ x: Tensor, _ s: Tensor) throws -> Tensor {
    guard x.rank == 2, s.shape == [x.shape[1]] else { throw ShapeError("featureGain", "needs x [N, F] and s [F]", shapes: [x.shape, s.shape]) }
    let (n, f) = (x.shape[0], x.shape[1])
    let xv = x.scalars, sv = s.scalars
    let y = Tensor(shape: x.shape, scalars: (0..<(n * f)).map { xv[$0] * sv[$0 % f] })
    return Tensor.record(y, primitive: Primitive("featureGain"), inputs: [x, s], pullback: { g, needs in
        let gv = g.scalars
        let dx = needs[0] ? Tensor(shape: [n, f], scalars: (0..<(n * f)).map { gv[$0] * sv[$0 % f] }) : nil
        var ds = [Float](repeating: 0, count: f)
        if needs[1] { for k in 0..<(n * f) { ds[k % f] += gv[k] * xv[k] } }
        return [dx, needs[1] ? Tensor(shape: [f], scalars: ds) : nil]
    }, tangent: { t in
        // Bilinear: d(x·s) = dx·s + x·ds, each term the primitive itself (so it stays differentiable).
        let a = try t[0].map { try featureGain($0, s.primal) }
        let b = try t[1].map { try featureGain(x.primal, $0) }
        switch (a, b) {
        case let (a?, b?): return try a + b
        default: return a ?? b
        }
    })
}

/// A user's module holding a parameter and calling a user primitive.
final class FeatureGain: Module {
    let scale: Parameter
    init(features: Int, rng: inout Xoshiro256) { scale = Parameter(Initializers.normal([features], rng: &rng).adding(1)) }
    func callAsFunction(_ input: Tensor) throws -> Tensor { try featureGain(input, scale.value) }
}

/// A user's activation as a primitive: softsign x / (1 + |x|), derivative 1 / (1 + |x|)². The VJP works on
/// plain values; the JVP is written with differentiable ops (|x| = x·sign(x), sign's derivative being zero)
/// so that reverse-over-forward is right too.
final class SoftsignActivation: Module {
    func callAsFunction(_ input: Tensor) throws -> Tensor {
        let xv = input.scalars
        let y = Tensor(shape: input.shape, scalars: xv.map { $0 / (1 + abs($0)) })
        let slope = Tensor(shape: input.shape, scalars: xv.map { 1 / ((1 + abs($0)) * (1 + abs($0))) })
        return Tensor.record(y, primitive: Primitive("softsign"), inputs: [input],
                             pullback: { g, _ in [try g * slope] },
                             tangent: { t in
                                 guard let dx = t[0] else { return nil }
                                 let x = input.primal
                                 let denominator = try (x * x.sign()).adding(1)
                                 return try dx / (denominator * denominator)
                             })
    }
}

/// Weight sharing and a transformed parameter: head(relu(shared(relu(shared(x)))) + x·(2v)ᵀ).
final class TiedNetwork: Module {
    let shared: Dense
    let v: Parameter
    let head: Dense
    init(rng: inout Xoshiro256) {
        shared = Dense(weight: Initializers.normal([4, 4], std: 0.6, rng: &rng), bias: Initializers.normal([4], std: 0.2, rng: &rng))
        v = Parameter(Initializers.normal([4, 4], std: 0.4, rng: &rng))
        head = Dense(inputs: 4, outputs: 3, rng: &rng)
    }
    func callAsFunction(_ x: Tensor) throws -> Tensor {
        let h = try shared(try shared(x).relu()).relu()
        let projected = try linear(x, weight: v.value.scaled(by: 2), bias: nil)
        return try head(try h + projected)
    }
}

/// Sums everything: an output with no batch axis.
final class SumAll: Module {
    func callAsFunction(_ input: Tensor) throws -> Tensor { input.sum() }
}
