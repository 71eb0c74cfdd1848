import ArgumentParser
import Foundation
import Tangent

/// An attack `tangent kernel attack` runs on the kernel predictor.
enum KernelAttackChoice: String, CaseIterable {
    /// One step of size ε along the sign of the cross-entropy gradient.
    case fgsm
    /// PGD-ℓ∞ on the cross-entropy (binary for ±1 tasks, softmax otherwise).
    case pgd
    /// PGD in the ℓ2 ball of radius ε on the cross-entropy.
    case pgdL2 = "pgd-l2"
    /// PGD-ℓ∞ on the label-free first-order Taylor loss.
    case taylor
    /// PGD-ℓ∞ on the label-free max-of-k loss.
    case maxOfK = "max-of-k"
    /// PGD-ℓ∞ on the label-free sum-of-k loss.
    case sumOfK = "sum-of-k"
    /// PGD-ℓ∞ on the Carlini–Wagner-style margin loss.
    case cw

    /// The loss the attack climbs on a predictor of `task`.
    func loss(task: KernelTask, k: Int, confidence: Double) -> KernelAttackLoss {
        switch self {
        case .fgsm, .pgd, .pgdL2: return .crossEntropy(for: task)
        case .taylor: return .firstOrderTaylor
        case .maxOfK: return .maxOfK(k)
        case .sumOfK: return .sumOfK(k)
        case .cw: return .margin(confidence: confidence)
        }
    }

    /// ℓ2 for pgd-l2, ℓ∞ for every other attack.
    var norm: PerturbationNorm { self == .pgdL2 ? L2Ball() : LInfinity() }
    var normName: String { self == .pgdL2 ? "l2" : "linf" }
}

/// One attack at one ε, as the attack options ask for it.
struct KernelAttackSetting {
    let choice: KernelAttackChoice
    let epsilon: Float
    let kind: AttackKind
    let loss: KernelAttackLoss
    var norm: PerturbationNorm { choice.norm }
    /// "fgsm ε 0.03137".
    var label: String { "\(choice.rawValue) ε \(String(format: "%.5g", epsilon))" }
    /// "fgsm_eps_0.03137": a CSV column or file-name stem.
    var key: String { "\(choice.rawValue)_eps_\(String(format: "%.5g", epsilon))" }
}

/// The attack options of `tangent kernel attack` and `tangent features`.
struct KernelAttackOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Comma-separated attacks: fgsm, pgd, pgd-l2, taylor, max-of-k, sum-of-k, cw (all but fgsm are PGD on their loss). Default: fgsm,pgd (kernel attack), fgsm (features).",
                               valueName: "attacks"))
    var attack: String?
    @Option(help: ArgumentHelp("Comma-separated ε values (fractions such as 8/255 allowed); the ℓ2 radius for pgd-l2. Default: 0.3 (MNIST), 8/255 (CIFAR-10).",
                               valueName: "list"))
    var eps: String?
    @Option(help: "PGD step size (the notebook's 0.01).") var stepSize: Float = 0.01
    @Option(help: "PGD steps (the notebook's 10).") var steps: Int = 10
    @Flag(help: "Start PGD uniformly inside the ε-ball instead of at δ = 0.") var randomStart = false
    @Flag(help: "Clip to [0, 1] after every PGD step, not only at the end.") var clipEveryStep = false
    @Option(help: "k of max-of-k and sum-of-k (1 for a binary task; at most classes − 1).") var k: Int = 1
    @Option(help: "Confidence κ of the cw margin loss (inf: never capped).") var confidence: Double = .infinity
    @Option(help: "Test images attacked per batch.") var attackBatchSize: Int = 500
    @Option(help: "Seed of random starts.") var seed: UInt64 = 0

    func validate() throws {
        _ = try attacks(default: "fgsm")
        if let eps {
            try requireOption(!(try NumberArgument.nonNegativeList(eps, option: "--eps")).isEmpty, "--eps needs at least one value")
        }
        try requireOption(stepSize.isFinite && stepSize > 0, "--step-size must be finite and positive, got \(stepSize)")
        try requireOption(steps >= 1, "--steps must be at least 1, got \(steps)")
        try requireOption(k >= 1, "--k must be at least 1, got \(k)")
        try requireOption(!confidence.isNaN && confidence >= 0, "--confidence must be at least 0 (or inf), got \(confidence)")
        try requireOption(attackBatchSize >= 1, "--attack-batch-size must be positive, got \(attackBatchSize)")
    }

    /// The attacks of `--attack` (or of `defaultList` without it), without repeats.
    func attacks(default defaultList: String) throws -> [KernelAttackChoice] {
        var chosen: [KernelAttackChoice] = []
        for name in (attack ?? defaultList).split(separator: ",", omittingEmptySubsequences: false).map({ $0.trimmingCharacters(in: .whitespaces) }) {
            guard let a = KernelAttackChoice(rawValue: name) else {
                throw ValidationError("--attack: '\(name)' is not an attack; choose from \(KernelAttackChoice.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if !chosen.contains(a) { chosen.append(a) }
        }
        return chosen
    }

    /// How many attack settings (attacks × ε values) the options ask for, `defaultAttacks` without `--attack`.
    func settingCount(defaultAttacks: String) throws -> Int {
        try attacks(default: defaultAttacks).count * (try eps.map { try NumberArgument.nonNegativeList($0, option: "--eps").count } ?? 1)
    }

    /// Every attack at every ε, attack by attack, for a predictor of `task` on `dataset`'s images.
    func settings(task: KernelTask, dataset: DatasetKind, defaultAttacks: String) throws -> [KernelAttackSetting] {
        let list = try eps.map { try NumberArgument.nonNegativeList($0, option: "--eps") } ?? [PGDConfiguration.paper(cifar: dataset == .cifar10).epsilon]
        return try attacks(default: defaultAttacks).flatMap { choice in
            list.map { e in
                let kind: AttackKind = choice == .fgsm
                    ? .fgsm(epsilon: e)
                    : .pgd(PGDConfiguration(epsilon: e, stepSize: stepSize, steps: steps, randomStart: randomStart, clipEveryStep: clipEveryStep))
                return KernelAttackSetting(choice: choice, epsilon: e, kind: kind, loss: choice.loss(task: task, k: k, confidence: confidence))
            }
        }
    }

    /// Runs every attack at every ε against `predictor` on the problem's test images; with
    /// `saveAdversarial`, the attacked test images of the (one) attack are saved to that file.
    func run(on predictor: KernelPredictor, problem: KernelProblem, saveAdversarial: String? = nil) throws -> [KernelAttackResult] {
        var results: [KernelAttackResult] = []
        for setting in try settings(task: predictor.task, dataset: problem.dataset, defaultAttacks: "fgsm,pgd") {
            let objective = try KernelAttackObjective(predictor: predictor, loss: setting.loss)
            var rng = Xoshiro256(seed: seed)
            let start = DispatchTime.now().uptimeNanoseconds
            let (report, adversarial) = try RobustEvaluation.evaluateKeepingExamples(
                objective, images: problem.testInputs, labels: problem.testLabels, attack: setting.kind, norm: setting.norm,
                batchSize: attackBatchSize, rng: &rng)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let result = KernelAttackResult(setting, loss: objective.loss, steps: steps, stepSize: stepSize,
                                            randomStart: randomStart, report: report, seconds: seconds)
            print(setting.choice.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)
                  + String(format: " ε %-8.5g accuracy %.4f  loss %.4f → %.4f  (%.2f s)", setting.epsilon,
                         report.robustAccuracy, report.cleanLoss, report.adversarialLoss, seconds))
            if let warning = report.gradientMaskingWarning { print("warning: \(warning)") }
            results.append(result)
            if let saveAdversarial {
                try AdversarialExampleSet(clean: problem.testInputs, adversarial: adversarial, labels: problem.testLabels, provenance: [
                    "attack": setting.choice.rawValue, "loss": objective.loss.description, "norm": setting.choice.normName,
                    "epsilon": "\(setting.epsilon)", "steps": "\(result.steps)", "step_size": "\(result.stepSize)",
                    "random_start": "\(result.randomStart)", "dataset": problem.dataset.rawValue,
                    "source": "kernel predictor \(problem.kernelDescription), \(problem.trainLabels.count) training images, \(problem.taskDescription)",
                ]).write(to: saveAdversarial)
                print("saved the adversarial examples to \(saveAdversarial)")
            }
        }
        return results
    }
}
