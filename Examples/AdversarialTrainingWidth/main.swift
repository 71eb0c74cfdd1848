// Gao et al. (NeurIPS 2019), "Convergence of adversarial training in overparametrized neural networks", in
// small: a two-layer ReLU net f(x) = (1/√m) Σ_r a_r relu(w_r·x) (first layer trained, ±1 output layer frozen, the
// setting of their analysis) trained by full-batch gradient descent on the squared error against ±1 labels, on a
// fixed set of n points on the unit sphere whose labels are random (a teacher's sign flipped with probability ½,
// so independent of x: a memorisation task, separable because opposite labels lie further apart than 2ε), with
// ℓ2 PGD adversarial training at several ε and with clean training, for widths 8 … 16,384. It records, per width,
// the final robust training loss (the worst squared error in the ε-ball found by PGD-20), the clean and robust
// training accuracy (robust: no sign flip found by PGD-20 on the margin −y f), and the smallest width that
// interpolates robustly and cleanly. Writes results.json, runs.csv, thresholds.csv and two SVG charts.
// usage: swift run -c release AdversarialTrainingWidth [OUT_DIR] [quick]
//        (default: a new temporary folder; "quick" runs a reduced grid in seconds, for a smoke test)
import Foundation
import Tangent

/// Everything the study varies or fixes; stored in results.json.
struct StudySettings: Codable {
    var dimension = 20
    var trainSize = 400
    var widths = (3...14).map { 1 << $0 }               // 8 … 16,384
    var epsilons: [Float] = [0.1, 0.2, 0.3]             // ℓ2 radii; the inputs have norm 1
    var steps = 800                                     // full-batch gradient-descent steps
    var learningRate: Float = 10                        // on the mean squared error; stable at every width here
    var trainingPGDSteps = 5                            // step 2.5ε/steps, random start
    var evaluationPGDSteps = 20                         // step 2.5ε/steps, random start
    var measureEvery = 100
    var dataSeed: UInt64 = 0
    var modelSeed: UInt64 = 1

    /// A grid that runs in seconds: the same task, fewer and smaller widths, fewer steps.
    static var quick: StudySettings {
        var s = StudySettings()
        s.trainSize = 100; s.widths = [8, 32, 128]; s.steps = 60; s.measureEvery = 20
        return s
    }

    func attack(_ epsilon: Float, steps: Int) -> PGDConfiguration {
        PGDConfiguration(epsilon: epsilon, stepSize: 2.5 * epsilon / Float(steps), steps: steps, randomStart: true)
    }

    /// One run: clean training (`epsilon` nil) or ℓ2 PGD adversarial training at `epsilon`.
    func experiment(width: Int, epsilon: Float?) -> TwoLayerExperiment {
        let adversarial = epsilon.map { RegressionTrainingSettings.Attack(pgd: attack($0, steps: trainingPGDSteps), norm: .l2) }
        return TwoLayerExperiment(
            dimension: dimension, inputs: .sphere, teacher: .linear, labelFlipProbability: 0.5, signTargets: true,
            trainSize: trainSize, testSize: 1, width: width, activation: .relu,
            regime: TwoLayerRegime(trainsFirstLayer: true, trainsOutputLayer: false), learningRate: learningRate,
            training: RegressionTrainingSettings(epochs: steps, adversarialTraining: adversarial, measureEvery: measureEvery),
            dataSeed: dataSeed, modelSeed: modelSeed)
    }
}

/// The trained net measured on the training set at one ε.
struct RobustMeasure: Codable {
    var epsilon: Float
    /// Mean over the training set of the worst squared error PGD-20 found in the ε-ball.
    var robustLoss: Double
    /// Fraction of training points whose ε-ball PGD-20 on the margin −y f could not flip.
    var robustAccuracy: Double
    /// The same fraction under PGD-20 on the squared error (a weaker attack for signs, kept for comparison).
    var robustAccuracySquaredErrorAttack: Double
}

/// One (training ε, width) run.
struct RunRecord: Codable {
    /// 0 for clean training.
    var trainingEpsilon: Float
    var width: Int
    var seconds: Double
    var cleanLoss: Double
    var cleanAccuracy: Double
    /// At the training ε for adversarial training; at every study ε for clean training.
    var robust: [RobustMeasure]
    /// (epoch, mean squared error, adversarial squared error under the training attack) every `measureEvery` steps.
    var history: [[Double]]
}

/// The smallest width of the grid from which every wider net interpolates (all n training points correct,
/// robustly for ε > 0), and the same with 99 % of the points.
struct Threshold: Codable {
    var trainingEpsilon: Float
    var allPoints: Int?
    var ninetyNinePercent: Int?
}

struct StudyResults: Codable {
    var settings: StudySettings
    /// The least distance between training points of opposite labels: robust interpolation at ε needs 2ε below it.
    var separation: Double
    var runs: [RunRecord]
    var thresholds: [Threshold]
}

/// The least ℓ2 distance between two training inputs with different labels.
func separation(_ samples: SyntheticSamples) -> Double {
    let d = samples.dimension
    var least = Double.infinity
    for i in 0..<samples.count {
        for j in (i + 1)..<samples.count where samples.labels[i] != samples.labels[j] {
            var squares = 0.0
            for k in 0..<d { let t = Double(samples.inputs[i * d + k] - samples.inputs[j * d + k]); squares += t * t }
            least = min(least, squares)
        }
    }
    return least.squareRoot()
}

/// The training measure a threshold reads: clean accuracy for clean training, robust accuracy at ε otherwise.
func accuracy(_ run: RunRecord) -> Double {
    run.trainingEpsilon == 0 ? run.cleanAccuracy : run.robust.first { $0.epsilon == run.trainingEpsilon }?.robustAccuracy ?? 0
}

func threshold(_ runs: [RunRecord], trainingEpsilon: Float, trainSize: Int) -> Threshold {
    let sorted = runs.filter { $0.trainingEpsilon == trainingEpsilon }.sorted { $0.width < $1.width }
    func smallest(_ needed: Int) -> Int? {
        var answer: Int?
        for run in sorted.reversed() {
            guard Int((accuracy(run) * Double(trainSize)).rounded()) >= needed else { break }
            answer = run.width
        }
        return answer
    }
    return Threshold(trainingEpsilon: trainingEpsilon, allPoints: smallest(trainSize),
                     ninetyNinePercent: smallest(Int((0.99 * Double(trainSize)).rounded(.up))))
}

func run(settings: StudySettings, output: String) throws {
    try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
    guard case .fixed(let train) = try settings.experiment(width: settings.widths[0], epsilon: nil).makeTrainer().trainer.data else {
        throw WorkbenchError.mismatch("the study needs a fixed training set")
    }
    let gap = separation(train)
    if let largest = settings.epsilons.max(), Double(2 * largest) >= gap {
        throw WorkbenchError.invalidSetting(name: "largest ε", value: "\(largest)",
                                            requirement: "below half the separation \(gap) of the two classes, or no net can interpolate robustly")
    }
    print(String(format: "n = %d points on the sphere in d = %d, random ±1 labels; opposite labels at least %.3f apart",
                 train.count, settings.dimension, gap))
    var runs: [RunRecord] = []
    for epsilon in [nil] + settings.epsilons.map(Optional.some) {
        for width in settings.widths {
            let (_, trainer) = try settings.experiment(width: width, epsilon: epsilon).makeTrainer()
            let start = Date()
            try trainer.fit()
            var rng = Xoshiro256(seed: 0xe7a1 &+ UInt64(width))
            let clean = try RegressionRobustness.evaluate(trainer.trainee, samples: train, attack: PGDConfiguration(epsilon: 0, stepSize: 0, steps: 0),
                                                          norm: .l2, rng: &rng)
            var robust: [RobustMeasure] = []
            for e in epsilon.map({ [$0] }) ?? settings.epsilons {
                let attack = settings.attack(e, steps: settings.evaluationPGDSteps)
                let squared = try RegressionRobustness.evaluate(trainer.trainee, samples: train, attack: attack, norm: .l2, rng: &rng)
                let margin = try RegressionRobustness.evaluate(trainer.trainee, samples: train, attack: attack, norm: .l2,
                                                               attackedLoss: .signMargin, rng: &rng)
                robust.append(RobustMeasure(epsilon: e, robustLoss: squared.adversarialRisk, robustAccuracy: margin.robustSignAccuracy,
                                            robustAccuracySquaredErrorAttack: squared.robustSignAccuracy))
            }
            let record = RunRecord(trainingEpsilon: epsilon ?? 0, width: width, seconds: Date().timeIntervalSince(start),
                                   cleanLoss: clean.cleanRisk, cleanAccuracy: clean.cleanSignAccuracy, robust: robust,
                                   history: trainer.history.map { [Double($0.epoch), $0.trainRisk ?? .nan, $0.trainAdversarialRisk ?? .nan] })
            runs.append(record)
            let own = robust.first { $0.epsilon == epsilon }
            print(String(format: "%@ width %5d: clean loss %.4f, accuracy %.4f%@ (%.0f s)",
                         epsilon.map { String(format: "ε = %.2f", $0) } ?? "clean   ", width, record.cleanLoss, record.cleanAccuracy,
                         own.map { String(format: "; robust loss %.4f, robust accuracy %.4f", $0.robustLoss, $0.robustAccuracy) } ?? "",
                         record.seconds))
            fflush(nil)
        }
    }
    let thresholds = ([0] + settings.epsilons).map { threshold(runs, trainingEpsilon: $0, trainSize: train.count) }
    let results = StudyResults(settings: settings, separation: gap, runs: runs, thresholds: thresholds)
    try write(results, to: output)
    for t in thresholds {
        func width(_ w: Int?) -> String { w.map { "from width \($0) on" } ?? "at no width of the grid" }
        print(String(format: "%@: all %d points %@; 99 %% of them %@",
                     t.trainingEpsilon == 0 ? "clean training, clean accuracy" : String(format: "ε = %.2f, robust accuracy", t.trainingEpsilon),
                     train.count, width(t.allPoints), width(t.ninetyNinePercent)))
    }
    print("wrote results.json, runs.csv, thresholds.csv, robust-loss-vs-width.svg, robust-accuracy-vs-width.svg in \(output)")
}

func write(_ results: StudyResults, to output: String) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    try encoder.encode(results).write(to: URL(fileURLWithPath: output + "/results.json"))

    let epsilons = results.settings.epsilons
    var csv = "training_epsilon,width,seconds,clean_loss,clean_accuracy"
    for e in epsilons { csv += ",robust_loss@\(e),robust_accuracy@\(e),robust_accuracy_squared_attack@\(e)" }
    for run in results.runs {
        csv += "\n\(run.trainingEpsilon),\(run.width),\(String(format: "%.1f", run.seconds)),\(run.cleanLoss),\(run.cleanAccuracy)"
        for e in epsilons {
            let m = run.robust.first { $0.epsilon == e }
            csv += m.map { ",\($0.robustLoss),\($0.robustAccuracy),\($0.robustAccuracySquaredErrorAttack)" } ?? ",,,"
        }
    }
    try (csv + "\n").write(toFile: output + "/runs.csv", atomically: true, encoding: .utf8)
    let rows = results.thresholds.map { "\($0.trainingEpsilon),\($0.allPoints.map(String.init) ?? ""),\($0.ninetyNinePercent.map(String.init) ?? "")" }
    try (["training_epsilon,smallest_width_all_points,smallest_width_99_percent"] + rows).joined(separator: "\n")
        .appending("\n").write(toFile: output + "/thresholds.csv", atomically: true, encoding: .utf8)

    func series(_ name: String, trainingEpsilon: Float, dashed: Bool = false, _ value: (RunRecord) -> Double?) -> LineChart.Series {
        let chosen = results.runs.filter { $0.trainingEpsilon == trainingEpsilon }.sorted { $0.width < $1.width }
        return LineChart.Series(name: name, x: chosen.map { Double($0.width) }, y: chosen.map { value($0) ?? .nan }, dashed: dashed)
    }
    func robust(_ run: RunRecord, _ e: Float) -> RobustMeasure? { run.robust.first { $0.epsilon == e } }
    let n = results.settings.trainSize
    var loss = LineChart(title: "Final robust training loss after \(results.settings.steps) GD steps (n = \(n), d = \(results.settings.dimension))",
                         xLabel: "width m", yLabel: "mean worst squared error in the ε-ball (PGD-20)", logScaleY: true)
    loss.logScaleX = true
    for e in epsilons { loss.add(series("adversarial training, ε = \(e)", trainingEpsilon: e) { robust($0, e)?.robustLoss }) }
    loss.add(series("clean training: clean loss", trainingEpsilon: 0, dashed: true) { $0.cleanLoss })
    try loss.write(to: output + "/robust-loss-vs-width.svg")

    var accuracyChart = LineChart(title: "Training accuracy after \(results.settings.steps) GD steps (1 = interpolation of all \(n) points)",
                                  xLabel: "width m", yLabel: "fraction of training points")
    accuracyChart.logScaleX = true
    for e in epsilons { accuracyChart.add(series("robust at ε = \(e), adversarial training", trainingEpsilon: e) { robust($0, e)?.robustAccuracy }) }
    accuracyChart.add(series("clean, clean training", trainingEpsilon: 0) { $0.cleanAccuracy })
    for e in epsilons { accuracyChart.add(series("robust at ε = \(e), clean training", trainingEpsilon: 0, dashed: true) { robust($0, e)?.robustAccuracy }) }
    try accuracyChart.write(to: output + "/robust-accuracy-vs-width.svg")
}

let arguments = Array(CommandLine.arguments.dropFirst())
let output = arguments.first ?? NSTemporaryDirectory() + "tangent-adversarial-training-width-\(getpid())"
do {
    try run(settings: arguments.dropFirst().first == "quick" ? .quick : StudySettings(), output: output)
} catch {
    FileHandle.standardError.write(Data("AdversarialTrainingWidth: \(error)\n".utf8))
    exit(1)
}
