import Foundation
import Tangent

/// One ε of `tangent eval`: the attack and the evaluated model's accuracies.
struct EvalRow: Codable {
    var epsilon: Float
    var attack: String
    var steps: Int
    var stepSize: Float
    var randomStart: Bool
    var examples: Int
    var cleanAccuracy = 0.0
    /// The evaluated model's accuracy on the attacked images (its own attack, or transferred ones).
    var robustAccuracy = 0.0
    var adversarialLoss = 0.0
    /// With an attack crafted against another model: that model's accuracy under its own attack.
    var sourceRobustAccuracy: Double?
    var seconds = 0.0

    init(epsilon: Float, attack: String, steps: Int, stepSize: Float, randomStart: Bool, examples: Int) {
        (self.epsilon, self.attack, self.steps, self.stepSize, self.randomStart, self.examples) = (epsilon, attack, steps, stepSize, randomStart, examples)
    }

    init(epsilon: Float, kind: AttackKind, examples: Int) {
        switch kind {
        case .fgsm(let e): self.init(epsilon: epsilon, attack: "fgsm", steps: 1, stepSize: e, randomStart: false, examples: examples)
        case .pgd(let c): self.init(epsilon: epsilon, attack: "pgd", steps: c.steps, stepSize: c.stepSize, randomStart: c.randomStart, examples: examples)
        }
    }
}

/// What `tangent eval` measured, printed as a table and written as eval.json and eval.csv.
struct EvalReport: Codable {
    var checkpoint: String
    var epoch: String?
    var step: String?
    var dataset: String
    var dataSource: String
    /// The model or file the attacks came from; nil for white-box attacks on the evaluated model.
    var attackFrom: String?
    var rows: [EvalRow]

    /// The table on standard output.
    func printTable() {
        let transfer = rows.contains { $0.sourceRobustAccuracy != nil }
        print("eps       attack  clean_accuracy  robust_accuracy  adversarial_loss" + (transfer ? "  source_robust_accuracy" : ""))
        for r in rows {
            var line = String(format: "%-8.4f  ", r.epsilon) + r.attack.padding(toLength: 6, withPad: " ", startingAt: 0)
                + String(format: "  %14.4f  %15.4f  %16.4f", r.cleanAccuracy, r.robustAccuracy, r.adversarialLoss)
            if let s = r.sourceRobustAccuracy { line += String(format: "  %22.4f", s) }
            print(line)
        }
    }

    /// Writes eval.json and eval.csv into `folder` (created if needed), each replaced atomically.
    func write(to folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: URL(fileURLWithPath: folder).appendingPathComponent("eval.json"), options: .atomic)
        var csv = CSVText.row(["epsilon", "attack", "steps", "step_size", "random_start", "examples", "clean_accuracy",
                               "robust_accuracy", "adversarial_loss", "source_robust_accuracy", "attack_from", "seconds"])
        for r in rows {
            csv += CSVText.row(["\(r.epsilon)", r.attack, "\(r.steps)", "\(r.stepSize)", "\(r.randomStart)", "\(r.examples)",
                                "\(r.cleanAccuracy)", "\(r.robustAccuracy)", "\(r.adversarialLoss)",
                                r.sourceRobustAccuracy.map { "\($0)" } ?? "", attackFrom ?? "", "\(r.seconds)"])
        }
        try csv.write(toFile: (folder as NSString).appendingPathComponent("eval.csv"), atomically: true, encoding: .utf8)
    }
}
