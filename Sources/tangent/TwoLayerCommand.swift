import ArgumentParser
import Foundation
import Tangent

/// `tangent two-layer`: a two-layer network on a synthetic task in one regime (random features, first
/// layer, full, lazy), optionally adversarially trained, with its measures per epoch in a run folder
/// (`metrics.jsonl`/`.csv`, `experiment.json`, `checkpoint.safetensors.zst` after every epoch) and
/// exact resume. SIGINT/SIGTERM stop it after the step in progress with a checkpoint and exit status 75,
/// as `tangent train` does.
struct TwoLayerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "two-layer",
        abstract: "Train a two-layer network on synthetic data (random features, lazy or full training) and measure its robustness.")

    enum Regime: String, ExpressibleByArgument, CaseIterable { case randomFeatures = "random-features", firstLayer = "first-layer", full, lazy }
    enum Teacher: String, ExpressibleByArgument, CaseIterable { case linear, quadratic, network }

    @Option(help: "The run folder (created; must be empty unless --resume).") var runDir: String
    @Flag(help: "Continue the run in --run-dir from its checkpoint (its stored experiment; only --epochs may change).") var resume = false
    @Option(help: "Input dimension d.") var dimension = 100
    @Option(help: "Input distribution: gaussian (N(0, I/d)) or sphere (unit sphere).") var inputs = "sphere"
    @Option(help: "Teacher: linear, quadratic (xᵀAx) or network.") var teacher: Teacher = .quadratic
    @Option(help: "Quadratic teacher: A has K eigenvalues d/K, the rest 0 (K = d would make xᵀAx constant on the sphere).") var quadraticRank = 1
    @Option(help: "Network teacher: its width.") var teacherWidth = 8
    @Option(help: "Network teacher: its activation (relu, softplus, tanh).") var teacherActivation = "relu"
    @Option(help: "Standard deviation of Gaussian noise on the targets.") var noise = 0.0
    @Option(help: "Probability of flipping a sign label.") var labelFlip = 0.0
    @Flag(help: "Train and measure on ±1 sign targets (a classification task).") var signTargets = false
    @Option(help: "Training set size n; 0 trains on fresh samples (online), --samples-per-epoch per epoch.") var trainSize = 1000
    @Option(help: "Fresh samples per epoch when --train-size is 0.") var samplesPerEpoch = 1000
    @Option(help: "Test set size.") var testSize = 1000
    @Option(help: "Network width m.") var width = 256
    @Option(help: "Activation σ: relu, softplus or tanh.") var activation = "relu"
    @Option(help: "Regime: random-features (output layer), first-layer, full (both), lazy (linearized, both).") var regime: Regime = .full
    @Option(help: "Output scale α in (α/√m) Σ a_r σ(w_r·x); > 0.") var alpha: Float = 1
    @Flag(help: "Subtract the initial function f(θ₀, x).") var centred = false
    @Option(help: "Learning rate.") var lr: Float = 0.1
    @Option(help: "SGD momentum.") var momentum: Float = 0
    @Option(help: "Batch size; omit for full-batch gradient descent (needed for --train-size 0).") var batchSize: Int?
    @Option(help: "Epochs (default 100; with --resume, the stored count unless given).") var epochs: Int?
    @Option(help: "Measure every N epochs (and after the last).") var measureEvery = 1
    @Option(help: "Seed of the teacher and the data.") var dataSeed: UInt64 = 0
    @Option(help: "Seed of the network.") var modelSeed: UInt64 = 1
    @Option(help: "Seed of the batch order and the attacks.") var seed: UInt64 = 0
    @Option(help: "Adversarial training radius ε (0: clean training).") var trainEpsilon: Float = 0
    @Option(help: "Radius ε of the measured adversarial risk (0: none).") var evalEpsilon: Float = 0
    @Option(help: "Attack norm: l2 or linf.") var attackNorm = "l2"
    @Option(help: "PGD steps.") var attackSteps = 10
    @Option(help: "PGD step size as a fraction of ε.") var attackStepFraction: Float = 0.25

    func validate() throws {
        for (name, value) in [("--dimension", dimension), ("--test-size", testSize), ("--width", width), ("--teacher-width", teacherWidth),
                              ("--measure-every", measureEvery)] {
            try requireOption(value >= 1, "\(name) must be at least 1, got \(value)")
        }
        if let epochs { try requireOption(epochs >= 0, "--epochs must be ≥ 0, got \(epochs)") }
        try requireOption(attackSteps >= 0, "--attack-steps must be ≥ 0, got \(attackSteps)")
        try requireOption(trainSize >= 0, "--train-size must be 0 (online) or positive, got \(trainSize)")
        try requireOption(trainSize > 0 || samplesPerEpoch >= 1, "--samples-per-epoch must be positive with --train-size 0, got \(samplesPerEpoch)")
        try requireOption(trainSize > 0 || batchSize != nil, "--train-size 0 (online) needs --batch-size")
        if let b = batchSize { try requireOption(b >= 1, "--batch-size must be positive, got \(b)") }
        try requireOption(quadraticRank >= 1 && quadraticRank <= dimension, "--quadratic-rank must be in 1...\(dimension) (--dimension), got \(quadraticRank)")
        try requireOption(alpha.isFinite && alpha > 0, "--alpha must be finite and > 0, got \(alpha)")
        try requireOption(lr.isFinite && lr > 0, "--lr must be finite and > 0, got \(lr)")
        try requireOption(momentum.isFinite && (0..<1).contains(momentum), "--momentum must be in [0, 1), got \(momentum)")
        try requireOption(noise.isFinite && noise >= 0, "--noise must be finite and ≥ 0, got \(noise)")
        try requireOption(labelFlip.isFinite && (0...1).contains(labelFlip), "--label-flip must be in [0, 1], got \(labelFlip)")
        for (name, value) in [("--train-epsilon", trainEpsilon), ("--eval-epsilon", evalEpsilon), ("--attack-step-fraction", attackStepFraction)] {
            try requireOption(value.isFinite && value >= 0, "\(name) must be finite and ≥ 0, got \(value)")
        }
        try requireOption(SyntheticInputDistribution(rawValue: inputs) != nil, "--inputs must be gaussian or sphere, got '\(inputs)'")
        try requireOption(RegressionRobustness.Norm(rawValue: attackNorm) != nil, "--attack-norm must be l2 or linf, got '\(attackNorm)'")
        for (name, value) in [("--activation", activation), ("--teacher-activation", teacherActivation)] {
            try requireOption(TwoLayerActivation(rawValue: value) != nil, "\(name) must be relu, softplus or tanh, got '\(value)'")
        }
    }

    /// The experiment the options describe.
    func describedExperiment() throws -> TwoLayerExperiment {
        let norm = RegressionRobustness.Norm(rawValue: attackNorm) ?? .l2
        func attack(_ epsilon: Float) -> RegressionTrainingSettings.Attack? {
            epsilon > 0 ? .init(pgd: PGDConfiguration(epsilon: epsilon, stepSize: epsilon * attackStepFraction, steps: attackSteps), norm: norm) : nil
        }
        let teacherKind: TwoLayerExperiment.Teacher
        switch teacher {
        case .linear: teacherKind = .linear
        case .quadratic:
            let k = quadraticRank
            teacherKind = .quadratic(spectrum: (0..<dimension).map { $0 < k ? Double(dimension) / Double(k) : 0 })
        case .network: teacherKind = .network(width: teacherWidth, activation: try TwoLayerActivation(name: teacherActivation))
        }
        let trained: TwoLayerRegime
        switch regime {
        case .randomFeatures: trained = .randomFeatures(alpha: alpha)
        case .firstLayer: trained = TwoLayerRegime(trainsFirstLayer: true, trainsOutputLayer: false, alpha: alpha)
        case .full: trained = .full(alpha: alpha)
        case .lazy: trained = .lazy(alpha: alpha, centred: centred)
        }
        var regimeWithCentring = trained
        regimeWithCentring.centred = centred
        let training = RegressionTrainingSettings(epochs: epochs ?? 100, batchSize: batchSize, samplesPerEpoch: trainSize == 0 ? samplesPerEpoch : 0,
                                                  seed: seed, adversarialTraining: attack(trainEpsilon), evaluationAttack: attack(evalEpsilon),
                                                  measureEvery: measureEvery)
        return TwoLayerExperiment(dimension: dimension, inputs: SyntheticInputDistribution(rawValue: inputs) ?? .sphere, teacher: teacherKind,
                                  noiseStd: noise, labelFlipProbability: labelFlip, signTargets: signTargets,
                                  trainSize: trainSize == 0 ? nil : trainSize, testSize: testSize, width: width,
                                  activation: try TwoLayerActivation(name: activation), regime: regimeWithCentring, learningRate: lr,
                                  momentum: momentum, training: training, dataSeed: dataSeed, modelSeed: modelSeed)
    }

    func run() throws {
        let folder = TwoLayerRunFolder(path: runDir)
        var experiment: TwoLayerExperiment
        if resume {
            do { experiment = try folder.storedExperiment() } catch { throw ValidationError("cannot resume: \(error)") }
            if let epochs { experiment.training.epochs = epochs }
        } else {
            experiment = try describedExperiment()
            let contents = (try? FileManager.default.contentsOfDirectory(atPath: runDir)) ?? []
            guard contents.isEmpty else {
                throw ValidationError("--run-dir \(runDir) is not empty; use --resume to continue it, or choose another folder")
            }
        }
        // Everything is built (and checked) before the folder is written.
        _ = try experiment.makeTrainer()
        try RunDirectory.create(runDir)
        let lock = try RunLock(runDirectory: runDir)  // no second process writes this run meanwhile
        defer { withExtendedLifetime(lock) {} }
        let saved = resume ? try folder.checkpoint() : nil
        if resume && saved == nil {
            // Stopped before its first checkpoint: the stored experiment starts again from the beginning.
            print("no checkpoint yet in \(runDir): starting its stored experiment from epoch 0")
            for name in ["metrics.jsonl", "metrics.csv"] { try? FileManager.default.removeItem(atPath: (runDir as NSString).appendingPathComponent(name)) }
        }
        try folder.store(experiment)  // on resume, with the epochs it now runs to
        let (_, trainer) = try experiment.makeTrainer(log: try MetricsLog(directory: runDir))
        if let saved { try trainer.restore(from: saved) }
        print("two-layer \(experiment.regime.label), width \(experiment.width), d = \(experiment.dimension): epoch \(trainer.epoch) of \(experiment.training.epochs)")
        Interruption.handleSignals()
        do {
            while trainer.epoch < experiment.training.epochs {
                try trainer.trainEpoch()
                try trainer.log?.synchronize()
                try folder.save(trainer)
                if let m = trainer.history.last, m.epoch == trainer.epoch {
                    print(m.metrics.map { "\($0.0) \(String(format: "%.6g", $0.1))" }.joined(separator: "  ") + "  (epoch \(m.epoch))")
                }
                if trainer.epoch < experiment.training.epochs { try trainer.stopIfRequested() }
            }
        } catch let stop as TrainingInterrupted {
            let path = try folder.save(trainer)
            let stopped = TrainingInterrupted(signal: stop.signal, epoch: stop.epoch, step: stop.step, checkpointPath: path)
            FileHandle.standardError.write(Data("\(stopped)\ncontinue with: tangent two-layer --resume --run-dir \(runDir)\n".utf8))
            throw ExitCode(TrainCommand.interruptedStatus)
        }
    }
}
