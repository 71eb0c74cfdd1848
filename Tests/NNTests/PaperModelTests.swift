import XCTest
import Autodiff
import Kernels
import NN

/// The paper's models: sizes, names, layouts, initialisation, and whole-network gradients against
/// finite differences.
final class PaperModelTests: XCTestCase {
    func testParameterCountsAndNames() throws {
        var rng = Xoshiro256(seed: 0)
        let mnist = PaperModels.mnistCNN(rng: &rng)
        XCTAssertEqual(mnist.parameterCount, 824_458)
        XCTAssertEqual(mnist.namedParameters.map(\.name),
                       ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias",
                        "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"])
        XCTAssertEqual(mnist.parameter(named: "conv2.weight")?.value.shape, [64, 32, 3, 3])
        XCTAssertEqual(mnist.parameter(named: "fc1.weight")?.value.shape, [256, 3136])
        let cifar = PaperModels.cifarCNN(rng: &rng)
        XCTAssertEqual(cifar.parameterCount, 368_938)
        XCTAssertEqual(cifar.parameter(named: "fc1.weight")?.value.shape, [10, 8192])
        XCTAssertEqual(try mnist(Tensor.zeros([2, 1, 28, 28])).shape, [2, 10])
        XCTAssertEqual(try cifar(Tensor.zeros([2, 3, 32, 32])).shape, [2, 10])
    }

    func testWrongInputsThrowAShapeErrorNamingTheLayer() throws {
        var rng = Xoshiro256(seed: 0)
        let mnist = PaperModels.mnistCNN(rng: &rng)
        XCTAssertThrowsError(try mnist(Tensor.zeros([2, 3, 28, 28]))) { error in
            XCTAssertEqual((error as? ShapeError)?.modulePath, ["conv1"], "\(error)")
        }
        // 32×32 images get through the convolutions and fail at the first dense layer.
        XCTAssertThrowsError(try mnist(Tensor.zeros([2, 1, 32, 32]))) { error in
            XCTAssertEqual((error as? ShapeError)?.modulePath, ["fc1"], "\(error)")
            XCTAssertTrue("\(error)".hasPrefix("fc1: "), "\(error)")
        }
        XCTAssertThrowsError(try mnist.lossAndGradients {
            try softmaxCrossEntropy(logits: try mnist(Tensor.zeros([2, 1, 28, 28])), labels: [1])
        })
        XCTAssertFalse(mnist.namedParameters.contains { $0.parameter.value.requiresGradient },
                       "parameters must be plain again after a failed loss")
    }

    func testInitialisationIsTruncatedLeCunNormalWithZeroBias() {
        var rng = Xoshiro256(seed: 3)
        let model = PaperModels.mnistCNN(rng: &rng)
        let w = model.parameter(named: "fc1.weight")!.value.scalars
        let std = (w.reduce(0) { $0 + Double($1) * Double($1) } / Double(w.count)).squareRoot()
        XCTAssertEqual(std, (1.0 / 3136).squareRoot(), accuracy: 0.01 * (1.0 / 3136).squareRoot())
        let bound = Float(2 * (1.0 / 3136).squareRoot() / Initializers.truncatedNormalStd)
        XCTAssertTrue(w.allSatisfy { abs($0) <= bound * 1.0001 })
        XCTAssertTrue(model.parameter(named: "conv1.bias")!.value.scalars.allSatisfy { $0 == 0 })
        // Same seed, same model.
        var again = Xoshiro256(seed: 3)
        XCTAssertEqual(PaperModels.mnistCNN(rng: &again).parameter(named: "conv2.weight")!.value.scalars,
                       model.parameter(named: "conv2.weight")!.value.scalars)
    }

    func testTwoLayerNetworkScalingAndFrozenOutput() throws {
        var rng = Xoshiro256(seed: 5)
        let net = PaperModels.twoLayer(inputs: 6, width: 400, outputs: 2, rng: &rng)
        XCTAssertEqual(net.trainableParameters.map(\.name), ["hidden.weight"])
        let a = net.parameter(named: "output.weight")!.value.scalars
        XCTAssertTrue(a.allSatisfy { $0 == 1 || $0 == -1 })
        // f(x) = (1/√m) Σ a_r relu(w_r·x), checked by hand for one input.
        let x = Tensor(shape: [1, 6], scalars: [0.3, -1, 0.5, 2, 0, 1])
        let w = net.parameter(named: "hidden.weight")!.value.scalars
        var expected = [0.0, 0.0]
        for r in 0..<400 {
            let pre = (0..<6).reduce(0.0) { $0 + Double(w[r * 6 + $1]) * Double(x.scalars[$1]) }
            for c in 0..<2 { expected[c] += Double(a[c * 400 + r]) * max(pre, 0) / 20 }
        }
        let y = try net(x).scalars
        XCTAssertEqual(Double(y[0]), expected[0], accuracy: 1e-4)
        XCTAssertEqual(Double(y[1]), expected[1], accuracy: 1e-4)
    }

    /// Whole-network gradient of the loss against central differences: along a random direction
    /// over all parameters, and on sampled single coordinates.
    func checkNetworkGradient(_ model: Sequential, input: Tensor, labels: [Int32],
                              file: StaticString = #filePath, line: UInt = #line) throws {
        var rng = Xoshiro256(seed: 11)
        func loss() throws -> Double { Double(try softmaxCrossEntropy(logits: try model(input), labels: labels).scalar) }
        let (_, grads) = try model.lossAndGradients { try softmaxCrossEntropy(logits: try model(input), labels: labels) }
        let params = model.trainableParameters
        let eps: Float = 1e-3

        // Directional derivative along a random unit-scale direction.
        let directions = params.map { Initializers.normal($0.parameter.value.shape, std: 0.01, rng: &rng) }
        let originals = params.map { $0.parameter.value }
        func shift(_ s: Float) throws { for (p, (o, d)) in zip(params, zip(originals, directions)) { p.parameter.value = try o + d.scaled(by: s) } }
        try shift(eps); let lp = try loss()
        try shift(-eps); let lm = try loss()
        try shift(0)
        let fd = (lp - lm) / Double(2 * eps)
        let analytic = zip(params, directions).reduce(0.0) { acc, pd in
            acc + zip(grads[pd.0.name]!.scalars, pd.1.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        XCTAssertEqual(analytic, fd, accuracy: 2e-2 * max(abs(fd), 1e-3), "directional derivative", file: file, line: line)

        // Sampled coordinates of every parameter tensor: of 16 random coordinates, the 3 with the
        // largest gradients. The step is small because larger ones cross ReLU and max-pool kinks
        // (on the CIFAR net, ε = 5e-3 is off by 7% and converges to the analytic value as ε shrinks);
        // the tolerance covers Float32 rounding of the loss, ≈ 4 ulp / 2ε ≈ 5e-4.
        let coordinateEps: Float = 1e-3
        for (name, p) in params {
            let g = grads[name]!.scalars
            let candidates = (0..<16).map { _ in Int(rng.next() % UInt64(p.value.count)) }
            for j in candidates.sorted(by: { abs(g[$0]) > abs(g[$1]) }).prefix(3) {
                let original = p.value
                p.value.withUnsafeMutablePointer { $0[j] += coordinateEps }
                let plus = try loss()
                p.value = original
                p.value.withUnsafeMutablePointer { $0[j] -= coordinateEps }
                let minus = try loss()
                p.value = original
                let fdj = (plus - minus) / Double(2 * coordinateEps)
                XCTAssertEqual(Double(g[j]), fdj, accuracy: 6e-4 + 3e-2 * abs(fdj), "\(name)[\(j)]", file: file, line: line)
            }
        }
    }

    func testMNISTCNNGradientMatchesFiniteDifferences() throws {
        var rng = Xoshiro256(seed: 21)
        let model = PaperModels.mnistCNN(rng: &rng)
        let x = Initializers.normal([3, 1, 28, 28], std: 0.5, rng: &rng).adding(0.5)
        try checkNetworkGradient(model, input: x, labels: [3, 7, 1])
    }

    func testCIFARCNNGradientMatchesFiniteDifferences() throws {
        var rng = Xoshiro256(seed: 22)
        let model = PaperModels.cifarCNN(rng: &rng)
        let x = Initializers.normal([2, 3, 32, 32], std: 0.5, rng: &rng).adding(0.5)
        try checkNetworkGradient(model, input: x, labels: [2, 9])
    }

    func testForwardHooksSeeEveryLayerAndCanBeRemoved() throws {
        var rng = Xoshiro256(seed: 1)
        let model = PaperModels.mnistCNN(rng: &rng)
        var seen: [String] = []
        let handle = model.addForwardHook { name, _, output in seen.append("\(name)\(output.shape)") }
        _ = try model(Tensor.zeros([1, 1, 28, 28]))
        XCTAssertEqual(seen.count, 10)
        XCTAssertEqual(seen[0], "conv1[1, 32, 28, 28]")
        XCTAssertEqual(seen.last, "fc2[1, 10]")
        handle.remove()
        _ = try model(Tensor.zeros([1, 1, 28, 28]))
        XCTAssertEqual(seen.count, 10)
    }

    func testSGDUpdateRules() throws {
        let model = Sequential([("fc", Dense(weight: Tensor(shape: [1, 2], scalars: [1, 2]), bias: nil))])
        let g: [String: Tensor] = ["fc.weight": Tensor(shape: [1, 2], scalars: [0.5, -1])]
        try SGD(learningRate: 0.1).update(model, gradients: g)
        XCTAssertEqual(model.parameter(named: "fc.weight")!.value.scalars, [0.95, 2.1])
        let momentum = try SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 0.5)
        try momentum.update(model, gradients: g)   // v = g + 0.5θ = [0.975, 0.05]; θ -= 0.1 v
        try momentum.update(model, gradients: g)   // v = 0.9 v + g + 0.5θ
        let w = model.parameter(named: "fc.weight")!.value.scalars
        let v1: [Double] = [0.5 + 0.5 * 0.95, -1 + 0.5 * 2.1]
        let t1 = [0.95 - 0.1 * v1[0], 2.1 - 0.1 * v1[1]]
        let v2 = [0.9 * v1[0] + 0.5 + 0.5 * t1[0], 0.9 * v1[1] - 1 + 0.5 * t1[1]]
        XCTAssertEqual(Double(w[0]), t1[0] - 0.1 * v2[0], accuracy: 1e-6)
        XCTAssertEqual(Double(w[1]), t1[1] - 0.1 * v2[1], accuracy: 1e-6)
    }
}
