import XCTest
import Foundation
import Autodiff
import NN

/// Optimisers against hand-computed steps and against torch.optim on the same gradients
/// (Tests/Fixtures/torch_optimizer_reference.json, written by Benchmarks/reference/torch_optimizer_reference.py).
final class OptimizerTests: XCTestCase {
    /// Two parameters, `a` [3, 4] and `b` [5], as a module.
    final class Pair: Module {
        let a: Parameter, b: Parameter
        init(a: Tensor, b: Tensor) { self.a = Parameter(a); self.b = Parameter(b) }
        func callAsFunction(_ input: Tensor) throws -> Tensor { input }
    }

    struct Reference: Decodable {
        struct Pair: Decodable { let a: [[Double]]; let b: [Double] }
        struct Run: Decodable { let kind: String; let settings: [String: Double]; let trajectory: [Pair] }
        struct Schedule: Decodable {
            let rate: Double; let rates: [Double]
            let every: Int?; let gamma: Double?; let total: Int?; let minimum: Double?; let warmup: Int?
        }
        let torch: String
        let start: Pair
        let gradients: [Pair]
        let optimizers: [String: Run]
        let schedules: [String: Schedule]
    }

    func loadReference() throws -> Reference {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/torch_optimizer_reference.json")
        return try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
    }

    func tensors(_ p: Reference.Pair) -> (Tensor, Tensor) {
        (Tensor(shape: [3, 4], scalars: p.a.flatMap { $0.map(Float.init) }), Tensor(shape: [5], scalars: p.b.map(Float.init)))
    }

    func make(_ run: Reference.Run) throws -> Optimizer {
        let s = run.settings
        let lr = Float(s["lr"]!), wd = Float(s["weight_decay"] ?? 0)
        switch run.kind {
        case "SGD":
            return try SGD(learningRate: lr, momentum: Float(s["momentum"] ?? 0), weightDecay: wd,
                           nesterov: (s["nesterov"] ?? 0) != 0)
        case "Adam", "AdamW":
            return try Adam(learningRate: lr, beta1: Float(s["beta1"] ?? 0.9), beta2: Float(s["beta2"] ?? 0.999),
                            epsilon: Float(s["eps"] ?? 1e-8), weightDecay: wd, decoupledWeightDecay: run.kind == "AdamW")
        default: throw XCTSkip("unknown optimiser \(run.kind)")
        }
    }

    func testTrajectoriesMatchTorchOptim() throws {
        let reference = try loadReference()
        XCTAssertEqual(reference.optimizers.count, 6)
        for (name, run) in reference.optimizers.sorted(by: { $0.key < $1.key }) {
            let (a, b) = tensors(reference.start)
            let model = Pair(a: a, b: b)
            let optimizer = try make(run)
            for (k, expected) in run.trajectory.enumerated() {
                let (ga, gb) = tensors(reference.gradients[k])
                try optimizer.update(model, gradients: ["a": ga, "b": gb])
                let (ea, eb) = tensors(expected)
                for (got, want) in [(model.a.value, ea), (model.b.value, eb)] {
                    for (x, y) in zip(got.scalars, want.scalars) {
                        XCTAssertEqual(Double(x), Double(y), accuracy: 1e-6 * max(1, abs(Double(y))),
                                       "\(name) step \(k + 1) (torch \(reference.torch))")
                    }
                }
            }
        }
    }

    func testSchedulesMatchTorchSchedulers() throws {
        let reference = try loadReference()
        let step = reference.schedules["step"]!, cosine = reference.schedules["cosine"]!, warm = reference.schedules["warmup_cosine"]!
        // Past its length PyTorch's cosine rises again (it is periodic); Tangent's stays at the minimum, so
        // the comparison covers the schedule's length.
        let schedules: [(String, LearningRateSchedule, ArraySlice<Double>)] = [
            ("step", try StepSchedule(rate: Float(step.rate), every: step.every!, gamma: Float(step.gamma!)), step.rates[...]),
            ("cosine", try CosineSchedule(rate: Float(cosine.rate), totalSteps: cosine.total!, minimum: Float(cosine.minimum!)),
             cosine.rates[...cosine.total!]),
            ("warmup+cosine", try WarmupSchedule(warmupSteps: warm.warmup!,
                                                 then: try CosineSchedule(rate: Float(warm.rate), totalSteps: warm.total!, minimum: 0)),
             warm.rates[...(warm.warmup! + warm.total!)]),
        ]
        for (name, schedule, rates) in schedules {
            for (k, expected) in rates.enumerated() {
                XCTAssertEqual(Double(schedule.learningRate(atStep: k)), expected, accuracy: 1e-6 * max(1, expected), "\(name) step \(k)")
            }
        }
        XCTAssertEqual(ConstantSchedule(0.3).learningRate(atStep: 1000), 0.3)
        XCTAssertEqual(try CosineSchedule(rate: 0.1, totalSteps: 20, minimum: 0.001).learningRate(atStep: 500), 0.001)
    }

    func testHandComputedSteps() throws {
        // SGD with momentum 0.5 and weight decay 0.1 on θ = 2, g = 1: d = 1.2; v = 1.2; θ = 2 − 0.1·1.2 = 1.88.
        // Second step with g = 1: d = 1 + 0.188 = 1.188; v = 0.6 + 1.188 = 1.788; θ = 1.88 − 0.1788 = 1.7012.
        let model = Pair(a: Tensor(repeating: 2, shape: [3, 4]), b: Tensor(repeating: 2, shape: [5]))
        let sgd = try SGD(learningRate: 0.1, momentum: 0.5, weightDecay: 0.1)
        let ones = ["a": Tensor(repeating: 1, shape: [3, 4]), "b": Tensor(repeating: 1, shape: [5])]
        try sgd.update(model, gradients: ones)
        XCTAssertEqual(model.a.value.scalars[0], 1.88, accuracy: 1e-6)
        try sgd.update(model, gradients: ones)
        XCTAssertEqual(model.b.value.scalars[4], 1.7012, accuracy: 1e-6)

        // Adam's first step moves every coordinate by lr · g/(|g| + ε/…) ≈ lr · sign(g), whatever |g|.
        let adamModel = Pair(a: Tensor(repeating: 0, shape: [3, 4]), b: Tensor(repeating: 0, shape: [5]))
        let adam = try Adam(learningRate: 0.01)
        try adam.update(adamModel, gradients: ["a": Tensor(repeating: 250, shape: [3, 4]), "b": Tensor(repeating: -0.004, shape: [5])])
        XCTAssertEqual(adamModel.a.value.scalars[0], -0.01, accuracy: 1e-7)
        XCTAssertEqual(adamModel.b.value.scalars[0], 0.01, accuracy: 1e-6)
    }

    func testStateRoundTripContinuesExactly() throws {
        let reference = try loadReference()
        for kind in ["sgd_momentum_wd", "adamw"] {
            let run = reference.optimizers[kind]!
            let (a, b) = tensors(reference.start)
            let straight = Pair(a: a, b: b), resumed = Pair(a: a, b: b)
            let first = try make(run), second = try make(run)
            for k in 0..<10 {
                let (ga, gb) = tensors(reference.gradients[k])
                try first.update(straight, gradients: ["a": ga, "b": gb])
                if k < 4 { try second.update(resumed, gradients: ["a": ga, "b": gb]) }
            }
            let saved = second.state
            let restarted = try make(run)
            try restarted.restore(state: saved, for: resumed)
            for k in 4..<10 {
                let (ga, gb) = tensors(reference.gradients[k])
                try restarted.update(resumed, gradients: ["a": ga, "b": gb])
            }
            XCTAssertEqual(resumed.a.value.scalars, straight.a.value.scalars, kind)
            XCTAssertEqual(resumed.b.value.scalars, straight.b.value.scalars, kind)
        }
    }

    func testBadSettingsAndStateAreRefused() throws {
        XCTAssertThrowsError(try SGD(learningRate: -0.1))
        XCTAssertThrowsError(try SGD(learningRate: .nan))
        XCTAssertThrowsError(try SGD(learningRate: 0.1, momentum: 1))
        XCTAssertThrowsError(try SGD(learningRate: 0.1, weightDecay: -5))
        XCTAssertThrowsError(try SGD(learningRate: 0.1, nesterov: true))
        XCTAssertThrowsError(try Adam(learningRate: .infinity))
        XCTAssertThrowsError(try Adam(beta1: 1))
        XCTAssertThrowsError(try CosineSchedule(rate: 0.1, totalSteps: 0))

        let model = Pair(a: Tensor.zeros([3, 4]), b: Tensor.zeros([5]))
        let sgd = try SGD(learningRate: 0.1, momentum: 0.9)
        XCTAssertThrowsError(try sgd.restore(state: ["velocity.a": Tensor.zeros([4, 3])], for: model)) { error in
            XCTAssertTrue("\(error)".contains("velocity.a"), "\(error)")
        }
        XCTAssertThrowsError(try sgd.restore(state: ["velocity.c": Tensor.zeros([5])], for: model))
        XCTAssertThrowsError(try sgd.restore(state: ["m.a": Tensor.zeros([3, 4])], for: model))
        let adam = try Adam()
        XCTAssertThrowsError(try adam.restore(state: ["m.a": Tensor.zeros([3, 4]), "v.a": Tensor.zeros([3, 4]),
                                                      "step.a": Tensor(shape: [1], scalars: [-3])], for: model))
        XCTAssertThrowsError(try sgd.update(model, gradients: ["a": Tensor.zeros([5])])) { error in
            XCTAssertTrue("\(error)".contains("'a'"), "\(error)")
        }
    }
}
