import XCTest
import Tangent

/// The linearized model f_lin(θ, x) = f(θ₀, x) + J(θ₀, x)(θ − θ₀).
final class LinearizationTests: XCTestCase {
    func smallConvNet(_ rng: inout Xoshiro256) -> Sequential {
        Sequential([
            ("conv1", Conv2D(inChannels: 1, outChannels: 3, rng: &rng)), ("relu1", ReLU()), ("pool1", MaxPool2D()),
            ("flatten", Flatten()), ("fc1", Dense(inputs: 3 * 4 * 4, outputs: 6, rng: &rng)), ("relu2", ReLU()),
            ("fc2", Dense(inputs: 6, outputs: 3, rng: &rng)),
        ])
    }

    /// Moves every trainable parameter by t·Δ from the anchor.
    func move(_ net: Sequential, from anchor: [String: Tensor], by delta: [String: Tensor], scale t: Float) throws {
        for (name, p) in net.trainableParameters { p.value = try anchor[name]! + delta[name]!.scaled(by: t) }
    }

    func norm(_ a: Tensor, _ b: Tensor) -> Double {
        zip(a.scalars, b.scalars).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }.squareRoot()
    }

    func testEqualsTheNetworkAtTheAnchorAndErrorShrinksQuadratically() throws {
        var rng = Xoshiro256(seed: 1)
        let net = smallConvNet(&rng)
        let x = Initializers.normal([4, 1, 8, 8], rng: &rng)
        let lin = LinearizedModel(network: net)
        XCTAssertEqual(try lin(x).scalars, try net(x).scalars)
        let delta = Dictionary(uniqueKeysWithValues: net.trainableParameters.map {
            ($0.name, Initializers.normal($0.parameter.value.shape, std: 0.05, rng: &rng)) })
        // Quantities computed in Double from Float outputs: keep t large enough that rounding does not dominate.
        var errors: [Double] = []
        let ts: [Float] = [0.4, 0.2, 0.1, 0.05]
        for t in ts {
            try move(net, from: lin.anchor, by: delta, scale: t)
            errors.append(norm(try net(x), try lin(x)))
        }
        try move(net, from: lin.anchor, by: delta, scale: 0)
        // Log-log slope of ‖f − f_lin‖ against t.
        let slopes = (1..<ts.count).map { log(errors[$0 - 1] / errors[$0]) / log(Double(ts[$0 - 1] / ts[$0])) }
        let mean = slopes.reduce(0, +) / Double(slopes.count)
        XCTAssertEqual(mean, 2, accuracy: 0.3, "slopes \(slopes), errors \(errors)")
    }

    func testGradientsMatchFiniteDifferences() throws {
        var rng = Xoshiro256(seed: 2)
        let net = smallConvNet(&rng)
        let x = Initializers.normal([3, 1, 8, 8], rng: &rng)
        let y: [Int32] = [0, 2, 1]
        let lin = LinearizedModel(network: net)
        for (_, p) in net.trainableParameters { p.value = try p.value + Initializers.normal(p.value.shape, std: 0.05, rng: &rng) }
        func loss(_ input: Tensor) throws -> Double { Double(try softmaxCrossEntropy(logits: try lin(input), labels: y).scalar) }
        // ∂loss/∂θ
        let (_, grads) = try lin.lossAndGradients { try softmaxCrossEntropy(logits: try lin(x), labels: y) }
        let eps: Float = 1e-2  // f_lin is affine in θ: central differences are exact up to rounding
        for (name, p) in net.trainableParameters {
            for j in [0, p.value.count / 2, p.value.count - 1] {
                let original = p.value
                p.value.withUnsafeMutablePointer { $0[j] += eps }; let plus = try loss(x)
                p.value = original
                p.value.withUnsafeMutablePointer { $0[j] -= eps }; let minus = try loss(x)
                p.value = original
                let fd = (plus - minus) / Double(2 * eps)
                XCTAssertEqual(Double(grads[name]!.scalars[j]), fd, accuracy: 1e-3 + 2e-2 * abs(fd), "\(name)[\(j)]")
            }
        }
        // ∂loss/∂x (what attacks on f_lin use)
        let (_, gx) = try Attacks.inputGradient(of: lin, at: x, labels: y)
        for j in [5, 70, 130, 180] {
            var p = x, m = x
            p.withUnsafeMutablePointer { $0[j] += 1e-3 }
            m.withUnsafeMutablePointer { $0[j] -= 1e-3 }
            let fd = (try loss(p) - loss(m)) / 2e-3
            XCTAssertEqual(Double(gx.scalars[j]), fd, accuracy: 1e-3 + 3e-2 * abs(fd), "x[\(j)]")
        }
    }

    func testNTKOfTheLinearizedMNISTCNNIsConstantInTheta() throws {
        var rng = Xoshiro256(seed: 3)
        let net = PaperModels.mnistCNN(rng: &rng)
        let x = Initializers.normal([2, 1, 28, 28], std: 0.3, rng: &rng).adding(0.5)
        let lin = LinearizedModel(network: net)
        let atAnchor = try EmpiricalNTK.bruteForce(lin, inputs: x)
        for (_, p) in net.trainableParameters { p.value = try p.value + Initializers.normal(p.value.shape, std: 0.02, rng: &rng) }
        let moved = try EmpiricalNTK.bruteForce(lin, inputs: x)
        let network = try EmpiricalNTK.bruteForce(net, inputs: x)
        let engineAtAnchor = try lin.withAnchorParameters { try EmpiricalNTK.compute($0, inputs: x) }
        func rel(_ a: KernelMatrix, _ b: KernelMatrix) -> Double {
            zip(a.values, b.values).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }.squareRoot() / b.frobeniusNorm
        }
        XCTAssertLessThan(rel(moved, atAnchor), 1e-5, "f_lin's kernel moved with θ")
        XCTAssertLessThan(rel(engineAtAnchor, atAnchor), 1e-5, "structured engine at θ₀ vs brute force of f_lin")
        XCTAssertGreaterThan(rel(network, atAnchor), 1e-3, "the nonlinear network's kernel should move")
    }

    func testLinearizedGradientDescentFollowsKernelRegressionDynamics() throws {
        // Full-batch GD on the mean squared error of a linear-in-θ model: outputs on the training set
        // evolve exactly as f_{t+1} = f_t − η' K (f_t − Y), with η' = 2η/(N·C) for MSE's mean over N·C.
        var rng = Xoshiro256(seed: 4)
        let net = Sequential([("flatten", Flatten()), ("fc1", Dense(inputs: 6, outputs: 16, rng: &rng)), ("relu", ReLU()),
                              ("fc2", Dense(inputs: 16, outputs: 2, rng: &rng))])
        let x = Initializers.normal([5, 6], rng: &rng)
        let targets = Initializers.normal([5, 2], rng: &rng)
        let lin = LinearizedModel(network: net)
        let kernel = try lin.withAnchorParameters { try EmpiricalNTK.compute($0, inputs: x) }
        let sgd = try SGD(learningRate: 0.05)
        let steps = 30
        for _ in 0..<steps {
            let (_, g) = try lin.lossAndGradients { try meanSquaredError(predictions: try lin(x), targets: targets) }
            try sgd.update(lin, gradients: g)
        }
        // Closed form, in Double, rows sample-major like the kernel.
        let n = 10, eta = 2 * 0.05 / Double(n)
        var f: [Double] = try lin.withAnchorParameters { try $0(x) }.scalars.map { Double($0) }
        let y: [Double] = targets.scalars.map { Double($0) }
        for _ in 0..<steps {
            let residual: [Double] = zip(f, y).map { $0 - $1 }
            var next = f
            for r in 0..<n {
                var change = 0.0
                for c in 0..<n { change += Double(kernel[r, c]) * residual[c] }
                next[r] = f[r] - eta * change
            }
            f = next
        }
        let trained = try lin(x).scalars
        for r in 0..<n { XCTAssertEqual(Double(trained[r]), f[r], accuracy: 1e-4 * max(1, abs(f[r]))) }
    }
}
