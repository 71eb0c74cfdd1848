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

/// The options every `tangent kernel` subcommand shares: the kernel, the data and task, the fit.
struct KernelProblemOptions: ParsableArguments {
    @Option(help: ArgumentHelp("fc1 (the notebook's) | fc:DEPTH (1-5) | conv:DEPTH (1-2) | two-layer | empirical:CHECKPOINT_OR_RUN | empirical-init:MODEL[:SEED].",
                               valueName: "kernel"))
    var kernel: String = "fc1"
    @Option(help: "W_std of fc:DEPTH and conv:DEPTH.") var weightStd: Double = 2.0.squareRoot()
    @Option(help: "b_std of fc:DEPTH and conv:DEPTH.") var biasStd: Double = 0.1
    @Option(help: ArgumentHelp("binary:CLASS_A,CLASS_B (indices or names; A gets −1, B +1) or all.", valueName: "task"))
    var task: String = "all"
    @Option(help: "mnist | fashion-mnist | cifar10 (default: the empirical kernel's run, else mnist).") var dataset: String?
    @Option(help: "Folder with the standard data files (default: the run's; MNIST falls back to the embedded sample).") var dataDir: String?
    @Option(help: "Training images (of the task's classes).") var train: Int = 1000
    @Option(help: "Test images (of the task's classes).") var test: Int = 100
    @Option(help: ArgumentHelp("first (the first N of the task's classes, the notebook's) | per-class (the first N/k of each).", valueName: "pick"))
    var pick: String = "first"
    @Option(help: ArgumentHelp("How the test images are picked (default: as --pick); per-class for test files grouped by class.", valueName: "pick"))
    var testPick: String?
    @Option(help: "Ridge λ added to the Gram matrix's diagonal.") var ridge: Double = 0
    @Option(help: "Memory budget of the kernel regression and the empirical NTK, in MB.") var memoryBudget: Int = 4096
    @Option(help: "Output folder (results.json, results.csv and, for attacks, accuracy.svg).") var out: String
    @OptionGroup var dataLimits: DataLimitOptions

    func validate() throws {
        _ = try KernelChoice(argument: kernel)
        _ = try TaskChoice(argument: task)
        if let dataset { _ = try DatasetKind(name: dataset) }
        try requireOption(weightStd.isFinite && weightStd > 0, "--weight-std must be finite and positive, got \(weightStd)")
        try requireOption(biasStd.isFinite && biasStd >= 0, "--bias-std must be finite and not negative, got \(biasStd)")
        try requireOption(train >= 1, "--train must be positive, got \(train)")
        try requireOption(test >= 1, "--test must be positive, got \(test)")
        try requireOption(KernelSampleSelection(rawValue: pick) != nil, "--pick takes first or per-class, not '\(pick)'")
        if let testPick {
            try requireOption(KernelSampleSelection(rawValue: testPick) != nil, "--test-pick takes first or per-class, not '\(testPick)'")
        }
        try requireOption(ridge.isFinite && ridge >= 0, "--ridge must be finite and not negative, got \(ridge)")
        try requireOption(memoryBudget >= 1 && memoryBudget <= Int.max >> 20, "--memory-budget must be a positive number of MB, got \(memoryBudget)")
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: out, isDirectory: &isDirectory) {
            try requireOption(isDirectory.boolValue, "--out \(out) exists and is not a folder")
        }
    }

    var memoryBudgetBytes: Int { memoryBudget << 20 }

    /// Loads the data and the model of an empirical kernel, picks the task's images, builds the kernel
    /// and fits the t → ∞ predictor. Nothing is written.
    func makeProblem() throws -> KernelProblem {
        let choice = try KernelChoice(argument: kernel)
        let selection = KernelSampleSelection(rawValue: pick) ?? .first
        let testSelection = testPick.flatMap(KernelSampleSelection.init(rawValue:)) ?? selection
        var source: ModelSource?
        switch choice {
        case .empirical(let path):
            source = try ModelSource.load(path, model: nil, seed: 0, width: 4096, dataset: dataset, dataDir: dataDir)
        case .empiricalInit(let model, let seed):
            let defaultDataset = model.isCIFAR ? DatasetKind.cifar10.rawValue : DatasetKind.mnist.rawValue
            source = try ModelSource.load(nil, model: model.rawValue, seed: seed, width: 4096,
                                          dataset: dataset ?? defaultDataset, dataDir: dataDir)
        default: break
        }
        let datasetKind = try source.map(\.dataConfiguration.dataset) ?? DatasetKind(name: dataset ?? "mnist")
        if let source {
            let model = source.kind
            guard !(model.isCIFAR && datasetKind != .cifar10),
                  !(![.twoLayer, .mlp].contains(model) && !model.isCIFAR && datasetKind == .cifar10) else {
                throw ValidationError("--kernel \(kernel): model \(model.rawValue) does not take \(datasetKind.rawValue) images")
            }
        }
        let classNames = datasetKind == .cifar10 ? CIFAR10Loader.classNames
            : (datasetKind == .mnist ? MNISTVariant.mnist : MNISTVariant.fashionMNIST).classNames
        let kernelTask = try TaskChoice(argument: task).task(classNames: classNames, dataset: datasetKind.rawValue)
        let features = datasetKind == .cifar10 ? 3 * 32 * 32 : 28 * 28
        let needed = KernelRegression.requiredBytes(samples: train, features: features, outputs: kernelTask.outputs, method: .cholesky)
        guard needed <= memoryBudgetBytes else {
            throw ValidationError(String(format: "--train %d: kernel regression needs %.1f MB (the %d×%d Gram matrix in Float64 and the inputs) but --memory-budget is %d MB",
                                         train, Double(needed) / 1_048_576, train, train, memoryBudget))
        }

        let directory = dataDir ?? source?.dataConfiguration.dataDirectory
        let data = try TrainingData.load(datasetKind, directory: directory, limits: dataLimits.limits())
        let (trainX, trainY) = try kernelTask.samples(from: data.train, count: train, selection: selection)
        let (testX, testY) = try kernelTask.samples(from: data.test, count: test, selection: testSelection)

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
        let start = DispatchTime.now().uptimeNanoseconds
        let predictor = try KernelRegression.fit(kernel: function, inputs: trainX, labels: trainY, task: kernelTask,
                                                 ridge: ridge, memoryBudgetBytes: memoryBudgetBytes)
        let fitSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return KernelProblem(predictor: predictor, kernelSpec: kernel, kernelDescription: function.description,
                             modelDescription: source?.description, dataset: datasetKind, dataSource: data.source,
                             classNames: classNames, selection: selection, testSelection: testSelection, trainLabels: trainY,
                             testInputs: testX, testLabels: testY, ridge: ridge, fitSeconds: fitSeconds)
    }
}

/// A fitted kernel predictor and the test images it is evaluated on.
struct KernelProblem {
    let predictor: KernelPredictor
    let kernelSpec: String
    let kernelDescription: String
    /// The model of an empirical kernel, for humans.
    let modelDescription: String?
    let dataset: DatasetKind
    let dataSource: String
    let classNames: [String]
    let selection: KernelSampleSelection
    let testSelection: KernelSampleSelection
    let trainLabels: [Int32]
    let testInputs: Tensor
    let testLabels: [Int32]
    let ridge: Double
    let fitSeconds: Double

    /// "airplane (−1) vs automobile (+1)" or "10 classes".
    var taskDescription: String {
        switch predictor.task {
        case .binary(let negative, let positive):
            return "\(classNames[Int(negative)]) (−1) vs \(classNames[Int(positive)]) (+1)"
        case .multiclass(let classes): return "\(classes) classes"
        }
    }

    /// Prints what was fitted, on what, and warns when a split holds only some of the task's classes.
    func printSummary() {
        if let modelDescription { print("model: \(modelDescription)") }
        print("kernel: \(kernelDescription)")
        print("data: \(dataSource); task \(taskDescription); \(trainLabels.count) train / \(testLabels.count) test images (picked \(selection.rawValue) / \(testSelection.rawValue))")
        for (split, labels) in [("training", trainLabels), ("test", testLabels)] {
            let missing = predictor.task.classes.filter { !labels.contains($0) }
            if !missing.isEmpty {
                print("warning: the \(split) images hold no \(missing.map { classNames[Int($0)] }.joined(separator: ", ")) (files grouped by class? try --pick per-class)")
            }
        }
        let pivot = predictor.smallestPivot.map { String(format: ", smallest Cholesky pivot %.3g (sample %d)", $0.value, $0.index) } ?? ""
        print(String(format: "fit: %.2f s, ridge %g%@", fitSeconds, ridge, pivot))
    }
}
