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
}

/// What `tangent kernel fit|attack` writes to results.json (and, flattened, results.csv).
struct KernelResults: Codable {
    let command: String
    let kernel: String
    let kernelDescription: String
    let model: String?
    let dataset: String
    let dataSource: String
    let task: String
    let pick: String
    let testPick: String
    let train: Int
    let test: Int
    let ridge: Double
    let smallestPivot: Double?
    let fitSeconds: Double
    let cleanAccuracy: Double
    let attacks: [KernelAttackResult]

    init(command: String, problem: KernelProblem, cleanAccuracy: Double, attacks: [KernelAttackResult]) {
        self.command = command
        kernel = problem.kernelSpec
        kernelDescription = problem.kernelDescription
        model = problem.modelDescription
        dataset = problem.dataset.rawValue
        dataSource = problem.dataSource
        task = problem.taskDescription
        pick = problem.selection.rawValue
        testPick = problem.testSelection.rawValue
        train = problem.trainLabels.count
        test = problem.testLabels.count
        ridge = problem.ridge
        smallestPivot = problem.predictor.smallestPivot?.value
        fitSeconds = problem.fitSeconds
        self.cleanAccuracy = cleanAccuracy
        self.attacks = attacks
    }

    /// Writes results.json, results.csv and, when there are attacks, accuracy.svg into `folder`
    /// (created if needed); each file is replaced atomically.
    func write(to folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        try encoder.encode(self).write(to: URL(fileURLWithPath: folder).appendingPathComponent("results.json"), options: .atomic)

        var csv = "attack,loss,norm,epsilon,steps,step_size,random_start,accuracy,clean_loss,adversarial_loss,seconds\n"
        csv += "clean,,,0,0,0,false,\(cleanAccuracy),,,\n"
        for r in attacks {
            csv += "\(r.attack),\(r.loss),\(r.norm),\(r.epsilon),\(r.steps),\(r.stepSize),\(r.randomStart),\(r.accuracy),\(r.cleanLoss),\(r.adversarialLoss),\(r.seconds)\n"
        }
        try csv.write(toFile: (folder as NSString).appendingPathComponent("results.csv"), atomically: true, encoding: .utf8)

        guard !attacks.isEmpty else { return }
        var chart = LineChart(title: "Kernel predictor under attack: \(task), \(kernel)", xLabel: "ε", yLabel: "test accuracy")
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
