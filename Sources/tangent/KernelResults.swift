import Foundation
import Tangent

/// One attack at one ε on a kernel predictor.
struct KernelAttackResult: Codable, Equatable {
    let attack: String
    let loss: String
    let norm: String
    let epsilon: Double
    let steps: Int
    let stepSize: Double
    let randomStart: Bool
    /// Accuracy on the attacked test images.
    let accuracy: Double
    let cleanLoss: Double
    let adversarialLoss: Double
    let seconds: Double

    /// The record of `setting` run with the PGD settings given (FGSM: one step of ε from δ = 0).
    init(_ setting: KernelAttackSetting, loss: KernelAttackLoss, steps: Int, stepSize: Float, randomStart: Bool,
         report: RobustnessReport, seconds: Double) {
        let fgsm = setting.choice == .fgsm
        attack = setting.choice.rawValue
        self.loss = loss.description
        norm = setting.choice.normName
        epsilon = Self.decimal(setting.epsilon)
        self.steps = fgsm ? 1 : steps
        self.stepSize = Self.decimal(fgsm ? setting.epsilon : stepSize)
        self.randomStart = !fgsm && randomStart
        accuracy = report.robustAccuracy
        cleanLoss = report.cleanLoss
        adversarialLoss = report.adversarialLoss
        self.seconds = seconds
    }

    /// A Float setting as the shortest decimal that rounds to it (0.01, not 0.009999999776).
    static func decimal(_ v: Float) -> Double { Double(v.description) ?? Double(v) }
}

/// The kernel, data and task a kernel command ran on: the first keys of `tangent kernel`'s results.json,
/// the "problem" object of `tangent features`' JSON files.
struct KernelProblemRecord: Encodable {
    let kernel: String
    let kernelDescription: String
    let model: String?
    let dataset: String
    let dataSource: String
    let task: String
    let pick: String
    let testPick: String
    let pickSeed: UInt64
    let train: Int
    let test: Int
    /// Held-out validation images (0 when none were picked).
    let validation: Int
    let ridge: Double

    init(_ problem: KernelProblem) {
        kernel = problem.kernelSpec
        kernelDescription = problem.kernelDescription
        model = problem.modelDescription
        dataset = problem.dataset.rawValue
        dataSource = problem.dataSource
        task = problem.taskDescription
        pick = problem.selection.rawValue
        testPick = problem.testSelection.rawValue
        pickSeed = problem.pickSeed
        train = problem.trainLabels.count
        test = problem.testLabels.count
        validation = problem.validation?.labels.count ?? 0
        ridge = problem.ridge
    }
}

/// Writing a command's result files: JSON with sorted keys (non-finite numbers as "inf", "-inf",
/// "nan") and text, each replaced atomically, into a folder created if needed.
enum ResultFiles {
    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }

    static func writeJSON<Value: Encodable>(_ value: Value, to folder: String, name: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try encoder.encode(value).write(to: URL(fileURLWithPath: folder).appendingPathComponent(name), options: .atomic)
    }

    static func writeText(_ text: String, to folder: String, name: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try text.write(toFile: (folder as NSString).appendingPathComponent(name), atomically: true, encoding: .utf8)
    }
}

/// What `tangent kernel fit|attack` writes to results.json (and, flattened, results.csv): the problem's
/// keys, then the fit and the attacks.
struct KernelResults: Encodable {
    let command: String
    let problem: KernelProblemRecord
    let smallestPivot: Double?
    let fitSeconds: Double
    let cleanAccuracy: Double
    let attacks: [KernelAttackResult]

    init(command: String, problem: KernelProblem, fit: (predictor: KernelPredictor, seconds: Double),
         cleanAccuracy: Double, attacks: [KernelAttackResult]) {
        self.command = command
        self.problem = KernelProblemRecord(problem)
        smallestPivot = fit.predictor.smallestPivot?.value
        fitSeconds = fit.seconds
        self.cleanAccuracy = cleanAccuracy
        self.attacks = attacks
    }

    enum CodingKeys: String, CodingKey { case command, smallestPivot, fitSeconds, cleanAccuracy, attacks }

    /// The problem's keys and these in one flat object.
    func encode(to encoder: Encoder) throws {
        try problem.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(command, forKey: .command)
        try container.encode(smallestPivot, forKey: .smallestPivot)
        try container.encode(fitSeconds, forKey: .fitSeconds)
        try container.encode(cleanAccuracy, forKey: .cleanAccuracy)
        try container.encode(attacks, forKey: .attacks)
    }

    /// Writes results.json, results.csv and, when there are attacks, accuracy.svg into `folder`
    /// (created if needed); each file is replaced atomically.
    func write(to folder: String) throws {
        try ResultFiles.writeJSON(self, to: folder, name: "results.json")
        var csv = "attack,loss,norm,epsilon,steps,step_size,random_start,accuracy,clean_loss,adversarial_loss,seconds\n"
        csv += "clean,,,0,0,0,false,\(cleanAccuracy),,,\n"
        for r in attacks {
            csv += "\(r.attack),\(r.loss),\(r.norm),\(r.epsilon),\(r.steps),\(r.stepSize),\(r.randomStart),\(r.accuracy),\(r.cleanLoss),\(r.adversarialLoss),\(r.seconds)\n"
        }
        try ResultFiles.writeText(csv, to: folder, name: "results.csv")

        guard !attacks.isEmpty else { return }
        var chart = LineChart(title: "Kernel predictor under attack: \(problem.task), \(problem.kernel)", xLabel: "ε", yLabel: "test accuracy")
        chart.yRange = 0...1
        var names: [String] = []
        for r in attacks where !names.contains(r.attack) { names.append(r.attack) }
        for name in names {
            let points = attacks.filter { $0.attack == name }.map { (x: $0.epsilon, y: $0.accuracy) }
            chart.add(LineChart.Series(name: name, points: [(x: 0, y: cleanAccuracy)] + points))
        }
        try chart.write(to: (folder as NSString).appendingPathComponent("accuracy.svg"))
    }
}
