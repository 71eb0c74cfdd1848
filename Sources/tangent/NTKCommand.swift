import ArgumentParser
import Foundation
import Tangent

/// `tangent ntk`: the empirical NTK of a model on a probe batch, saved as a zstd-compressed
/// safetensors file (tensor `kernel`, [n, n] F32, rows sample-major for the full kernel).
///
/// The model comes from a training checkpoint (a file, or a run folder's newest checkpoint), from any
/// checkpoint-format file whose tensors are named like the model's parameters (`conv1.weight`, …) with
/// metadata `model` (mnist-cnn | cifar-cnn | two-layer) — or, with no source, is freshly initialised
/// from `--model` and `--seed`.
struct NTKCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ntk",
        abstract: "Compute and save the empirical NTK of a checkpoint's model on a probe batch.",
        discussion: """
        CHECKPOINT_OR_RUN is a run folder (its newest readable checkpoint in RUN/checkpoints/ is used), a \
        training checkpoint, or a plain parameter file: a Tangent checkpoint file whose tensors are named \
        like the model's parameters (conv1.weight, conv1.bias, …, fc2.bias) with metadata "model" set to \
        mnist-cnn, cifar-cnn or two-layer (--model overrides it). Leave it out to use a freshly \
        initialised --model with --seed. --save-model writes the parameters used as such a plain file.
        """)

    @Argument(help: ArgumentHelp("Run folder, training checkpoint or plain parameter file (omit for a fresh model).", valueName: "checkpoint-or-run"))
    var source: String?

    @Option(help: "mnist-cnn | cifar-cnn | two-layer (default: from the checkpoint).") var model: String?
    @Option(help: "Seed of a freshly initialised model (when no checkpoint is given).") var seed: UInt64 = 0
    @Option(help: "mnist | fashion-mnist | cifar10 (default: the run's, else the model's).") var dataset: String?
    @Option(help: "Folder with the standard data files (default: the run's; MNIST falls back to the embedded sample).") var dataDir: String?
    @Option(help: "Which split the probe is drawn from: train | test.") var split: String = "train"
    @Option(help: ArgumentHelp("'first' (the first --probe-size images) or comma-separated indices.", valueName: "first|INDICES")) var probe: String = "first"
    @Option(help: "Size of a 'first' probe (default: the paper's batch, 300 MNIST / 250 CIFAR-10).") var probeSize: Int?
    @Option(name: .customLong(NTKKindOption.name), help: NTKKindOption.help) var ntkKind: KernelKind?
    /// The former name of `--ntk-kind`, still read (see `NTKKindOption`).
    @Option(name: .customLong("kind"), help: .hidden) var legacyKind: KernelKind?
    @Option(help: "Memory budget of the NTK engine in MB.") var memoryBudget: Int = 4096
    @Option(help: "Width of a freshly initialised two-layer network.") var width: Int = 4096
    @Option(help: "Output kernel file (.safetensors.zst).") var out: String
    @Flag(help: "Also store the probe images ('inputs', [N, C, H, W]) and labels in the output.") var saveInputs = false
    @Option(help: "Also write the model's parameters as a plain parameter file (metadata model).") var saveModel: String?
    @OptionGroup var dataLimits: DataLimitOptions

    func validate() throws {
        try requireOption(width >= 1, "--width must be positive, got \(width)")
        try requireOption(memoryBudget >= 1, "--memory-budget must be positive, got \(memoryBudget) MB")
        if let probeSize { try requireOption(probeSize >= 1, "--probe-size must be positive, got \(probeSize)") }
        _ = try NTKKindOption.chosen(ntkKind, legacy: legacyKind, legacyName: "kind")
    }

    func run() throws {
        let kernelKind = try NTKKindOption.chosen(ntkKind, legacy: legacyKind, legacyName: "kind") ?? .full
        let loaded = try ModelSource.load(source, model: model, seed: seed, width: width, dataset: dataset, dataDir: dataDir)
        let c = loaded.dataConfiguration
        let data = try TrainingData.load(c.dataset, directory: c.dataDirectory, trainSubset: c.trainSubset, testSubset: c.testSubset,
                                         limits: dataLimits.limits())
        let images: ImageDataset
        switch split {
        case "train": images = data.train
        case "test": images = data.test
        default: throw ValidationError("--split takes train or test, not '\(split)'")
        }
        let probeSelection = try KernelTrackingConfiguration.Probe(argument: probe)
        let tracking = KernelTrackingConfiguration(probe: probeSelection, probeSize: probeSize)
        try tracking.validate()
        let indices = try tracking.probeIndices(batchSize: loaded.kind.defaultBatchSize, trainCount: images.count)
        let (x, labels) = BatchAssembly.batch(images, indices: indices)

        print("model: \(loaded.description)")
        print("data: \(data.source), \(split) split, \(indices.count) probe images")
        let start = DispatchTime.now().uptimeNanoseconds
        let kernel = try EmpiricalNTK.compute(loaded.network, inputs: x,
                                              options: EmpiricalNTK.Options(kind: kernelKind, memoryBudgetBytes: memoryBudget << 20))
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9

        var extra: [StoredTensor] = []
        if saveInputs {
            extra.append(try StoredTensor(name: "inputs", values: x.scalars, shape: x.shape))
            extra.append(try StoredTensor(name: "labels", values: labels))
        }
        let metadata = ["model": loaded.kind.rawValue, "source": loaded.description, "split": split,
                        "dataset": loaded.dataConfiguration.dataset.rawValue,
                        "probe": indices.map(String.init).joined(separator: ","),
                        "seconds": String(format: "%.3f", seconds)]
        try KernelFile.write(kernel, metadata: metadata, extraTensors: extra, to: out)
        print(String(format: "%@ kernel %d×%d in %.2f s, ‖K‖ = %.6g, trace %.6g", kernelKind.rawValue, kernel.n, kernel.n,
                     seconds, kernel.frobeniusNorm, kernel.trace))
        print("wrote \(out)")
        if let saveModel {
            try ModelSource.writeParameters(loaded.network, kind: loaded.kind, to: saveModel)
            print("wrote \(saveModel)")
        }
    }
}

/// Where `tangent ntk` gets its model: a run folder, a checkpoint file or a fresh initialisation.
struct ModelSource {
    let network: Module
    let kind: ModelKind
    /// What was loaded, for humans.
    let description: String
    /// The data settings to draw the probe from (the run's, adjusted by the command's options).
    let dataConfiguration: RunDescription

    static func load(_ source: String?, model: String?, seed: UInt64, width: Int, dataset: String?,
                     dataDir: String?) throws -> ModelSource {
        var config: RunDescription?
        var checkpoint: Checkpoint?
        var description: String
        if let source {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory) else {
                throw ValidationError("\(source) does not exist")
            }
            if isDirectory.boolValue {
                config = try RunDescription.stored(inRunFolder: source)
                let folder = CheckpointDirectory(path: (source as NSString).appendingPathComponent("checkpoints"))
                guard let latest = try folder.loadLatestValid() else {
                    throw ValidationError("\(source) has no checkpoints (expected \(folder.path)/step-*.safetensors.zst)")
                }
                checkpoint = latest.checkpoint
                description = latest.entry.path
            } else {
                let file = try CheckpointFile.read(path: source)
                checkpoint = file
                description = source
                if let json = file.metadata["config"] {
                    config = try? RunDescription.decode(Data(json.utf8))
                }
            }
        } else {
            guard model != nil else { throw ValidationError("give a checkpoint or run folder, or --model for a freshly initialised one") }
            description = ""
        }

        let kindName = model ?? checkpoint?.metadata["model"] ?? config?.model.rawValue
        guard let kindName else {
            throw ValidationError("\(source ?? "the checkpoint") does not say which model it holds (metadata 'model'); pass --model")
        }
        let kind = try ModelKind(argument: kindName)
        var dataConfig = config ?? RunDescription.defaults(model: kind)
        if config == nil || model != nil { dataConfig.model = kind }
        if let dataset { dataConfig.dataset = try DatasetKind(name: dataset) }
        else if config == nil { dataConfig.dataset = kind.isCIFAR ? .cifar10 : .mnist }
        if let dataDir { dataConfig.dataDirectory = dataDir }

        let inputShape = dataConfig.dataset == .cifar10 ? [3, 32, 32] : [1, 28, 28]
        var modelWidth = config?.twoLayerWidth ?? width
        if kind == .twoLayer, let hidden = checkpoint?["hidden.weight"], hidden.shape.count == 2 { modelWidth = hidden.shape[0] }
        var rng = Xoshiro256(seed: seed)
        let network = try kind.make(rng: &rng, inputShape: inputShape, twoLayerWidth: modelWidth,
                                    hiddenWidths: config?.hiddenWidths ?? [512], width: config?.modelWidth ?? 64)
        if let checkpoint {
            try TrainingCheckpoint.loadParameters(into: network, from: checkpoint, path: description)
            let position = [checkpoint.metadata["epoch"].map { "epoch \($0)" }, checkpoint.metadata["step"].map { "step \($0)" }]
                .compactMap { $0 }.joined(separator: ", ")
            description = "\(kind.rawValue) from \(description)" + (position.isEmpty ? "" : " (\(position))")
        } else {
            description = "freshly initialised \(kind.rawValue) (seed \(seed))"
        }
        return ModelSource(network: network, kind: kind, description: description, dataConfiguration: dataConfig)
    }

    /// Writes every parameter under its dotted name, with metadata `model`: a plain parameter file.
    static func writeParameters(_ network: Module, kind: ModelKind, to path: String) throws {
        var file = Checkpoint(metadata: ["model": kind.rawValue])
        for (name, p) in network.namedParameters {
            try file.append(StoredTensor(name: name, values: p.value.scalars, shape: p.value.shape))
        }
        try CheckpointFile.write(file, to: path)
    }
}
