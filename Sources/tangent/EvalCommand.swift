import ArgumentParser
import Foundation
import Tangent

/// `tangent eval CHECKPOINT`: clean and robust accuracy of a saved model at several ε — under its own
/// (white-box) attack, under attacks crafted against another model (a transfer attack), or on a saved
/// file of adversarial examples (from `tangent eval` or `tangent kernel attack`).
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval", abstract: "Clean and robust accuracy of a checkpoint's model at several ε, white-box or transferred.",
        discussion: """
        By default the model is attacked through its own loss (white-box). --attack-from RUN_OR_CHECKPOINT \
        crafts the attacks against that model instead and scores this one on them; --attack-from FILE scores \
        it on the adversarial examples saved in FILE by --save-adversarial of `tangent eval` or `tangent \
        kernel attack` (so attacks on a kernel predictor are evaluated on any network this way). \
        --save-adversarial writes the attacked test images of one ε: tensors clean, adversarial (float32 \
        N×C×H×W) and labels (int32) in a zstd-compressed safetensors file (after `zstd -d`, \
        safetensors.numpy.load_file reads it).
        """)

    enum AttackChoice: String, ExpressibleByArgument, CaseIterable { case pgd, fgsm }

    @Argument(help: "A checkpoint file, or a run folder (its newest checkpoint).") var path: String
    @Option(help: "Comma-separated ε values, decimals or fractions (default: 0.1,0.2,0.3 for MNIST-like data, 2/255,4/255,8/255 for CIFAR-10).")
    var eps: String?
    @Option(help: "pgd (ℓ∞ PGD) or fgsm.") var attack: AttackChoice = .pgd
    @Option(help: "PGD step size, a decimal or a fraction (default: 2.5·ε/steps, which reaches the ε-ball's boundary; the paper's: 0.01 MNIST, 2/255 CIFAR-10).")
    var stepSize: NumberArgument?
    @Option(help: "PGD steps.") var steps: Int = 20
    @Flag(help: "Random start inside the ε-ball.") var randomStart = false
    @Flag(help: "Clip to [0, 1] after every PGD step, not only at the end.") var clipEveryStep = false
    @Option(help: "Craft the attacks against this model (a checkpoint or run folder) and score the evaluated one on them, or score it on a file of saved adversarial examples.")
    var attackFrom: String?
    @Option(help: "Save the attacked test images (a single ε) to this file (.safetensors.zst).") var saveAdversarial: String?
    @Option(help: "Also write eval.json and eval.csv into this folder.") var out: String?
    @Option(help: "Data folder (default: the run's).") var dataDir: String?
    @Option(help: "Attack the first N test images (CIFAR-10: a seeded sample).") var testSubset: Int = 1000
    @Option(help: "Seed for random starts.") var seed: UInt64 = 0
    @OptionGroup var dataLimits: DataLimitOptions

    func validate() throws {
        try requireOption(testSubset >= 1, "--test-subset must be positive, got \(testSubset)")
        try requireOption(steps >= 1, "--steps must be at least 1, got \(steps)")
        if let stepSize { try requireOption(stepSize.value > 0, "--step-size must be positive, got \(stepSize.value)") }
        if let eps {
            let list = try NumberArgument.nonNegativeList(eps, option: "--eps")
            try requireOption(!list.isEmpty, "--eps needs at least one value")
            if saveAdversarial != nil { try requireOption(list.count == 1, "--save-adversarial saves the examples of one ε; --eps gives \(list.count)") }
        }
        if let out {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: out, isDirectory: &isDirectory) {
                try requireOption(isDirectory.boolValue, "--out \(out) exists and is not a folder")
            }
        }
    }

    func run() throws {
        let (_, file, checkpoint) = try TrainingSession.locate(path)
        var config = try RunDescription.stored(in: checkpoint, path: file)
        if let dataDir { config.dataDirectory = dataDir }
        config.testSubset = testSubset
        let run = try config.components(dataLimits: dataLimits.limits())
        let (model, data) = (run.model, run.data)
        try TrainingCheckpoint.loadParameters(into: model, from: checkpoint, path: file)
        let target = ModuleObjective(model, loss: run.loss)
        let imageShape = [data.test.channels, data.test.height, data.test.width]
        let classes = data.test.classNames.count
        print("checkpoint: \(file) (epoch \(checkpoint.metadata["epoch"] ?? "?"), step \(checkpoint.metadata["step"] ?? "?"))")

        var report = EvalReport(checkpoint: file, epoch: checkpoint.metadata["epoch"], step: checkpoint.metadata["step"],
                                dataset: config.dataset.rawValue, dataSource: data.source, attackFrom: attackFrom, rows: [])
        if let attackFrom, try Self.isExampleFile(attackFrom) {
            guard eps == nil, stepSize == nil, saveAdversarial == nil else {
                throw ValidationError("--attack-from \(attackFrom) is a file of adversarial examples: its ε and attack are fixed, so --eps, --step-size and --save-adversarial do not apply")
            }
            let set = try AdversarialExampleSet.read(attackFrom, imageShape: imageShape, classes: classes)
            report.rows = [try Self.score(target, on: set)]
            print("examples: \(attackFrom), \(set.count) images (\(Self.describe(set.provenance)))")
        } else {
            let source = try attackFrom.map { try Self.sourceModel($0, imageShape: imageShape, classes: classes) }
            if let source { print("attacks crafted against: \(source.description)") }
            let n = min(testSubset, data.test.count)
            let images = Tensor(shape: [n] + imageShape, scalars: Array(data.test.images[0..<(n * data.test.imageSize)]))
            let labels = Array(data.test.labels[0..<n])
            print("data: \(data.source), \(n) test images")
            let epsilons = try eps.map { try NumberArgument.nonNegativeList($0, option: "--eps") }
                ?? (config.dataset == .cifar10 ? [2, 4, 8].map { Float($0) / 255 } : [0.1, 0.2, 0.3])
            if saveAdversarial != nil && epsilons.count != 1 {
                throw ValidationError("--save-adversarial saves the examples of one ε; give it with --eps (the default list has \(epsilons.count))")
            }
            for e in epsilons {
                let kind = attackKind(epsilon: e)
                if let warning = reachWarning(kind) { print("warning: \(warning)") }
                var rng = Xoshiro256(seed: seed)
                let start = DispatchTime.now().uptimeNanoseconds
                let crafted = try RobustEvaluation.evaluateKeepingExamples(source?.objective ?? target, images: images, labels: labels,
                                                                           attack: kind, rng: &rng)
                var row = EvalRow(epsilon: e, kind: kind, examples: n)
                if source != nil {
                    let clean = try RobustEvaluation.score(target, images: images, labels: labels)
                    let transferred = try RobustEvaluation.score(target, images: crafted.adversarial, labels: labels)
                    (row.cleanAccuracy, row.robustAccuracy, row.adversarialLoss) = (clean.accuracy, transferred.accuracy, transferred.loss)
                    row.sourceRobustAccuracy = crafted.report.robustAccuracy
                } else {
                    (row.cleanAccuracy, row.robustAccuracy, row.adversarialLoss) =
                        (crafted.report.cleanAccuracy, crafted.report.robustAccuracy, crafted.report.adversarialLoss)
                    if let w = crafted.report.gradientMaskingWarning { print("warning: \(w)") }
                }
                row.seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                report.rows.append(row)
                if let saveAdversarial {
                    try AdversarialExampleSet(clean: images, adversarial: crafted.adversarial, labels: labels, provenance: [
                        "attack": row.attack, "epsilon": "\(e)", "steps": "\(row.steps)", "step_size": "\(row.stepSize)",
                        "random_start": "\(row.randomStart)", "dataset": config.dataset.rawValue,
                        "source": source?.description ?? "model from \(file)",
                    ]).write(to: saveAdversarial)
                }
            }
        }
        report.printTable()
        if let saveAdversarial { print("saved the adversarial examples to \(saveAdversarial)") }
        if let out {
            try report.write(to: out)
            print("wrote \(out)/eval.json, eval.csv")
        }
    }

    /// The attack at radius `e`: FGSM, or PGD with the given step size or 2.5·ε/steps.
    private func attackKind(epsilon e: Float) -> AttackKind {
        switch attack {
        case .fgsm: return .fgsm(epsilon: e)
        case .pgd:
            return .pgd(PGDConfiguration(epsilon: e, stepSize: stepSize?.value ?? 2.5 * e / Float(steps), steps: steps,
                                         randomStart: randomStart, clipEveryStep: clipEveryStep))
        }
    }

    /// A warning when PGD's steps cannot carry δ from 0 to the ε-ball's corners (steps × step < ε).
    private func reachWarning(_ kind: AttackKind) -> String? {
        guard case .pgd(let c) = kind, !c.randomStart, c.epsilon > 0, Float(c.steps) * c.stepSize < c.epsilon * (1 - 1e-6) else { return nil }
        return String(format: "ε %g: %d steps of %g move each pixel at most %g < ε, so the attack cannot reach the ε-ball's corners (raise --steps or --step-size)",
                      c.epsilon, c.steps, c.stepSize, Float(c.steps) * c.stepSize)
    }

    /// Whether `path` is a file of adversarial examples rather than a run folder or checkpoint.
    static func isExampleFile(_ path: String) throws -> Bool {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ValidationError("--attack-from \(path) does not exist (give a run folder, a checkpoint or a file of adversarial examples)")
        }
        guard !isDirectory.boolValue else { return false }
        let file = try CheckpointFile.read(path: path)
        return file.metadata["content"] == "tangent adversarial examples"
    }

    /// The model of `path`, checked to take the evaluated model's images and classes.
    static func sourceModel(_ path: String, imageShape: [Int], classes: Int) throws -> (objective: AttackObjective, description: String) {
        let source = try ModelSource.load(path, model: nil, seed: 0, width: 4096, dataset: nil, dataDir: nil)
        let sourceShape = source.dataConfiguration.dataset == .cifar10 ? [3, 32, 32] : [1, 28, 28]
        guard sourceShape == imageShape else {
            throw ValidationError("--attack-from \(path): its model takes \(source.dataConfiguration.dataset.rawValue) images (\(sourceShape.map(String.init).joined(separator: "×"))), the evaluated one \(imageShape.map(String.init).joined(separator: "×"))")
        }
        let probe = Tensor(shape: [1] + imageShape, scalars: [Float](repeating: 0, count: imageShape.reduce(1, *)))
        let outputs = try source.network(probe).shape.last ?? 0
        guard outputs == classes else {
            throw ValidationError("--attack-from \(path): its model has \(outputs) outputs, the evaluated data set \(classes) classes")
        }
        return (ModuleObjective(source.network, loss: source.dataConfiguration.makeLoss()), source.description)
    }

    /// The evaluated model's accuracy on a saved set: clean, and on the attacked images.
    static func score(_ target: ModuleObjective, on set: AdversarialExampleSet) throws -> EvalRow {
        let clean = try RobustEvaluation.score(target, images: set.clean, labels: set.labels)
        let attacked = try RobustEvaluation.score(target, images: set.adversarial, labels: set.labels)
        let epsilon = set.provenance["epsilon"].flatMap(Float.init) ?? set.maximumPerturbation
        var row = EvalRow(epsilon: epsilon, attack: set.provenance["attack"] ?? "saved", steps: set.provenance["steps"].flatMap(Int.init) ?? 0,
                          stepSize: set.provenance["step_size"].flatMap(Float.init) ?? 0,
                          randomStart: set.provenance["random_start"] == "true", examples: set.count)
        (row.cleanAccuracy, row.robustAccuracy, row.adversarialLoss) = (clean.accuracy, attacked.accuracy, attacked.loss)
        return row
    }

    static func describe(_ provenance: [String: String]) -> String {
        provenance.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    }
}
