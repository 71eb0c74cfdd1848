// A model of your own, end to end: an activation written as a primitive with its own VJP and JVP rules
// (checked by `checkRules`), a small residual CNN written as modules, a few epochs of Adam on the MNIST
// sample embedded in the package, and the empirical NTK of the result — full kernel, cross kernel
// against test images, and a check against the brute-force Jacobian.
// usage: swift run -c release CustomModel
import Tangent

// MARK: - A primitive: swish(x) = x·σ(x)

/// swish′(x) = σ(x)·(1 + x·(1 − σ(x))), written with differentiable ops: the JVP multiplies by it,
/// so reverse mode can differentiate through the JVP (what `LinearizedModel` and attacks on it need).
func swishDerivative(_ x: Tensor) throws -> Tensor {
    let s = x.sigmoid()
    return try s * (1 + x * (1 - s))
}

/// swish as one recorded primitive: the value and the VJP's slope are computed once on plain values;
/// the JVP rule is built from differentiable ops.
func swish(_ x: Tensor) throws -> Tensor {
    let plain = x.detached
    let y = try plain * plain.sigmoid()
    let slope = try swishDerivative(plain)
    return Tensor.record(y, primitive: Primitive("swish"), inputs: [x],
                         pullback: { cotangent, _ in [try cotangent * slope] },
                         tangent: { tangents in try tangents[0].map { try $0 * swishDerivative(x.primal) } })
}

var rng = Xoshiro256(seed: 0)
let report = try checkRules(name: "swish", inputs: [Initializers.normal([4, 6], std: 2, rng: &rng)]) { try swish($0[0]) }
print(report)                // the summary line, then any failed check
try report.requirePassing()  // a failed check ends the script, printing the report

// MARK: - A model: stem, an identity residual block, a strided block with a hand-written skip

/// conv → swish → conv, the body of a residual block (the first conv may be strided).
final class ConvPair: Module {
    let conv1: Conv2D
    let conv2: Conv2D
    init(_ inChannels: Int, _ outChannels: Int, stride: Int = 1, rng: inout Xoshiro256) {
        conv1 = Conv2D(inChannels: inChannels, outChannels: outChannels, stride: stride, rng: &rng)
        conv2 = Conv2D(inChannels: outChannels, outChannels: outChannels, rng: &rng)
    }
    func callAsFunction(_ x: Tensor) throws -> Tensor {
        try callChild("conv2", conv2, try swish(try callChild("conv1", conv1, x)))
    }
}

/// Stored properties become the module tree: `stem.weight`, `block.body.conv1.weight`, `down.conv2.bias`,
/// `project.weight`, `head.bias`, … (declaration order). `callChild` puts the child's name into shape errors.
final class SmallResNet: Module {
    let stem: Conv2D
    let block: Residual   // the library's skip connection: body(x) + x
    let down: ConvPair    // 28×28×8 → 14×14×16, with the 1×1 strided projection below as its skip
    let project: Conv2D
    let head: Dense
    init(rng: inout Xoshiro256) {
        stem = Conv2D(inChannels: 1, outChannels: 8, rng: &rng)
        block = Residual(ConvPair(8, 8, rng: &rng))
        down = ConvPair(8, 16, stride: 2, rng: &rng)
        project = Conv2D(inChannels: 8, outChannels: 16, kernelSize: 1, stride: 2, padding: 0, rng: &rng)
        head = Dense(inputs: 16, outputs: 10, rng: &rng)
    }
    func callAsFunction(_ x: Tensor) throws -> Tensor {
        let h1 = try swish(try callChild("stem", stem, x))
        let h2 = try swish(try callChild("block", block, h1))
        let h3 = try swish(try callChild("down", down, h2) + callChild("project", project, h2))
        return try callChild("head", head, try globalAveragePool(h3))
    }
}

let model = SmallResNet(rng: &rng)
print("\(model.parameterCount) parameters in \(model.namedParameters.count) tensors (PyTorch's order):")
for (name, parameter) in model.namedParameters { print("  \(name) \(parameter.value.shape)") }

// A wrong input fails with a ShapeError that names the module where it happened.
do { _ = try model(Tensor.zeros([1, 3, 28, 28])) } catch { print("a 3-channel input: \(error)") }

/// `x` rounded to `1/scale`, for printing.
func rounded(_ x: Double, _ scale: Double = 1000) -> Double { (x * scale).rounded() / scale }
/// `body()` and the seconds it took.
func timed<T>(_ body: () throws -> T) rethrows -> (value: T, seconds: Double) {
    let start = ContinuousClock.now
    let value = try body()
    return (value, rounded((ContinuousClock.now - start) / .seconds(1)))
}

// MARK: - Training: a plain loop on part of the MNIST sample embedded in the package

let mnist = try MNISTLoader.embeddedSample()
let train = mnist.train.firstSubset(3000), test = mnist.test.firstSubset(500)
let probe = BatchAssembly.batch(train, indices: 0..<16).0  // the NTK probe: 16 training images
let k0 = try EmpiricalNTK.compute(model, inputs: probe)      // the kernel at initialisation

let adam = try Adam(learningRate: 0.01)
var order = BatchOrder(count: train.count, batchSize: 50, generator: Xoshiro256(seed: 1), shuffle: true)
print("before training: test accuracy \(rounded(try Evaluation.evaluate(model, on: test).accuracy))")
for epoch in 1...5 {
    var lossSum = 0.0, batches = 0.0
    let (_, seconds) = try timed {
        while let indices = order.nextBatch() {
            let (x, y) = BatchAssembly.batch(train, indices: indices)
            let (loss, grads) = try model.lossAndGradients { try softmaxCrossEntropy(logits: try model(x), labels: y) }
            try adam.update(model, gradients: grads)
            lossSum += Double(loss)
            batches += 1
        }
    }
    order.startNextEpoch()
    let accuracy = try Evaluation.evaluate(model, on: test).accuracy
    print("epoch \(epoch): train loss \(rounded(lossSum / batches)), test accuracy \(rounded(accuracy)) (\(seconds) s)")
}

// MARK: - The empirical NTK of the trained model

let (kernel, kernelSeconds) = try timed { try EmpiricalNTK.compute(model, inputs: probe) }
print("NTK of \(kernel.sampleCount!) probe images: \(kernel.n)×\(kernel.n), ‖K‖ \(rounded(kernel.frobeniusNorm, 1)), "
      + "trace \(rounded(kernel.trace, 1)) (\(kernelSeconds) s); distance to K₀ \(rounded(try KernelMetrics.distance(k0, kernel)))")

let testImages = BatchAssembly.batch(test, indices: 0..<5).0
let (cross, crossSeconds) = try timed { try EmpiricalNTK.cross(model, probe, testImages) }
let crossNorm = cross.values.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
print("cross kernel Θ(probe, 5 test images): \(cross.rows)×\(cross.columns), ‖Θ‖ \(rounded(crossNorm, 1)) (\(crossSeconds) s)")

// The engine against the explicit Jacobian (J Jᵀ, one reverse pass per logit and image) on a tiny probe.
let tiny = BatchAssembly.batch(test, indices: 0..<3).0
let (engine, engineSeconds) = try timed { try EmpiricalNTK.compute(model, inputs: tiny) }
let (brute, bruteSeconds) = try timed { try EmpiricalNTK.bruteForce(model, inputs: tiny) }
let relativeError = try KernelMetrics.differenceNorm(engine, brute) / brute.frobeniusNorm
print("engine vs brute force on 3 images (\(engine.n)×\(engine.n)): relative error \(relativeError) "
      + "(\(engineSeconds) s vs \(bruteSeconds) s)")
guard relativeError < 1e-4 else { fatalError("the NTK engine disagrees with the brute-force Jacobian") }
