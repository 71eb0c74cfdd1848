// Dohmatob & Bietti (2022), "On the (non-)robustness of two-layer neural networks in different learning regimes",
// in small: two-layer ReLU nets f(x) = (α/√m) Σ_r a_r relu(w_r·x) fitted to a quadratic target y = xᵀAx on a fixed
// training set, in four regimes — random features (output layer only), full training (both layers), and lazy
// training (the linearization around the initialisation, both layers) at several scales α, with and without
// centring (subtracting f(θ₀, x)) — at several widths. Every run starts from the same data and, at a given width,
// the same initial network. After training: the test error, the mean input-gradient norm E‖∇ₓf‖ and the ℓ2
// adversarial risk on the test set, one point per (regime, α, width). Writes results.json, results.csv and two
// scatter charts (test error against E‖∇ₓf‖ and against the adversarial risk).
// usage: swift run -c release LearningRegimes [OUT_DIR] [quick] [relu|softplus|tanh]
//        (default: a new temporary folder, ReLU; "quick" runs a reduced grid in seconds, for a smoke test)
import Foundation
import Tangent

/// Everything the study varies or fixes; stored in results.json.
struct StudySettings: Codable {
    var dimension = 40
    /// A has eigenvalues +c (rank) times, −c (rank) times, 0 otherwise: trace zero, so E y = 0.
    var rank = 5
    var trainSize = 2000
    var testSize = 1000
    var widths = [64, 256, 1024, 4096]
    /// ReLU by default. The lazy model of a ReLU net is discontinuous in x (its first-layer tangent features
    /// 1{w_r·x > 0} x jump where w_r·x changes sign), so E‖∇ₓf‖ misses its jumps; softplus keeps it smooth.
    var activation: TwoLayerActivation = .relu
    var regimes: [TwoLayerRegime] = [.randomFeatures(), .full()]
        + [0.25, 1, 4, 16].map { TwoLayerRegime.lazy(alpha: $0, centred: false) }
        + [1, 4, 16].map { TwoLayerRegime.lazy(alpha: $0, centred: true) }
    var steps = 600                      // full-batch gradient descent with heavy-ball momentum
    var momentum: Float = 0.9
    var baseLearningRate: Float = 2      // divided by α², so every α follows the same function-space dynamics
    var epsilon: Float = 0.05            // ℓ2 radius of the adversarial risk (inputs have norm ≈ 1)
    var pgdSteps = 10                    // step 2.5ε/steps, random start
    var dataSeed: UInt64 = 0
    var modelSeed: UInt64 = 1

    /// A grid that runs in seconds: fewer samples, widths and steps, one lazy scale each way.
    static var quick: StudySettings {
        var s = StudySettings()
        s.trainSize = 300; s.testSize = 200; s.widths = [32, 128]; s.steps = 40
        s.regimes = [.randomFeatures(), .full(), .lazy(alpha: 1, centred: false), .lazy(alpha: 4, centred: false), .lazy(alpha: 4, centred: true)]
        return s
    }

    /// c = d / (2√rank), so that Var y = 4·rank·c²/d² = 1 for x ~ N(0, I/d).
    var spectrum: [Double] {
        let c = Double(dimension) / (2 * Double(rank).squareRoot())
        return (0..<dimension).map { $0 < rank ? c : $0 < 2 * rank ? -c : 0 }
    }

    func experiment(regime: TwoLayerRegime, width: Int) -> TwoLayerExperiment {
        let attack = RegressionTrainingSettings.Attack(
            pgd: PGDConfiguration(epsilon: epsilon, stepSize: 2.5 * epsilon / Float(pgdSteps), steps: pgdSteps, randomStart: true), norm: .l2)
        return TwoLayerExperiment(
            dimension: dimension, inputs: .gaussian, teacher: .quadratic(spectrum: spectrum), trainSize: trainSize, testSize: testSize,
            width: width, activation: activation, regime: regime, learningRate: baseLearningRate / (regime.alpha * regime.alpha),
            momentum: momentum, training: RegressionTrainingSettings(epochs: steps, evaluationAttack: attack, measureEvery: steps),
            dataSeed: dataSeed, modelSeed: modelSeed)
    }
}

/// The series a regime belongs to in the charts.
func seriesName(_ regime: TwoLayerRegime) -> String {
    if !regime.linearized { return regime.trainsFirstLayer ? "full training α=\(regime.alpha)" : "random features α=\(regime.alpha)" }
    return "lazy\(regime.centred ? " centred" : "") α=\(regime.alpha)"
}

/// One (regime, α, width) run.
struct RunRecord: Codable {
    var regime: TwoLayerRegime
    var series: String
    var width: Int
    var seconds: Double
    var initial: RegressionEpochMeasures
    var final: RegressionEpochMeasures
}

struct StudyResults: Codable {
    var settings: StudySettings
    /// Over the test set: Var y (the test error of the zero predictor) and E‖∇f*(x)‖ = E‖2Ax‖ of the target itself.
    var targetVariance: Double
    var targetGradientNorm: Double
    var runs: [RunRecord]
}

/// Var y and E‖2Ax‖ over `samples` for the quadratic teacher of `task`.
func targetReference(_ task: SyntheticTask, _ samples: SyntheticSamples) throws -> (variance: Double, gradientNorm: Double) {
    guard case .quadratic(let a) = task.teacher.kind else { throw WorkbenchError.mismatch("the study needs a quadratic teacher") }
    let d = samples.dimension, n = Double(samples.count)
    let mean = samples.cleanTargets.reduce(0.0) { $0 + Double($1) } / n
    let variance = samples.cleanTargets.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n
    var norms = 0.0
    for i in 0..<samples.count {
        var squares = 0.0
        for r in 0..<d {
            var row = 0.0
            for c in 0..<d { row += a[r * d + c] * Double(samples.inputs[i * d + c]) }
            squares += 4 * row * row
        }
        norms += squares.squareRoot()
    }
    return (variance, norms / n)
}

func run(settings: StudySettings, output: String) throws {
    try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
    let probe = settings.experiment(regime: .randomFeatures(), width: 1)
    let reference = try targetReference(try probe.task(), try probe.makeTrainer().trainer.test)
    print(String(format: "d = %d, n = %d, quadratic target of rank %d: Var y = %.3f, E‖∇f*‖ = %.3f on the %d test points; σ = %@",
                 settings.dimension, settings.trainSize, 2 * settings.rank, reference.variance, reference.gradientNorm, settings.testSize,
                 settings.activation.rawValue))
    var runs: [RunRecord] = []
    for regime in settings.regimes {
        for width in settings.widths {
            let (_, trainer) = try settings.experiment(regime: regime, width: width).makeTrainer()
            let start = Date()
            let initial = try trainer.measure(trainLoss: .nan)
            try trainer.fit()
            guard let final = trainer.history.last else { throw WorkbenchError.mismatch("the run measured nothing") }
            let record = RunRecord(regime: regime, series: seriesName(regime), width: width, seconds: Date().timeIntervalSince(start),
                                   initial: initial, final: final)
            runs.append(record)
            print(record.series.padding(toLength: 26, withPad: " ", startingAt: 0) + String(format: " width %4d: train %.4f, test %.4f, E‖∇f‖ %.3f, adversarial risk %.4f, ‖θ−θ₀‖/‖θ₀‖ %.3f (at init: test %.3f, E‖∇f‖ %.3f; %.0f s)",
                         width, final.trainRisk ?? .nan, final.testRisk, final.inputGradientNorm, final.testAdversarialRisk ?? .nan,
                         final.parameterDistance, initial.testRisk, initial.inputGradientNorm, record.seconds))
            fflush(nil)
        }
    }
    try write(StudyResults(settings: settings, targetVariance: reference.variance, targetGradientNorm: reference.gradientNorm, runs: runs), to: output)
    print("wrote results.json, results.csv, test-error-vs-gradient-norm.svg, test-error-vs-adversarial-risk.svg in \(output)")
}

func write(_ results: StudyResults, to output: String) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    try encoder.encode(results).write(to: URL(fileURLWithPath: output + "/results.json"))

    var csv = ["series,linearized,trains_first_layer,trains_output_layer,alpha,centred,width,seconds,train_risk,test_risk,"
               + "test_adversarial_risk,input_gradient_norm,parameter_distance,initial_test_risk,initial_input_gradient_norm"]
    for r in results.runs {
        let g = r.regime, f = r.final
        csv.append("\(r.series),\(g.linearized),\(g.trainsFirstLayer),\(g.trainsOutputLayer),\(g.alpha),\(g.centred),\(r.width),"
                   + String(format: "%.1f", r.seconds) + ",\(f.trainRisk ?? .nan),\(f.testRisk),\(f.testAdversarialRisk ?? .nan),"
                   + "\(f.inputGradientNorm),\(f.parameterDistance),\(r.initial.testRisk),\(r.initial.inputGradientNorm)")
    }
    try (csv.joined(separator: "\n") + "\n").write(toFile: output + "/results.csv", atomically: true, encoding: .utf8)

    let s = results.settings
    var names: [String] = []
    for r in results.runs where !names.contains(r.series) { names.append(r.series) }
    func scatter(x: (RegressionEpochMeasures) -> Double, xLabel: String, title: String) -> LineChart {
        var chart = LineChart(title: title, xLabel: xLabel, yLabel: "test error (mean squared error)", logScaleY: true)
        chart.logScaleX = true
        for name in names {
            let points = results.runs.filter { $0.series == name }
            chart.add(.scatter(name: name, x: points.map { x($0.final) }, y: points.map(\.final.testRisk),
                               pointLabels: points.map { "\($0.width)" }))
        }
        return chart
    }
    let subtitle = "\(s.activation.rawValue), d = \(s.dimension), n = \(s.trainSize), \(s.steps) steps; points labelled by width"
    let xs = results.runs.map(\.final.inputGradientNorm), ys = results.runs.map(\.final.testRisk)
    var gradient = scatter(x: \.inputGradientNorm, xLabel: "E‖∇ₓf‖ on the test set", title: "Test error against input-gradient norm (\(subtitle))")
    let (xLow, xHigh) = (min(xs.min() ?? 1, results.targetGradientNorm), max(xs.max() ?? 1, results.targetGradientNorm))
    let (yLow, yHigh) = (min(ys.min() ?? 1, results.targetVariance), max(ys.max() ?? 1, results.targetVariance))
    gradient.add(LineChart.Series(name: String(format: "target: E‖∇f*‖ = %.2f", results.targetGradientNorm),
                                  x: [results.targetGradientNorm, results.targetGradientNorm], y: [yLow, yHigh], color: "#555555", dashed: true))
    gradient.add(LineChart.Series(name: String(format: "zero predictor: Var y = %.2f", results.targetVariance),
                                  x: [xLow, xHigh], y: [results.targetVariance, results.targetVariance], color: "#999999", dashed: true))
    try gradient.write(to: output + "/test-error-vs-gradient-norm.svg")

    let risks = results.runs.compactMap(\.final.testAdversarialRisk)
    var adversarial = scatter(x: { $0.testAdversarialRisk ?? .nan }, xLabel: "ℓ2 adversarial risk at ε = \(s.epsilon) (PGD-\(s.pgdSteps)) on the test set",
                              title: "Test error against adversarial risk (\(subtitle))")
    let diagonal = [min(risks.min() ?? 1, yLow), max(risks.max() ?? 1, yHigh)]
    adversarial.add(LineChart.Series(name: "adversarial risk = test error", x: diagonal, y: diagonal, color: "#999999", dashed: true))
    try adversarial.write(to: output + "/test-error-vs-adversarial-risk.svg")
}

let arguments = Array(CommandLine.arguments.dropFirst())
let output = arguments.first ?? NSTemporaryDirectory() + "tangent-learning-regimes-\(getpid())"
do {
    var settings = arguments.dropFirst().contains("quick") ? StudySettings.quick : StudySettings()
    for word in arguments.dropFirst() where word != "quick" {
        guard let activation = TwoLayerActivation(rawValue: word) else {
            throw WorkbenchError.invalidSetting(name: "argument", value: word, requirement: "quick, or an activation: "
                                                + TwoLayerActivation.allCases.map(\.rawValue).joined(separator: ", "))
        }
        settings.activation = activation
    }
    try run(settings: settings, output: output)
} catch {
    FileHandle.standardError.write(Data("LearningRegimes: \(error)\n".utf8))
    exit(1)
}
