import ArgumentParser
import Foundation
import Tangent

/// `tangent bench`: times the hot paths on synthetic data of the paper's shapes, printing one JSON
/// line per measurement (the same workloads as the reference scripts in ../shared/anchors).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Time training steps, attacks, evaluation and NTK computations.")

    @Option(help: "mnist-cnn or cifar-cnn") var model: String = "mnist-cnn"
    @Option(help: "train | eval | pgd | ntk | conv | checkpoint | tracking") var task: String = "train"
    @Option(help: "For conv/checkpoint/tracking: load the model's parameters from this checkpoint (default: fresh initialisation).") var checkpoint: String?
    @Option(name: .customLong(NTKKindOption.name), help: NTKKindOption.help) var ntkKind: KernelKind?
    /// The former name of `--ntk-kind`, still read (see `NTKKindOption`).
    @Option(name: .customLong("ntk"), help: .hidden) var legacyKind: KernelKind?
    @Option(help: "NTK memory budget in MB") var memoryBudget: Int = 4096
    @Flag(help: "Time the linearized model's steps (train, pgd, eval) instead of the network's.") var linearized = false
    @Option(help: "Batch size (default: 300 MNIST, 250 CIFAR; 1000 for eval).") var batchSize: Int?
    @Option(help: "Timed repetitions.") var reps: Int = 20
    @Option(help: "Untimed warm-up repetitions.") var warmup: Int = 3

    /// The kernel set that ran beside OpenBLAS's own choice (they differ where Tangent repaired it).
    static var blasProvenance: [String: Any] {
        ["blas_core": BLASCore.selectOnce.active, "blas_core_detected": BLASCore.selectOnce.detected]
    }

    func validate() throws {
        try requireOption(reps >= 1, "--reps must be positive, got \(reps)")
        try requireOption(warmup >= 0, "--warmup must be at least 0, got \(warmup)")
        try requireOption(memoryBudget >= 1, "--memory-budget must be positive, got \(memoryBudget) MB")
        if let batchSize { try requireOption(batchSize >= 1, "--batch-size must be positive, got \(batchSize)") }
        _ = try kernelKind()
    }

    /// The NTK kind `--task ntk` times (full unless given).
    func kernelKind() throws -> KernelKind {
        try NTKKindOption.chosen(ntkKind, legacy: legacyKind, legacyName: "ntk") ?? .full
    }

    /// The engine options of the ntk and tracking tasks: the chosen kind within `--memory-budget`.
    func ntkOptions() throws -> EmpiricalNTK.Options {
        EmpiricalNTK.Options(kind: try kernelKind(), memoryBudgetBytes: memoryBudget << 20)
    }

    func run() throws {
        let kind = try ModelKind(argument: model)
        var rng = Xoshiro256(seed: 0)
        let net = try kind.make(rng: &rng)
        let batch = batchSize ?? (task == "eval" ? 1000 : kind.defaultBatchSize)
        let x = Initializers.normal([batch] + kind.inputShape, std: 0.3, rng: &rng).adding(0.5).clamped(to: 0, 1)
        let labels = (0..<batch).map { Int32($0 % 10) }
        let optimizer = try SGD(learningRate: 0.01)
        if let checkpoint {
            let (_, file, stored) = try TrainingSession.locate(checkpoint)
            try TrainingCheckpoint.loadParameters(into: net, from: stored, path: file)
        }
        if ["conv", "checkpoint", "tracking"].contains(task) {
            let records: [[String: Any]]
            switch task {
            case "conv": records = try BenchLayers.convolutions(net, input: x, reps: reps)
            case "checkpoint": records = [try BenchLayers.checkpoint(net, reps: reps)]
            default:
                records = try BenchTracking.parts(net, probe: x, options: try ntkOptions(), reps: reps)
            }
            for var r in records {
                r["framework"] = "tangent"; r["net"] = kind.rawValue; r["task"] = task; r["batch"] = batch
                r.merge(Self.blasProvenance) { $1 }
                print(String(decoding: try JSONSerialization.data(withJSONObject: r, options: [.sortedKeys]), as: UTF8.self))
            }
            return
        }
        let trainee: Module = linearized ? LinearizedModel(network: net) : net

        let work: () throws -> Void
        switch task {
        case "train":
            work = {
                let (_, g) = try trainee.lossAndGradients { try softmaxCrossEntropy(logits: try trainee(x), labels: labels) }
                try optimizer.update(trainee, gradients: g)
            }
        case "eval":
            work = { _ = try trainee(x) }
        case "pgd":
            var attackRNG = Xoshiro256(seed: 1)
            let config = PGDConfiguration.paper(cifar: kind.isCIFAR)
            work = {
                let adv = try Attacks.pgd(trainee, inputs: x, labels: labels, configuration: config, rng: &attackRNG)
                let (_, g) = try trainee.lossAndGradients { try softmaxCrossEntropy(logits: try trainee(adv), labels: labels) }
                try optimizer.update(trainee, gradients: g)
            }
        case "ntk":
            let options = try ntkOptions()
            work = { _ = try EmpiricalNTK.compute(net, inputs: x, options: options) }
        default:
            throw ValidationError("unknown task \(task)")
        }
        for _ in 0..<warmup { try work() }
        var times: [Double] = []
        for _ in 0..<reps {
            let start = DispatchTime.now().uptimeNanoseconds
            try work()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        let sorted = times.sorted()
        let median = sorted[sorted.count / 2]
        var record: [String: Any] = ["framework": "tangent", "net": kind.rawValue, "task": task, "batch": batch,
                                     "reps": reps, "median_ms": median, "min_ms": sorted.first!, "max_ms": sorted.last!]
        if task == "eval" { record["images_per_s"] = Double(batch) / (median / 1000) }
        if task == "ntk" {
            record["kernel"] = try kernelKind().rawValue
            record["memory_budget_mb"] = memoryBudget
            record["layer_groups"] = try EmpiricalNTK.layerGroupCount(net, inputs: x, options: try ntkOptions())
        }
        if linearized { record["linearized"] = true }
        record.merge(Self.blasProvenance) { $1 }
        record["peak_rss_mb"] = PeakMemory.residentMegabytes()
        let data = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }
}
