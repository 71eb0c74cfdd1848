import ArgumentParser
import Foundation
import Tangent

/// Everything `tangent train` was told: which model, data, optimiser, loss and schedule to build, and
/// the loop's settings. Saved as `config.json` and in every checkpoint (metadata `config`), so `--resume`,
/// `eval`, `ntk` and `inspect` rebuild exactly the same run. Its JSON keys are those of the run folders
/// written before the loop took its components as values, so old runs keep loading.
struct RunDescription: Codable, Equatable {
    var model: ModelKind = .mnistCNN
    var dataset: DatasetKind = .mnist
    /// Folder of the standard files; nil uses the embedded MNIST sample (MNIST only).
    var dataDirectory: String?
    var epochs: Int = 10
    var batchSize: Int = 300
    var optimizer: String = "sgd"
    var learningRate: Float = 0.01
    var momentum: Float = 0
    var nesterov: Bool = false
    var weightDecay: Float = 0
    var beta1: Float = 0.9
    var beta2: Float = 0.999
    var schedule: String = "constant"
    /// Steps the schedule spans (cosine), fixed when the run starts so a resumed run keeps it.
    var scheduleSteps: Int?
    var scheduleStepEvery: Int?
    var scheduleGamma: Float = 0.1
    var warmupSteps: Int = 0
    var minimumLearningRate: Float = 0
    var loss: String = "ce"
    var seed: UInt64 = 0
    var shuffle: Bool = true
    var trainSubset: Int?
    var testSubset: Int?
    var evalTrainSubset: Int = 10_000
    var evalEvery: Int = 1
    var twoLayerWidth: Int = 4096
    var hiddenWidths: [Int] = [512]
    var modelWidth: Int = 64
    var adversarial: AttackKind?
    var robustEvaluationAttack: PGDConfiguration?
    var robustEvalSubset: Int = 1000
    var kernelTracking: KernelTrackingConfiguration?
    var checkpointEveryEpoch: Bool = true
    var checkpointEverySteps: Int?
    var keepLast: Int = 3
    var linearizeAtEpoch: Int?
    var cropPadding: Int = 0
    var horizontalFlip: Bool = false
    /// The TensorBoard event folder (nil: none written): relative to the run folder, or absolute.
    var tensorboard: String?

    /// The stored value of a bare `--tensorboard`: `RUN/tensorboard`.
    static let defaultTensorBoardFolder = "tensorboard"

    init() {}

    /// The stored form of `--tensorboard` given `argument`: the run folder's `tensorboard` for a bare
    /// flag (an empty argument), else the path made absolute against the working directory.
    static func tensorBoardSetting(_ argument: String) -> String {
        argument.isEmpty ? defaultTensorBoardFolder : URL(fileURLWithPath: argument).standardizedFileURL.path
    }

    /// Where a run in `runDirectory` writes its TensorBoard events, if anywhere.
    func tensorBoardFolder(runDirectory: String) -> String? {
        tensorboard.map { $0.hasPrefix("/") ? $0 : (runDirectory as NSString).appendingPathComponent($0) }
    }

    /// The paper's defaults for a model: its data set, batch size and robust-evaluation attack.
    static func defaults(model: ModelKind) -> RunDescription {
        var d = RunDescription()
        d.model = model
        d.dataset = model.isCIFAR ? .cifar10 : .mnist
        d.batchSize = model.defaultBatchSize
        return d
    }

    /// The loop's settings.
    var settings: TrainingSettings {
        var s = TrainingSettings()
        s.epochs = epochs
        s.batchSize = batchSize
        s.seed = seed
        s.shuffle = shuffle
        s.evalTrainSubset = evalTrainSubset
        s.evalEvery = evalEvery
        s.adversarial = adversarial
        s.robustEvaluationAttack = robustEvaluationAttack ?? .paper(cifar: dataset == .cifar10)
        s.robustEvalSubset = robustEvalSubset
        s.kernelTracking = kernelTracking
        s.checkpointEveryEpoch = checkpointEveryEpoch
        s.checkpointEverySteps = checkpointEverySteps
        s.keepLast = keepLast
        s.linearizeAtEpoch = linearizeAtEpoch
        if cropPadding > 0 || horizontalFlip {
            s.augmentation = try? Augmentation(cropPadding: cropPadding, horizontalFlip: horizontalFlip)
        }
        return s
    }

    /// Checks values a run cannot start with, naming the command-line option.
    func validate() throws {
        try requireOption(epochs >= 0, "--epochs must be at least 0, got \(epochs)")
        try requireOption(batchSize >= 1, "--batch-size must be positive, got \(batchSize)")
        try requireOption(learningRate.isFinite && learningRate > 0, "--lr must be a positive number, got \(learningRate)")
        try requireOption(momentum.isFinite && momentum >= 0 && momentum < 1, "--momentum must be in [0, 1), got \(momentum)")
        try requireOption(weightDecay.isFinite && weightDecay >= 0, "--weight-decay must be finite and not negative, got \(weightDecay)")
        try requireOption(["sgd", "adam", "adamw"].contains(optimizer), "--optimizer takes sgd, adam or adamw, not '\(optimizer)'")
        try requireOption(!nesterov || (optimizer == "sgd" && momentum > 0), "--nesterov needs --optimizer sgd with --momentum > 0")
        try requireOption(["constant", "step", "cosine"].contains(schedule), "--schedule takes constant, step or cosine, not '\(schedule)'")
        try requireOption(schedule != "step" || (scheduleStepEvery ?? 0) > 0, "--schedule step needs --lr-step-every N (N > 0)")
        try requireOption(scheduleGamma.isFinite && scheduleGamma >= 0, "--lr-gamma must be finite and not negative, got \(scheduleGamma)")
        try requireOption(warmupSteps >= 0, "--warmup-steps must be at least 0, got \(warmupSteps)")
        try requireOption(minimumLearningRate.isFinite && minimumLearningRate >= 0, "--min-lr must be finite and not negative")
        try requireOption(["ce", "mse", "mse-pm1", "bce"].contains(loss), "--loss takes ce, mse, mse-pm1 or bce, not '\(loss)'")
        if let n = trainSubset { try requireOption(n >= 1, "--train-subset must be positive, got \(n)") }
        if let n = testSubset { try requireOption(n >= 1, "--test-subset must be positive, got \(n)") }
        try requireOption(evalTrainSubset >= 1, "--eval-train-subset must be positive, got \(evalTrainSubset)")
        try requireOption(evalEvery >= 1, "--eval-every must be positive, got \(evalEvery)")
        try requireOption(robustEvalSubset >= 0, "--robust-eval-subset must be at least 0, got \(robustEvalSubset)")
        if let n = checkpointEverySteps { try requireOption(n >= 1, "--checkpoint-every must be positive, got \(n)") }
        try requireOption(keepLast >= 1, "--keep-last must be at least 1, got \(keepLast)")
        if let k = linearizeAtEpoch { try requireOption(k >= 0, "--linearize-at-epoch must be at least 0, got \(k)") }
        try requireOption(twoLayerWidth >= 1, "--width must be positive, got \(twoLayerWidth)")
        try requireOption(!hiddenWidths.isEmpty && hiddenWidths.allSatisfy { $0 >= 1 }, "--hidden must list positive widths")
        try requireOption(modelWidth >= 1, "--model-width must be positive, got \(modelWidth)")
        try requireOption(cropPadding >= 0, "--crop-padding must be at least 0, got \(cropPadding)")
        try requireOption(!(model.isCIFAR && dataset != .cifar10) && !(![.twoLayer, .mlp].contains(model) && !model.isCIFAR && dataset == .cifar10),
                    "model \(model.rawValue) does not take \(dataset.rawValue) images")
        try settings.validate()
    }

    /// The run's values: data, a freshly initialised model (seeded by `seed`), optimiser, loss, schedule.
    func components(dataLimits: DatasetLimits = DatasetLimits()) throws -> RunComponents {
        try validate()
        let data = try TrainingData.load(dataset, directory: dataDirectory, trainSubset: trainSubset, testSubset: testSubset,
                                         limits: dataLimits)
        let network = try initialNetwork(for: data)
        var description = self
        let stepsPerEpoch = (data.train.count + batchSize - 1) / batchSize
        if description.scheduleSteps == nil { description.scheduleSteps = max(1, stepsPerEpoch * epochs - warmupSteps) }
        return RunComponents(model: network, optimizer: try makeOptimizer(), loss: makeLoss(), schedule: try description.makeSchedule(),
                             data: data, settings: settings, description: try description.jsonData())
    }

    /// The run's network as initialised (seeded by `seed`) for the images and classes of `data`.
    func initialNetwork(for data: TrainingData) throws -> Sequential {
        var rng = Xoshiro256(seed: seed)
        return try model.make(rng: &rng, inputShape: [data.train.channels, data.train.height, data.train.width],
                              classes: data.train.classNames.count, twoLayerWidth: twoLayerWidth,
                              hiddenWidths: hiddenWidths, width: modelWidth)
    }

    func makeOptimizer() throws -> any Optimizer {
        switch optimizer {
        case "adam": return try Adam(learningRate: learningRate, beta1: beta1, beta2: beta2, weightDecay: weightDecay)
        case "adamw": return try Adam.adamW(learningRate: learningRate, beta1: beta1, beta2: beta2, weightDecay: weightDecay)
        default: return try SGD(learningRate: learningRate, momentum: momentum, weightDecay: weightDecay, nesterov: nesterov)
        }
    }

    func makeLoss() -> Loss {
        switch loss {
        case "mse": return .meanSquared()
        case "mse-pm1": return .meanSquared(plusMinusOne: true)
        case "bce": return .binaryCrossEntropy
        default: return .crossEntropy
        }
    }

    func makeSchedule() throws -> (any LearningRateSchedule)? {
        let main: any LearningRateSchedule
        switch schedule {
        case "step": main = try StepSchedule(rate: learningRate, every: scheduleStepEvery ?? 1, gamma: scheduleGamma)
        case "cosine": main = try CosineSchedule(rate: learningRate, totalSteps: scheduleSteps ?? 1, minimum: minimumLearningRate)
        default:
            guard warmupSteps > 0 else { return nil }
            main = ConstantSchedule(learningRate)
        }
        return warmupSteps > 0 ? try WarmupSchedule(warmupSteps: warmupSteps, then: main) : main
    }

    /// Decodes a stored description; settings it lacks (written before they existed) take their defaults.
    static func decode(_ data: Data) throws -> RunDescription {
        let defaults = try JSONSerialization.jsonObject(with: JSONEncoder().encode(RunDescription())) as? [String: Any] ?? [:]
        guard let stored = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ValidationError("the run configuration is not a JSON object")
        }
        let merged = defaults.merging(stored) { _, new in new }
        return try JSONDecoder().decode(RunDescription.self, from: JSONSerialization.data(withJSONObject: merged))
    }

    /// The description stored in a checkpoint (metadata `config`).
    static func stored(in checkpoint: Checkpoint, path: String) throws -> RunDescription {
        guard let json = checkpoint.metadata["config"] else {
            throw ValidationError("\(path) has no run configuration (metadata 'config'): not a checkpoint of a `tangent train` run")
        }
        do { return try decode(Data(json.utf8)) }
        catch { throw ValidationError("\(path) has an unreadable run configuration: \(error)") }
    }

    /// The description in a run folder's `config.json`.
    static func stored(inRunFolder directory: String) throws -> RunDescription {
        let data = try RunDirectory.readConfiguration(from: directory)
        do { return try decode(data) }
        catch { throw ValidationError("\(directory)/config.json is not a valid run configuration: \(error)") }
    }

    /// Pretty-printed JSON with sorted keys.
    func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }
}
