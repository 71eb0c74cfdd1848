import ArgumentParser
import Foundation
import Tangent

/// `tangent kernel fit|attack`: kernel regression with an analytic or empirical NTK, and attacks on it.
struct KernelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernel",
        abstract: "Fit kernel predictors f(x) = Θ(x, X) Θ(X, X)⁻¹ Y and attack them without training a network.",
        subcommands: [KernelFitCommand.self, KernelAttackCommand.self, KernelTransferCommand.self, KernelGramCommand.self])
}

/// `tangent kernel fit`: the t → ∞ predictor's clean test accuracy.
struct KernelFitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fit", abstract: "Fit the kernel predictor and report its clean test accuracy.")

    @OptionGroup var problem: KernelProblemOptions

    func run() throws {
        let p = try problem.makeProblem()
        let fit = try p.fitPrintingSummary()
        let clean = try fit.predictor.accuracy(p.testInputs, labels: p.testLabels)
        print(String(format: "clean test accuracy %.4f", clean))
        try KernelResults(command: "fit", problem: p, fit: fit, cleanAccuracy: clean, attacks: []).write(to: problem.out)
        print("wrote \(problem.out)/results.json, results.csv")
    }
}

/// `tangent kernel attack`: the predictor's accuracy under FGSM, PGD and the label-free attacks per ε.
struct KernelAttackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attack",
        abstract: "Fit the kernel predictor and attack it through Θ(x, X) at every ε.",
        discussion: """
        Binary tasks are attacked through the binary cross-entropy of the ±1 predictor, all-class tasks \
        through the softmax cross-entropy of the one-hot predictor. taylor, max-of-k and sum-of-k do not \
        read the test labels. Writes results.json, results.csv and accuracy.svg (accuracy against ε, ε = 0 \
        the clean accuracy) into --out.
        """)

    @OptionGroup var problem: KernelProblemOptions
    @OptionGroup var attacks: KernelAttackOptions
    @Option(help: "Save the attacked test images (one attack, one ε) to this file (.safetensors.zst), for `tangent eval --attack-from`.")
    var saveAdversarial: String?

    func validate() throws {
        if saveAdversarial != nil {
            let count = try attacks.settingCount(defaultAttacks: "fgsm,pgd")
            try requireOption(count == 1, "--save-adversarial saves the examples of one attack at one ε; --attack and --eps give \(count)")
        }
    }

    func run() throws {
        let p = try problem.makeProblem()
        let fit = try p.fitPrintingSummary()
        let clean = try fit.predictor.accuracy(p.testInputs, labels: p.testLabels)
        print(String(format: "clean test accuracy %.4f", clean))
        let results = try attacks.run(on: fit.predictor, problem: p, saveAdversarial: saveAdversarial)
        try KernelResults(command: "attack", problem: p, fit: fit, cleanAccuracy: clean, attacks: results).write(to: problem.out)
        print("wrote \(problem.out)/results.json, results.csv, accuracy.svg")
    }
}
