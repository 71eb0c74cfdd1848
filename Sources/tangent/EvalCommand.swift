import ArgumentParser
import Foundation
import Tangent

/// `tangent eval CHECKPOINT --eps 0.1,0.2,0.3`: clean and PGD accuracy of a saved model.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval", abstract: "Clean and robust (PGD) accuracy of a checkpoint's model at several ε.")

    @Argument(help: "A checkpoint file, or a run folder (its newest checkpoint).") var path: String
    @Option(help: "Comma-separated ε values.") var eps: String = "0.1,0.2,0.3"
    @Option(help: "PGD step size (default: the run's data set default).") var stepSize: Float?
    @Option(help: "PGD steps.") var steps: Int = 20
    @Flag(help: "Random start inside the ε-ball.") var randomStart = false
    @Option(help: "Data folder (default: the run's).") var dataDir: String?
    @Option(help: "Attack the first N test images (CIFAR-10: a seeded sample).") var testSubset: Int = 1000
    @Option(help: "Seed for random starts.") var seed: UInt64 = 0
    @OptionGroup var dataLimits: DataLimitOptions

    /// The ε values of `--eps`, each finite and not negative.
    func epsilons() throws -> [Float] {
        try eps.split(separator: ",").map { s -> Float in
            guard let v = Float(s.trimmingCharacters(in: .whitespaces)), v.isFinite, v >= 0 else {
                throw ValidationError("--eps: '\(s)' is not a finite non-negative number")
            }
            return v
        }
    }

    func validate() throws {
        try requireOption(testSubset >= 1, "--test-subset must be positive, got \(testSubset)")
        try requireOption(steps >= 0, "--steps must be at least 0, got \(steps)")
        if let stepSize { try requireOption(stepSize.isFinite && stepSize >= 0, "--step-size must be finite and not negative, got \(stepSize)") }
        _ = try epsilons()
    }

    func run() throws {
        let (_, file, checkpoint) = try TrainingSession.locate(path)
        var config = try RunDescription.stored(in: checkpoint, path: file)
        if let dataDir { config.dataDirectory = dataDir }
        config.testSubset = testSubset
        let run = try config.components(dataLimits: dataLimits.limits())
        let (model, data) = (run.model, run.data)
        try TrainingCheckpoint.loadParameters(into: model, from: checkpoint, path: file)
        print("checkpoint: \(file) (epoch \(checkpoint.metadata["epoch"] ?? "?"), step \(checkpoint.metadata["step"] ?? "?"))")
        print("data: \(data.source), \(data.test.count) test images")
        let defaults = PGDConfiguration.paper(cifar: config.dataset == .cifar10)
        print("eps       clean_accuracy  robust_accuracy  adversarial_loss")
        for e in try epsilons() {
            let attack = PGDConfiguration(epsilon: e, stepSize: stepSize ?? defaults.stepSize, steps: steps, randomStart: randomStart)
            var attackRNG = Xoshiro256(seed: seed)
            let r = try RobustEvaluation.evaluate(model, on: data.test, limit: data.test.count, attack: .pgd(attack),
                                                  loss: run.loss, rng: &attackRNG)
            print(String(format: "%-8.4f  %14.4f  %15.4f  %16.4f", e, r.cleanAccuracy, r.robustAccuracy, r.adversarialLoss))
            if let w = r.gradientMaskingWarning { print("warning: \(w)") }
        }
    }
}
