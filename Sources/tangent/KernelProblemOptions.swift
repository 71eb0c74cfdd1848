import ArgumentParser
import Foundation
import Tangent

/// Which kernel `tangent kernel` fits, as given by `--kernel`.
enum KernelChoice: Equatable {
    /// The reference notebook's one-hidden-layer ReLU NTK (W_std² = 2, b_std = 0.1).
    case notebook
    case fullyConnected(depth: Int)
    case convolutional(depth: Int)
    case twoLayer
    /// The empirical NTK of a run folder's or checkpoint's model.
    case empirical(path: String)
    /// The empirical NTK of a freshly initialised model.
    case empiricalInit(model: ModelKind, seed: UInt64)

    /// Parses `fc1 | fc:DEPTH | conv:DEPTH | two-layer | empirical:CHECKPOINT | empirical-init:MODEL[:SEED]`.
    init(argument: String) throws {
        let usage = "--kernel takes fc1, fc:DEPTH, conv:DEPTH, two-layer, empirical:CHECKPOINT or empirical-init:MODEL[:SEED], not '\(argument)'"
        let (head, rest) = argument.firstIndex(of: ":").map { (String(argument[..<$0]), String(argument[argument.index(after: $0)...])) }
            ?? (argument, nil as String?)
        func depth(_ allowed: ClosedRange<Int>) throws -> Int {
            guard let rest, let d = Int(rest), allowed.contains(d) else {
                throw ValidationError("--kernel \(argument): the depth must be a whole number in \(allowed.lowerBound)–\(allowed.upperBound)")
            }
            return d
        }
        switch (head, rest) {
        case ("fc1", nil): self = .notebook
        case ("fc", _): self = .fullyConnected(depth: try depth(FullyConnectedReLUKernel.depths))
        case ("conv", _): self = .convolutional(depth: try depth(ConvolutionalReLUKernel.depths))
        case ("two-layer", nil): self = .twoLayer
        case ("empirical", let path?) where !path.isEmpty:
            guard FileManager.default.fileExists(atPath: path) else {
                throw ValidationError("--kernel empirical:\(path): \(path) does not exist (give a run folder or a checkpoint file)")
            }
            self = .empirical(path: path)
        case ("empirical-init", let spec?):
            let parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard parts.count <= 2, let model = ModelKind(rawValue: parts[0]) else {
                throw ValidationError("--kernel \(argument): MODEL must be one of \(ModelKind.allCases.map(\.rawValue).joined(separator: ", ")), optionally followed by :SEED")
            }
            var seed: UInt64 = 0
            if parts.count == 2 {
                guard let s = UInt64(parts[1]) else {
                    throw ValidationError("--kernel \(argument): the seed '\(parts[1])' is not a whole number from 0 to \(UInt64.max)")
                }
                seed = s
            }
            self = .empiricalInit(model: model, seed: seed)
        default: throw ValidationError(usage)
        }
    }

    var isEmpirical: Bool {
        switch self {
        case .empirical, .empiricalInit: return true
        default: return false
        }
    }
}

/// What `--task` asks for: two classes (by index or name), or every class of the data set.
enum TaskChoice: Equatable {
    case binary(String, String)
    case all

    /// Parses `binary:A,B` or `all`; A and B must differ.
    init(argument: String) throws {
        if argument == "all" { self = .all; return }
        guard argument.hasPrefix("binary:") else {
            throw ValidationError("--task takes binary:CLASS_A,CLASS_B or all, not '\(argument)'")
        }
        let classes = argument.dropFirst("binary:".count).split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        guard classes.count == 2, classes.allSatisfy({ !$0.isEmpty }) else {
            throw ValidationError("--task \(argument): a binary task needs exactly two classes, got \(classes.count)")
        }
        guard classes[0] != classes[1] else {
            throw ValidationError("--task \(argument): a binary task needs two different classes")
        }
        self = .binary(classes[0], classes[1])
    }

    /// The task on a data set with `classNames`: classes by index or name, the first one −1.
    func task(classNames: [String], dataset: String) throws -> KernelTask {
        switch self {
        case .all: return .multiclass(classes: classNames.count)
        case .binary(let a, let b):
            let labels = try [a, b].map { name -> Int32 in
                if let i = Int32(name), i >= 0, Int(i) < classNames.count { return i }
                if let i = classNames.firstIndex(of: name) { return Int32(i) }
                throw ValidationError("--task: '\(name)' is not a class of \(dataset) (classes 0–\(classNames.count - 1): \(classNames.joined(separator: ", ")))")
            }
            guard labels[0] != labels[1] else {
                throw ValidationError("--task: '\(a)' and '\(b)' are the same class of \(dataset); a binary task needs two")
            }
            return try KernelTask.binary(classes: labels)
        }
    }
}

/// The options every `tangent kernel` and `tangent features` subcommand shares: the kernel, the data and
/// task, the fit.
struct KernelProblemOptions: ParsableArguments {
    @Option(help: ArgumentHelp("fc1 (the notebook's) | fc:DEPTH (1-5) | conv:DEPTH (1-2) | two-layer | empirical:CHECKPOINT_OR_RUN | empirical-init:MODEL[:SEED].",
                               valueName: "kernel"))
    var kernel: String = "fc1"
    @Option(help: "W_std of fc:DEPTH and conv:DEPTH.") var weightStd: Double = 2.0.squareRoot()
    @Option(help: "b_std of fc:DEPTH and conv:DEPTH.") var biasStd: Double = 0.1
    @Flag(help: "Standardize the inputs per channel inside the kernel (the training images' mean and standard deviation); predictors and attacks still take [0, 1] pixels.")
    var standardize = false
    @Option(help: ArgumentHelp("binary:CLASS_A,CLASS_B (indices or names; A gets −1, B +1) or all.", valueName: "task"))
    var task: String = "all"
    @Option(help: "mnist | fashion-mnist | cifar10 (default: the empirical kernel's run, else mnist).") var dataset: String?
    @Option(help: "Folder with the standard data files (default: the run's; MNIST falls back to the embedded sample).") var dataDir: String?
    @Option(help: "Training images (of the task's classes).") var train: Int = 1000
    @Option(help: "Test images (of the task's classes).") var test: Int = 100
    @Option(help: ArgumentHelp("first (the first N of the task's classes, the notebook's) | per-class (the first N/k of each) | shuffled (a seeded random sample, --pick-seed).", valueName: "pick"))
    var pick: String = "first"
    @Option(help: ArgumentHelp("How the test images are picked (default: as --pick); per-class or shuffled for test files grouped by class.", valueName: "pick"))
    var testPick: String?
    @Option(help: "Seed of --pick shuffled and --test-pick shuffled.") var pickSeed: UInt64 = 0
    @Option(help: "Ridge λ added to the Gram matrix's diagonal.") var ridge: Double = 0
    @Option(help: "Memory budget of the kernel regression and the empirical NTK, in MB.") var memoryBudget: Int = 4096
    @Option(help: "Output folder (results and plots).") var out: String
    @OptionGroup var dataLimits: DataLimitOptions

    func validate() throws {
        _ = try KernelChoice(argument: kernel)
        _ = try TaskChoice(argument: task)
        if let dataset { _ = try DatasetKind(name: dataset) }
        try requireOption(weightStd.isFinite && weightStd > 0, "--weight-std must be finite and positive, got \(weightStd)")
        try requireOption(biasStd.isFinite && biasStd >= 0, "--bias-std must be finite and not negative, got \(biasStd)")
        try requireOption(train >= 1, "--train must be positive, got \(train)")
        try requireOption(test >= 1, "--test must be positive, got \(test)")
        let picks = KernelSampleSelection.allCases.map(\.rawValue).joined(separator: ", ")
        try requireOption(KernelSampleSelection(rawValue: pick) != nil, "--pick takes \(picks), not '\(pick)'")
        if let testPick {
            try requireOption(KernelSampleSelection(rawValue: testPick) != nil, "--test-pick takes \(picks), not '\(testPick)'")
        }
        try requireOption(ridge.isFinite && ridge >= 0, "--ridge must be finite and not negative, got \(ridge)")
        try requireOption(memoryBudget >= 1 && memoryBudget <= Int.max >> 20, "--memory-budget must be a positive number of MB, got \(memoryBudget)")
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: out, isDirectory: &isDirectory) {
            try requireOption(isDirectory.boolValue, "--out \(out) exists and is not a folder")
        }
    }

    var memoryBudgetBytes: Int { memoryBudget << 20 }

    /// Loads the data and the model of an empirical kernel, picks the task's images (and `validation`
    /// more test images, disjoint from the test images) and builds the kernel. Nothing is fitted or written.
    /// - Parameter method: how the kernel machine will be solved, for the memory check (nil: no check,
    ///   for a Gram matrix kept on disk).
    func makeProblem(validation: Int = 0, method: KernelRegression.Method? = .cholesky) throws -> KernelProblem {
        let choice = try KernelChoice(argument: kernel)
        let selection = KernelSampleSelection(rawValue: pick) ?? .first
        let testSelection = testPick.flatMap(KernelSampleSelection.init(rawValue:)) ?? selection
        let source = try modelSource(for: choice, dataset: dataset)
        let datasetKind = try source.map(\.dataConfiguration.dataset) ?? DatasetKind(name: dataset ?? "mnist")
        try Self.check(source, takes: datasetKind, option: "--kernel \(kernel)")
        let classNames = datasetKind == .cifar10 ? CIFAR10Loader.classNames
            : (datasetKind == .mnist ? MNISTVariant.mnist : MNISTVariant.fashionMNIST).classNames
        let kernelTask = try TaskChoice(argument: task).task(classNames: classNames, dataset: datasetKind.rawValue)
        let features = datasetKind == .cifar10 ? 3 * 32 * 32 : 28 * 28
        let needed = method.map { KernelRegression.requiredBytes(samples: train, features: features, outputs: kernelTask.outputs, method: $0) } ?? 0
        guard needed <= memoryBudgetBytes else {
            throw ValidationError(String(format: "--train %d: kernel regression needs %.1f MB (the %d×%d Gram matrix in Float64 and the inputs) but --memory-budget is %d MB",
                                         train, Double(needed) / 1_048_576, train, train, memoryBudget))
        }

        let directory = dataDir ?? source?.dataConfiguration.dataDirectory
        let data = try TrainingData.load(datasetKind, directory: directory, limits: dataLimits.limits())
        let (trainX, trainY) = try kernelTask.samples(from: data.train, count: train, selection: selection, seed: pickSeed)
        let testParts = try kernelTask.samples(from: data.test, counts: validation > 0 ? [test, validation] : [test],
                                               selection: testSelection, seed: pickSeed)
        return KernelProblem(kernel: try makeKernel(choice, source: source, trainingInputs: trainX), kernelSpec: kernel,
                             modelDescription: source?.description, dataset: datasetKind, dataSource: data.source,
                             classNames: classNames, selection: selection, testSelection: testSelection, pickSeed: pickSeed, task: kernelTask,
                             trainInputs: trainX, trainLabels: trainY, testInputs: testParts[0].inputs,
                             testLabels: testParts[0].labels, validation: testParts.count > 1 ? testParts[1] : nil,
                             ridge: ridge, memoryBudgetBytes: memoryBudgetBytes)
    }

    /// The model of an empirical kernel (nil for an analytic one), read on `dataset` (nil: the run's).
    func modelSource(for choice: KernelChoice, dataset: String?) throws -> ModelSource? {
        switch choice {
        case .empirical(let path):
            return try ModelSource.load(path, model: nil, seed: 0, width: 4096, dataset: dataset, dataDir: dataDir)
        case .empiricalInit(let model, let seed):
            let defaultDataset = model.isCIFAR ? DatasetKind.cifar10.rawValue : DatasetKind.mnist.rawValue
            return try ModelSource.load(nil, model: model.rawValue, seed: seed, width: 4096,
                                        dataset: dataset ?? defaultDataset, dataDir: dataDir)
        default: return nil
        }
    }

    /// Refuses an empirical kernel whose model does not take the images of `dataset`.
    static func check(_ source: ModelSource?, takes dataset: DatasetKind, option: String) throws {
        guard let source else { return }
        let model = source.kind
        guard !(model.isCIFAR && dataset != .cifar10),
              !(![.twoLayer, .mlp].contains(model) && !model.isCIFAR && dataset == .cifar10) else {
            throw ValidationError("\(option): model \(model.rawValue) does not take \(dataset.rawValue) images")
        }
    }

    /// The kernel of `choice` (with `--weight-std`, `--bias-std` and, with `--standardize`, the channel
    /// statistics of the training inputs).
    func makeKernel(_ choice: KernelChoice, source: ModelSource?, trainingInputs: Tensor) throws -> KernelFunction {
        let function: KernelFunction
        switch choice {
        case .notebook: function = FullyConnectedReLUKernel.notebook
        case .fullyConnected(let depth): function = try FullyConnectedReLUKernel(depth: depth, weightStd: weightStd, biasStd: biasStd)
        case .convolutional(let depth): function = try ConvolutionalReLUKernel(depth: depth, weightStd: weightStd, biasStd: biasStd)
        case .twoLayer: function = TwoLayerFrozenOutputKernel()
        case .empirical, .empiricalInit:
            guard let network = source?.network else { throw ValidationError("--kernel \(kernel): no model was loaded") }
            function = try EmpiricalNTKKernel(model: network, memoryBudgetBytes: memoryBudgetBytes)
        }
        guard standardize else { return function }
        let (mean, deviation) = try StandardizedInputKernel.channelStatistics(trainingInputs)
        return try StandardizedInputKernel(base: function, mean: mean, standardDeviation: deviation)
    }
}

/// The kernel, the task and the images a kernel machine is built on and evaluated on.
struct KernelProblem {
    let kernel: KernelFunction
    let kernelSpec: String
    /// The model of an empirical kernel, for humans.
    let modelDescription: String?
    let dataset: DatasetKind
    let dataSource: String
    let classNames: [String]
    let selection: KernelSampleSelection
    let testSelection: KernelSampleSelection
    /// The seed of shuffled picks.
    let pickSeed: UInt64
    let task: KernelTask
    let trainInputs: Tensor
    let trainLabels: [Int32]
    let testInputs: Tensor
    let testLabels: [Int32]
    /// Held-out images disjoint from the test images (when asked for).
    let validation: (inputs: Tensor, labels: [Int32])?
    let ridge: Double
    let memoryBudgetBytes: Int

    var kernelDescription: String { kernel.description }

    /// "airplane (−1) vs automobile (+1)" or "10 classes".
    var taskDescription: String {
        switch task {
        case .binary(let negative, let positive):
            return "\(classNames[Int(negative)]) (−1) vs \(classNames[Int(positive)]) (+1)"
        case .multiclass(let classes): return "\(classes) classes"
        }
    }

    /// The same images and task with another kernel.
    func replacingKernel(_ other: KernelFunction, spec: String, modelDescription: String?) -> KernelProblem {
        KernelProblem(kernel: other, kernelSpec: spec, modelDescription: modelDescription, dataset: dataset, dataSource: dataSource,
                      classNames: classNames, selection: selection, testSelection: testSelection, pickSeed: pickSeed,
                      task: task, trainInputs: trainInputs, trainLabels: trainLabels, testInputs: testInputs,
                      testLabels: testLabels, validation: validation, ridge: ridge, memoryBudgetBytes: memoryBudgetBytes)
    }

    /// The t → ∞ predictor by Cholesky, timed.
    func fit() throws -> (predictor: KernelPredictor, seconds: Double) {
        let start = DispatchTime.now().uptimeNanoseconds
        let predictor = try KernelRegression.fit(kernel: kernel, inputs: trainInputs, labels: trainLabels, task: task,
                                                 ridge: ridge, memoryBudgetBytes: memoryBudgetBytes)
        return (predictor, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }

    /// Prints the summary, fits the t → ∞ predictor and prints how the fit went.
    func fitPrintingSummary() throws -> (predictor: KernelPredictor, seconds: Double) {
        printSummary()
        let fitted = try fit()
        let pivot = fitted.predictor.smallestPivot.map { String(format: ", smallest Cholesky pivot %.3g (sample %d)", $0.value, $0.index) } ?? ""
        print(String(format: "fit: %.2f s, ridge %g%@", fitted.seconds, ridge, pivot))
        return fitted
    }

    /// The eigen-features of the t → ∞ predictor (one eigen-decomposition, complete or of the top
    /// eigenpairs), timed.
    func decompose(_ decomposition: GramDecomposition = .complete) throws -> (features: EigenFeatures, seconds: Double) {
        let start = DispatchTime.now().uptimeNanoseconds
        let features = try EigenFeatures.decompose(kernel: kernel, inputs: trainInputs, labels: trainLabels, task: task,
                                                   ridge: ridge, decomposition: decomposition, memoryBudgetBytes: memoryBudgetBytes)
        return (features, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }

    /// Prints what is fitted, on what, and warns when a split holds only some of the task's classes.
    func printSummary() {
        if let modelDescription { print("model: \(modelDescription)") }
        print("kernel: \(kernelDescription)")
        let validationCount = validation.map { " / \($0.labels.count) validation" } ?? ""
        print("data: \(dataSource); task \(taskDescription); \(trainLabels.count) train / \(testLabels.count) test\(validationCount) images (picked \(selection.rawValue) / \(testSelection.rawValue))")
        var splits = [("training", trainLabels), ("test", testLabels)]
        if let validation { splits.append(("validation", validation.labels)) }
        for (split, labels) in splits {
            let missing = task.classes.filter { !labels.contains($0) }
            if !missing.isEmpty {
                print("warning: the \(split) images hold no \(missing.map { classNames[Int($0)] }.joined(separator: ", ")) (files grouped by class? try --pick per-class)")
            }
        }
    }
}
