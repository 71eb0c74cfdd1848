import ArgumentParser
import Foundation
import Tangent

/// `tangent train`: the main job — train a paper model, evaluating every epoch, writing the run
/// folder (config.json, metrics.jsonl, metrics.csv).
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Train the paper's MNIST or CIFAR-10 CNN, or another built-in model.")

    @Option(help: "mnist-cnn | cifar-cnn | two-layer | mlp | resnet8 | resnet20 | myrtle5") var model: String = "mnist-cnn"
    @Option(help: "mnist | fashion-mnist | cifar10 (default: the model's)") var dataset: String?
    @Option(help: "Folder with the standard data files (default: the embedded MNIST sample).") var dataDir: String?
    @Option(help: "Epochs to train (default 10; with --resume, the stored value unless given).") var epochs: Int?
    @Option(help: "Batch size (default 300 MNIST, 250 CIFAR-10, 128 for the ResNets).") var batchSize: Int?
    @Option(help: "sgd | adam | adamw") var optimizer: String = "sgd"
    @Option(help: "Learning rate (the schedule's peak).") var lr: Float = 0.01
    @Option(help: "SGD momentum.") var momentum: Float = 0
    @Flag(help: "Nesterov momentum (SGD with --momentum > 0).") var nesterov = false
    @Option(help: "Weight decay (L2 for sgd and adam, decoupled for adamw).") var weightDecay: Float = 0
    @Option(help: "Adam's β1.") var beta1: Float = 0.9
    @Option(help: "Adam's β2.") var beta2: Float = 0.999
    @Option(help: "Learning-rate schedule: constant | step | cosine (over the whole run).") var schedule: String = "constant"
    @Option(help: "With --schedule step: multiply the rate by --lr-gamma every N steps.") var lrStepEvery: Int?
    @Option(help: "With --schedule step: the factor.") var lrGamma: Float = 0.1
    @Option(help: "With --schedule cosine: the final rate.") var minLr: Float = 0
    @Option(help: "Linear warm-up over the first N steps.") var warmupSteps: Int = 0
    @Option(help: "ce (softmax cross-entropy) | mse (one-hot) | mse-pm1 (±1 targets) | bce (binary cross-entropy with logits); attacks maximise the same loss.") var loss: String = "ce"
    @Option(help: "Random seed (model, data order, attacks).") var seed: UInt64 = 0
    @Option(help: "Train on the first N training images.") var trainSubset: Int?
    @Option(help: "Evaluate on N test images.") var testSubset: Int?
    @Option(help: "Measure clean training accuracy on the first N training images.") var evalTrainSubset: Int = 10_000
    @Option(help: "Evaluate every N epochs.") var evalEvery: Int = 1
    @Flag(help: "Visit training images in file order every epoch (as the paper's reference code).") var noShuffle = false
    @Option(help: "Width of the two-layer network.") var width: Int = 4096
    @Option(help: "Hidden widths of the mlp, comma-separated.") var hidden: String = "512"
    @Option(help: "Channels of every myrtle5 convolution.") var modelWidth: Int = 64
    @Option(help: "Augmentation: random crops of the image zero-padded by N pixels (CIFAR: 4).") var cropPadding: Int = 0
    @Flag(help: "Augmentation: random horizontal flips.") var flip = false
    @Option(help: "Run folder (default: a new folder under checkpoints/).") var runDir: String?
    @Flag(help: "Start a new run in a --run-dir that already holds one, moving the old contents aside to RUN_DIR.replaced-DATE.") var overwrite = false
    @Option(help: "Adversarial training: pgd | fgsm.") var adversarial: String?
    @Option(help: "Attack radius ε, a decimal or a fraction (default 0.3 MNIST, 8/255 CIFAR-10).") var eps: NumberArgument?
    @Option(help: "PGD step size, a decimal or a fraction (default 0.01 MNIST, 2/255 CIFAR-10).") var stepSize: NumberArgument?
    @Option(help: "PGD steps.") var steps: Int = 20
    @Flag(help: "Start PGD uniformly inside the ε-ball (default: at zero, as the paper).") var randomStart = false
    @Flag(help: "Clip to [0, 1] after every PGD step (default: only at the end, as the paper).") var clipEveryStep = false
    @Option(help: "Measure PGD-20 accuracy on the first N train and test images each epoch (CIFAR-10 test images: a seeded sample; 0: off).") var robustEvalSubset: Int = 1000
    @OptionGroup(title: "Kernel tracking") var ntkTracking: NTKTrackingOptions
    @OptionGroup var dataLimits: DataLimitOptions
    @Option(help: "Also checkpoint every N optimiser steps (default: after every epoch only).") var checkpointEvery: Int?
    @Option(help: "Keep the last K checkpoints.") var keepLast: Int = 3
    @Option(help: "From this epoch on, train the network's linearization around its parameters at that epoch (0: at initialisation).") var linearizeAtEpoch: Int?
    @Option(help: ArgumentHelp("Write TensorBoard event files while training (every metric as scalars, the kernels' spectra as histograms); without DIR: RUN/tensorboard. A resumed run keeps writing there.", valueName: "DIR"))
    var tensorboard: String?
    @Option(help: "Continue a run from its folder (newest checkpoint) or from a checkpoint file, with its stored settings; --epochs and --data-dir may extend or relocate it. With --run-dir, or for a checkpoint file outside a run folder, the continuation is a new run (default folder: checkpoints/branch-DATE).") var resume: String?

    func makeDescription() throws -> RunDescription {
        let kind = try ModelKind(argument: model)
        var c = RunDescription.defaults(model: kind)
        if let dataset { c.dataset = try DatasetKind(name: dataset) }
        c.dataDirectory = dataDir
        c.epochs = epochs ?? 10
        c.batchSize = batchSize ?? kind.defaultBatchSize
        c.optimizer = optimizer
        c.learningRate = lr
        c.momentum = momentum
        c.nesterov = nesterov
        c.weightDecay = weightDecay
        c.beta1 = beta1
        c.beta2 = beta2
        c.schedule = schedule
        c.scheduleStepEvery = lrStepEvery
        c.scheduleGamma = lrGamma
        c.minimumLearningRate = minLr
        c.warmupSteps = warmupSteps
        c.loss = loss
        c.seed = seed
        c.trainSubset = trainSubset
        c.testSubset = testSubset
        c.evalTrainSubset = evalTrainSubset
        c.evalEvery = evalEvery
        c.shuffle = !noShuffle
        c.twoLayerWidth = width
        c.hiddenWidths = try hidden.split(separator: ",").map {
            guard let w = Int($0.trimmingCharacters(in: .whitespaces)) else { throw ValidationError("--hidden takes comma-separated widths such as 512,256, not '\(hidden)'") }
            return w
        }
        c.modelWidth = modelWidth
        c.cropPadding = cropPadding
        c.horizontalFlip = flip
        var pgd = PGDConfiguration.paper(cifar: c.dataset == .cifar10)
        if let eps { pgd.epsilon = eps.value }
        if let stepSize { pgd.stepSize = stepSize.value }
        pgd.steps = steps
        pgd.randomStart = randomStart
        pgd.clipEveryStep = clipEveryStep
        switch adversarial {
        case nil: c.adversarial = nil
        case "pgd": c.adversarial = .pgd(pgd)
        case "fgsm": c.adversarial = .fgsm(epsilon: pgd.epsilon)
        case let other?: throw ValidationError("--adversarial takes pgd or fgsm, not '\(other)'")
        }
        c.robustEvalSubset = robustEvalSubset
        c.kernelTracking = try ntkTracking.configuration()
        c.checkpointEverySteps = checkpointEvery
        c.keepLast = keepLast
        c.linearizeAtEpoch = linearizeAtEpoch
        c.tensorboard = tensorboard.map(RunDescription.tensorBoardSetting)
        try c.validate()
        return c
    }

    /// The callbacks of a run described by `description` (read when the loop is built): the standard
    /// ones, with TensorBoard's after kernel tracking when the description asks for event files.
    static func callbacks(_ description: @escaping () -> RunDescription?) -> (TrainingSettings, String) -> [TrainingCallback] {
        { settings, runDirectory in
            let folder = description()?.tensorBoardFolder(runDirectory: runDirectory)
            return TrainingSession.standardCallbacks(settings, runDirectory: runDirectory,
                                                     extra: folder.map { [TensorBoardCallback(directory: $0)] } ?? [])
        }
    }

    /// Checks the TensorBoard folder of a run described by `description` before anything is written,
    /// when it lies outside the run folder (one inside is created with the run).
    static func prepareTensorBoard(_ description: RunDescription, newRun: Bool) throws {
        guard let folder = description.tensorboard, folder.hasPrefix("/") else { return }
        do { try TensorBoardCallback.prepare(directory: folder, newRun: newRun) }
        catch let error as ConfigurationError { throw ValidationError("--tensorboard: \(error.description)") }
    }

    /// Options a resumed run accepts; every other setting comes from the run's stored configuration.
    static let resumeOptions: Set<String> = ["--resume", "--epochs", "--data-dir", "--linearize-at-epoch", "--run-dir",
                                             "--max-data-bytes", "--tensorboard"]

    func validate() throws {
        guard resume != nil else { return }
        // Refuse rather than silently ignore a setting that a resumed run would not use.
        let ignored = CommandLine.arguments.dropFirst()
            .filter { $0.hasPrefix("--") }
            .map { String($0.split(separator: "=", maxSplits: 1)[0]) }
            .filter { !Self.resumeOptions.contains($0) }
        if !ignored.isEmpty {
            throw ValidationError("a resumed run keeps its stored settings (config.json); \(ignored.joined(separator: ", ")) cannot change it. With --resume only \(Self.resumeOptions.sorted().joined(separator: ", ")) apply; start a new run for other settings")
        }
    }

    func run() throws {
        let loop: TrainingLoop
        if let resume {
            // A checkpoint file outside a run folder continues in a new folder, never beside the file.
            var isDirectory: ObjCBool = false
            let isLooseFile = FileManager.default.fileExists(atPath: resume, isDirectory: &isDirectory) && !isDirectory.boolValue
                && TrainingSession.runFolder(containing: resume) == nil
            let target = try runDir ?? (isLooseFile ? RunDirectory.makeNew(model: "branch") : nil)
            var resumedDescription: RunDescription?
            let (resumed, path) = try TrainingSession.resume(from: resume, into: target, components: { checkpoint in
                var c = try RunDescription.stored(in: checkpoint, path: resume)
                if let epochs, epochs > c.epochs, c.schedule != "constant" {
                    print("note: the \(c.schedule) learning-rate schedule keeps the length it was given when the run started; the added epochs continue where it ends")
                }
                if let epochs { c.epochs = epochs }
                if let dataDir { c.dataDirectory = dataDir }
                if let linearizeAtEpoch { c.linearizeAtEpoch = linearizeAtEpoch }
                if let tensorboard {
                    c.tensorboard = RunDescription.tensorBoardSetting(tensorboard)
                } else if target != nil, let stored = c.tensorboard, stored.hasPrefix("/") {
                    // A branch never writes into the original run's event folder unless told to.
                    c.tensorboard = RunDescription.defaultTensorBoardFolder
                    print("note: the branch writes its TensorBoard events to its own folder's \(RunDescription.defaultTensorBoardFolder)/, not to \(stored) (give --tensorboard DIR to choose)")
                }
                try Self.prepareTensorBoard(c, newRun: false)
                resumedDescription = c
                return try c.components(dataLimits: dataLimits.limits())
            }, callbacks: Self.callbacks { resumedDescription })
            loop = resumed
            print("resuming from \(path) at epoch \(loop.epoch), step \(loop.step)")
            if let target { print("run folder: \(target) (a new branch)") }
        } else {
            let description = try makeDescription()
            let run = try description.components(dataLimits: dataLimits.limits())
            let dir = try runDir ?? RunDirectory.makeNew(model: description.model.rawValue)
            try Self.prepareTensorBoard(description, newRun: true)
            do { loop = try TrainingSession.start(run, runDirectory: dir, overwrite: overwrite, callbacks: Self.callbacks { description }) }
            catch let error as AugmentationError { throw ValidationError("--crop-padding \(cropPadding) / --flip: \(error)") }
            print("run folder: \(dir)")
        }
        if let board = loop.callbacks.lazy.compactMap({ $0 as? TensorBoardCallback }).first {
            print("TensorBoard events: \(board.directory) (tensorboard --logdir \(board.directory))")
        }
        print("data: \(loop.data.source)")
        Interruption.handleSignals()
        do { try loop.fit() } catch let stop as TrainingInterrupted {
            let folder = loop.runDirectory ?? "RUN_DIR"
            FileHandle.standardError.write(Data("\(stop)\ncontinue with: tangent train --resume \(folder)\n".utf8))
            throw ExitCode(Self.interruptedStatus)
        }
    }

    /// The exit status of a run stopped by SIGINT/SIGTERM after saving a checkpoint (EX_TEMPFAIL:
    /// "try again later" — resuming continues it exactly).
    static let interruptedStatus: Int32 = 75
}
