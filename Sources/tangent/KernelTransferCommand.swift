import ArgumentParser
import Foundation
import Tangent

/// `tangent kernel transfer`: the Appendix C experiment — wide centred two-layer networks against the
/// two-layer NTK's gradient-flow predictor, per epoch, for several widths and seeds.
struct KernelTransferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transfer",
        abstract: "Train wide two-layer nets (frozen ±1 output, centred) and compare them with the NTK predictor matched in time.",
        discussion: """
        Each network f(x) = (1/√m) Σ a_r [relu(w_r·x) − relu(w⁰_r·x)] is trained by full-batch gradient \
        descent with step --rate on ½‖F − Y‖² (summed; ±1 targets) and, after every step k, compared on the \
        test images with the two-layer NTK's gradient-flow predictor at time k: the cosine similarity of \
        their loss input-gradients and the network's accuracy under its own FGSM/PGD (ℓ∞, ε = --eps) and under \
        the same attacks crafted against the kernel predictor. Each finished (width, seed) is saved in \
        runs/ under --out and skipped when the command is run again with the same settings. Writes \
        results.json, results.csv, similarity.svg (one line per width) and robustness.svg into --out.
        """)

    @Option(help: ArgumentHelp("binary:CLASS_A,CLASS_B (indices or names; A gets −1, B +1).", valueName: "task"))
    var task: String = "binary:3,5"
    @Option(help: "mnist | fashion-mnist.") var dataset: String = "mnist"
    @Option(help: "Folder with the standard data files (MNIST falls back to the embedded sample).") var dataDir: String?
    @Option(help: "Training images (of the task's classes).") var train: Int = 1000
    @Option(help: "Test images the networks and the kernel are compared and attacked on.") var test: Int = 100
    @Option(help: ArgumentHelp("first | per-class.", valueName: "pick")) var pick: String = "per-class"
    @Option(help: ArgumentHelp("Hidden widths, comma-separated.", valueName: "m,m,…")) var widths: String = "1024,2048,4096,8192,16384"
    @Option(help: ArgumentHelp("Initialisation seeds, comma-separated.", valueName: "s,s,…")) var seeds: String = "0,1,2"
    @Option(help: "Gradient-descent steps (epochs) per network.") var epochs: Int = 20
    @Option(help: "Step η on ½‖F − Y‖² summed over the training set (must keep η·λ_max(Θ) below 2).") var rate: Double = 5e-5
    @Option(help: "ε of the ℓ∞ attacks on [0, 1] pixels.") var eps: Float = 0.1
    @Option(help: "PGD steps.") var pgdSteps: Int = 10
    @Option(help: "PGD step size (default: ε/4).") var pgdStep: Float?
    @Option(help: "Measure on the test images every this many epochs (and at the first and last).") var measureEvery: Int = 1
    @Option(help: "Memory budget of the kernel's eigen-decomposition, in MB.") var memoryBudget: Int = 4096
    @Option(help: "Output folder.") var out: String
    @OptionGroup var dataLimits: DataLimitOptions

    func validate() throws {
        guard case .binary = try TaskChoice(argument: task) else {
            throw ValidationError("--task \(task): the transfer experiment needs a binary task (binary:CLASS_A,CLASS_B)")
        }
        try requireOption(["mnist", "fashion-mnist"].contains(dataset), "--dataset takes mnist or fashion-mnist, not '\(dataset)'")
        try requireOption(train >= 2, "--train must be at least 2, got \(train)")
        try requireOption(test >= 1, "--test must be positive, got \(test)")
        try requireOption(KernelSampleSelection(rawValue: pick) != nil, "--pick takes \(KernelSampleSelection.allCases.map(\.rawValue).joined(separator: ", ")), not '\(pick)'")
        _ = try parsedWidths()
        _ = try parsedSeeds()
        try requireOption(epochs >= 1 && epochs <= 1_000_000, "--epochs must be in 1–1000000, got \(epochs)")
        try requireOption(rate.isFinite && rate > 0 && Float(rate) > 0, "--rate must be finite and positive, got \(rate)")
        try requireOption(eps.isFinite && eps >= 0 && eps <= 1, "--eps must be in [0, 1], got \(eps)")
        try requireOption(pgdSteps >= 0 && pgdSteps <= 100_000, "--pgd-steps must be in 0–100000, got \(pgdSteps)")
        try requireOption(measureEvery >= 1, "--measure-every must be positive, got \(measureEvery)")
        if let pgdStep { try requireOption(pgdStep.isFinite && pgdStep > 0, "--pgd-step must be finite and positive, got \(pgdStep)") }
        try requireOption(memoryBudget >= 1 && memoryBudget <= Int.max >> 20, "--memory-budget must be a positive number of MB, got \(memoryBudget)")
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: out, isDirectory: &isDirectory) {
            try requireOption(isDirectory.boolValue, "--out \(out) exists and is not a folder")
        }
    }

    func parsedWidths() throws -> [Int] {
        let values = widths.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) >= 1 && ($0 ?? 0) <= 1 << 24 }) else {
            throw ValidationError("--widths takes comma-separated whole numbers in 1–16777216, not '\(widths)'")
        }
        return values.compactMap { $0 }
    }

    func parsedSeeds() throws -> [UInt64] {
        let values = seeds.split(separator: ",", omittingEmptySubsequences: false).map { UInt64($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ $0 != nil }) else {
            throw ValidationError("--seeds takes comma-separated whole numbers from 0 to \(UInt64.max), not '\(seeds)'")
        }
        return values.compactMap { $0 }
    }

    func run() throws {
        let kind = try DatasetKind(name: dataset)
        let data = try TrainingData.load(kind, directory: dataDir, limits: dataLimits.limits())
        let kernelTask = try TaskChoice(argument: task).task(classNames: data.train.classNames, dataset: dataset)
        let selection = KernelSampleSelection(rawValue: pick) ?? .perClass
        let (trainX, trainY) = try kernelTask.samples(from: data.train, count: train, selection: selection)
        let (testX, testY) = try kernelTask.samples(from: data.test, count: test, selection: selection)
        // The experiment's labels are 0 (−1) and 1 (+1): the task's first and second class.
        let positive = kernelTask.classes[1]
        func binary(_ labels: [Int32]) -> [Int32] { labels.map { $0 == positive ? 1 : 0 } }
        let experiment = try TransferExperiment(
            trainingInputs: try trainX.flattenedBatch(), trainingLabels: binary(trainY),
            probeInputs: try testX.flattenedBatch(), probeLabels: binary(testY), learningRate: rate,
            memoryBudgetBytes: memoryBudget << 20)
        let lambdaMax = experiment.flow.eigenvalues.first ?? 0
        let stability = experiment.flow.learningRate * lambdaMax
        print("data: \(data.source); task \(kernelTask.description); \(train) train / \(test) test images (\(selection.rawValue))")
        print(String(format: "kernel: λ_max(Θ) = %.4g, η·λ_max = %.3g; after %d steps the top direction has decayed by e^-%.3g",
                     lambdaMax, stability, epochs, stability * Double(epochs)))
        guard stability < 2 else {
            throw ValidationError(String(format: "--rate %g: η·λ_max(Θ) = %.3g ≥ 2, gradient descent diverges; take --rate below %.3g",
                                         rate, stability, 2 / lambdaMax))
        }
        let header = TransferStudyHeader(
            dataset: dataset, dataSource: data.source, task: kernelTask.description, train: train, test: test,
            pick: selection.rawValue, learningRate: experiment.flow.learningRate, epochs: epochs, epsilon: eps,
            pgdSteps: pgdSteps, pgdStepSize: pgdStep ?? eps / 4, measurementInterval: measureEvery,
            largestEigenvalue: lambdaMax)
        let folder = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("runs"), withIntermediateDirectories: true)
        var runs: [TransferStudyRun] = []
        func settings(width: Int, seed: UInt64) -> TransferSettings {
            TransferSettings(width: width, seed: seed, epochs: epochs, learningRate: rate, epsilon: eps, pgdSteps: pgdSteps,
                             pgdStepSize: pgdStep ?? eps / 4, measurementInterval: measureEvery)
        }
        for width in try parsedWidths() {
            for seed in try parsedSeeds() {
                let file = folder.appendingPathComponent("runs/width-\(width)-seed-\(seed).json")
                if let saved = try? JSONDecoder().decode(TransferStudyRun.self, from: Data(contentsOf: file)),
                   saved.header == header, saved.width == width, saved.seed == seed, saved.epochs.map(\.epoch) == settings(width: width, seed: seed).measuredEpochs {
                    print("width \(width) seed \(seed): already done (\(file.path))")
                    runs.append(saved)
                    continue
                }
                let start = Date()
                let records = try experiment.run(settings(width: width, seed: seed)) { record, _ in
                    print(String(format: "width %d seed %d epoch %d: loss %.4f, similarity %@, net %.3f / kernel %.3f clean, own FGSM %.3f PGD %.3f, kernel FGSM %.3f PGD %.3f (%.0f s)",
                                 width, seed, record.epoch, record.trainingLoss,
                                 record.gradientSimilarity.map { String(format: "%.4f", $0) } ?? "–",
                                 record.networkAccuracy, record.kernelAccuracy, record.ownFGSMAccuracy, record.ownPGDAccuracy,
                                 record.kernelFGSMAccuracy, record.kernelPGDAccuracy, Date().timeIntervalSince(start)))
                    fflush(nil)
                }
                let run = TransferStudyRun(header: header, width: width, seed: seed, seconds: Date().timeIntervalSince(start), epochs: records)
                try TransferStudyFiles.encoder.encode(run).write(to: file, options: .atomic)
                runs.append(run)
            }
        }
        try TransferStudyFiles(header: header, runs: runs).write(to: folder)
        print("wrote \(out)/results.json, results.csv, similarity.svg, robustness.svg")
    }
}
