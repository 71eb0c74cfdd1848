import Autodiff
import Datasets
import Foundation
import Kernels
import NN
import Robustness
import Training

/// What a regression run measured after an epoch.
public struct RegressionEpochMeasures: Codable, Sendable, Equatable {
    /// Completed epochs.
    public var epoch: Int
    /// Completed optimiser steps.
    public var step: Int
    /// The mean of the epoch's batch losses (on adversarial batches under adversarial training).
    public var trainLoss: Double
    /// The squared error on the whole fixed training set (nil for an online stream).
    public var trainRisk: Double?
    /// The adversarial squared error on the whole fixed training set under the training attack (or the
    /// evaluation attack without adversarial training); nil without either or for a stream.
    public var trainAdversarialRisk: Double?
    /// The squared error on the test set (noisy targets).
    public var testRisk: Double
    /// The adversarial risk on the test set under the evaluation attack (nil without one).
    public var testAdversarialRisk: Double?
    /// The fraction of test outputs with the target's sign, clean and under the evaluation attack.
    public var testSignAccuracy: Double
    /// The same under the evaluation attack (nil without one).
    public var testRobustSignAccuracy: Double?
    /// E‖∇ₓ f(x)‖₂ over the test set.
    public var inputGradientNorm: Double
    /// ‖θ − θ₀‖ / ‖θ₀‖ over the trained parameters.
    public var parameterDistance: Double

    /// The measures as (metric name, value) pairs, in a fixed order, for metric logs.
    public var metrics: [(String, Double)] {
        var list: [(String, Double)] = [("train_loss", trainLoss)]
        if let trainRisk { list.append(("train_risk", trainRisk)) }
        if let trainAdversarialRisk { list.append(("train_adversarial_risk", trainAdversarialRisk)) }
        list.append(("test_risk", testRisk))
        if let testAdversarialRisk { list.append(("test_adversarial_risk", testAdversarialRisk)) }
        list.append(("test_sign_accuracy", testSignAccuracy))
        if let testRobustSignAccuracy { list.append(("test_robust_sign_accuracy", testRobustSignAccuracy)) }
        list += [("input_gradient_norm", inputGradientNorm), ("parameter_distance", parameterDistance)]
        return list
    }
}

/// Trains a one-output model on a synthetic regression task with the squared error — full-batch
/// gradient descent or SGD on a fixed set, or SGD on a fresh-sample stream — optionally adversarially
/// (PGD on the squared error, ℓ2 or ℓ∞), and measures after each epoch the training and test risk,
/// the adversarial risk, the input-gradient norm and the distance travelled (logged to a
/// `MetricsLog` when given). ``checkpoint()`` captures the whole state — parameters, the
/// linearization point, optimiser, batch order or stream position, the attack's generator — and
/// ``restore(from:)`` continues bit-identically.
public final class RegressionTrainer {
    /// The network whose parameters are θ.
    public let network: Module
    /// What is trained, attacked and measured: `network`, or its `LinearizedModel` (lazy regime).
    public internal(set) var trainee: Module
    /// The optimiser.
    public let optimizer: any Optimizer
    /// How the run trains and measures.
    public let settings: RegressionTrainingSettings
    /// The training samples or stream (the stream advances as the run trains).
    public internal(set) var data: RegressionTrainingData
    /// The test samples.
    public let test: SyntheticSamples
    /// Where measures are logged, if anywhere.
    public let log: MetricsLog?
    /// Whether a stream's batches are trained on their ±1 sign targets (a fixed set and the test set
    /// come with the targets they are to be trained and measured on).
    public let signTargets: Bool

    /// Completed epochs.
    public internal(set) var epoch = 0
    /// Completed optimiser steps.
    public internal(set) var step = 0
    /// Every epoch's measures so far.
    public internal(set) var history: [RegressionEpochMeasures] = []
    /// The trained parameters at the start, θ₀ of the distance travelled.
    public internal(set) var initialParameters: [String: Tensor]
    var batchOrder: BatchOrder?
    var attackGenerator: Xoshiro256
    /// The epoch in progress so far (zero between epochs).
    var epochProgress = EpochProgress()

    /// How far the current epoch has got: the sum of its batch losses, its steps and the samples
    /// trained on (the mean training loss is measured at its end). Saved in checkpoints so a run
    /// stopped mid-epoch finishes the epoch as an uninterrupted one would.
    struct EpochProgress: Codable, Equatable {
        /// The bit pattern of the losses' sum (exact through JSON).
        var lossSumBits: UInt64 = 0
        var batches = 0
        var samples = 0

        var lossSum: Double { Double(bitPattern: lossSumBits) }

        mutating func add(loss: Double, samples count: Int) {
            lossSumBits = (lossSum + loss).bitPattern
            batches += 1
            samples += count
        }
    }

    /// A run of `trainee` (the `network` or its linearization) on `data`, measured on `test`. Throws for
    /// invalid settings, an online stream without a batch size, empty data, samples whose dimension
    /// differs from the test set's, or a model that does not give one output per sample. With
    /// `signTargets`, a stream's batches are trained on their ±1 sign targets.
    public init(network: Module, trainee: Module? = nil, optimizer: any Optimizer, data: RegressionTrainingData,
                test: SyntheticSamples, settings: RegressionTrainingSettings, log: MetricsLog? = nil,
                signTargets: Bool = false) throws {
        try settings.validate()
        let dimension: Int
        switch data {
        case .fixed(let samples):
            guard samples.count > 0 else { throw WorkbenchError.mismatch("the training set is empty") }
            dimension = samples.dimension
        case .online(let stream):
            guard settings.batchSize != nil else {
                throw WorkbenchError.invalidSetting(name: "batch size", value: "none (full batch)", requirement: "set for an online stream")
            }
            guard settings.samplesPerEpoch >= 1 else {
                throw WorkbenchError.invalidSetting(name: "samples per epoch", value: "\(settings.samplesPerEpoch)", requirement: "at least 1 for an online stream")
            }
            dimension = stream.task.dimension
        }
        guard test.dimension == dimension else {
            throw WorkbenchError.mismatch("the training inputs have dimension \(dimension) but the test inputs \(test.dimension)")
        }
        let model = trainee ?? network
        let probe = try model(Tensor(shape: [1, dimension], scalars: [Float](repeating: 0, count: dimension)))
        guard probe.shape == [1, 1] else {
            throw WorkbenchError.mismatch("the model maps one input of dimension \(dimension) to shape \(probe.shape); a regression needs [1, 1]")
        }
        self.network = network
        self.trainee = model
        self.optimizer = optimizer
        self.settings = settings
        self.data = data
        self.test = test
        self.log = log
        self.signTargets = signTargets
        initialParameters = ParameterDistance.snapshot(model)
        if case .fixed(let samples) = data, let b = settings.batchSize, b < samples.count {
            batchOrder = BatchOrder(count: samples.count, batchSize: b, generator: Xoshiro256(seed: settings.seed &+ 0x5eed_0001), shuffle: true)
        }
        attackGenerator = Xoshiro256(seed: settings.seed &+ 0x5eed_0002)
    }

    /// Trains until `settings.epochs` epochs are complete, continuing from the current state. Stops
    /// with `TrainingInterrupted` when an `Interruption` is requested (see ``trainEpoch()``).
    public func fit() throws {
        while epoch < settings.epochs {
            try trainEpoch()
            if epoch < settings.epochs { try stopIfRequested() }
        }
        try log?.synchronize()
    }

    /// The rest of the current epoch's steps, then the measures (when due). When an `Interruption` is
    /// requested it stops after the step in progress if the epoch has steps left, throwing
    /// `TrainingInterrupted` (without a checkpoint path: the caller saves ``checkpoint()``, which holds
    /// the epoch's progress, and a restored run finishes the epoch as an uninterrupted one would).
    public func trainEpoch() throws {
        switch data {
        case .fixed(let samples):
            if var order = batchOrder {
                while let indices = order.nextBatch() {
                    let loss = try trainStep(samples, rows: Array(indices))
                    batchOrder = order
                    epochProgress.add(loss: loss, samples: indices.count)
                    if !order.isEpochFinished { try stopIfRequested() }
                }
                order.startNextEpoch()
                batchOrder = order
            } else {
                epochProgress.add(loss: try trainStep(samples, rows: Array(0..<samples.count)), samples: samples.count)
            }
        case .online(var stream):
            let size = settings.batchSize ?? settings.samplesPerEpoch
            while epochProgress.samples < settings.samplesPerEpoch {
                let drawn = stream.next(count: min(size, settings.samplesPerEpoch - epochProgress.samples))
                data = .online(stream)
                let batch = signTargets ? drawn.withSignTargets : drawn
                epochProgress.add(loss: try trainStep(batch, rows: Array(0..<batch.count)), samples: batch.count)
                if epochProgress.samples < settings.samplesPerEpoch { try stopIfRequested() }
            }
        }
        let finished = epochProgress
        epochProgress = EpochProgress()
        epoch += 1
        if epoch % settings.measureEvery == 0 || epoch == settings.epochs {
            let measures = try measure(trainLoss: finished.batches > 0 ? finished.lossSum / Double(finished.batches) : .nan)
            history.append(measures)
            if let log { for (name, value) in measures.metrics { try log.log(name, value, epoch: epoch, step: step) } }
        }
    }

    /// Throws `TrainingInterrupted` (after synchronizing the metric log) when an `Interruption` is
    /// pending; the caller saves ``checkpoint()`` and the run resumes exactly from it.
    public func stopIfRequested() throws {
        guard let signal = Interruption.pendingSignal else { return }
        try log?.synchronize()
        throw TrainingInterrupted(signal: signal, epoch: epoch, step: step, checkpointPath: nil)
    }

    /// One optimiser step on the samples at `rows`; returns the batch loss.
    private func trainStep(_ samples: SyntheticSamples, rows: [Int]) throws -> Double {
        let d = samples.dimension
        var inputs = [Float](); inputs.reserveCapacity(rows.count * d)
        for r in rows { inputs += samples.inputs[(r * d)..<((r + 1) * d)] }
        var x = Tensor(shape: [rows.count, d], scalars: inputs)
        let objective = RegressionObjective(trainee, targets: rows.map { samples.targets[$0] })
        if let attack = settings.adversarialTraining {
            x = try Attacks.pgd(objective, inputs: x, labels: [Int32](repeating: 0, count: rows.count), configuration: attack.pgd,
                                norm: attack.norm.perturbation, inputRange: nil, rng: &attackGenerator)
        }
        let model = trainee
        let (value, gradients) = try model.lossAndGradients { try objective.squaredError(try model(x)) }
        guard value.isFinite else { throw TrainingError.nonFiniteLoss(epoch: epoch, step: step, loss: value) }
        for (name, g) in gradients where !g.scalars.allSatisfy(\.isFinite) {
            throw TrainingError.nonFiniteGradient(epoch: epoch, step: step, parameter: name)
        }
        try optimizer.update(model, gradients: gradients)
        step += 1
        return Double(value)
    }

    /// The measures of the current model. Attacks draw from a generator derived from the seed and the
    /// epoch, so measuring never shifts training's randomness.
    public func measure(trainLoss: Double) throws -> RegressionEpochMeasures {
        var rng = Xoshiro256(seed: settings.seed &+ 0xe7a1 &+ UInt64(epoch))
        let noAttack = PGDConfiguration(epsilon: 0, stepSize: 0, steps: 0)
        var trainRisk: Double?, trainAdversarial: Double?
        if case .fixed(let samples) = data {
            if let attack = settings.adversarialTraining ?? settings.evaluationAttack {
                let report = try RegressionRobustness.evaluate(trainee, samples: samples, attack: attack.pgd, norm: attack.norm, rng: &rng)
                (trainRisk, trainAdversarial) = (report.cleanRisk, report.adversarialRisk)
            } else {
                trainRisk = try RegressionRobustness.evaluate(trainee, samples: samples, attack: noAttack, norm: .l2, rng: &rng).cleanRisk
            }
        }
        let testReport = try RegressionRobustness.evaluate(trainee, samples: test, attack: settings.evaluationAttack?.pgd ?? noAttack,
                                                           norm: settings.evaluationAttack?.norm ?? .l2, rng: &rng)
        let attacked = settings.evaluationAttack != nil
        return RegressionEpochMeasures(
            epoch: epoch, step: step, trainLoss: trainLoss, trainRisk: trainRisk, trainAdversarialRisk: trainAdversarial,
            testRisk: testReport.cleanRisk, testAdversarialRisk: attacked ? testReport.adversarialRisk : nil,
            testSignAccuracy: testReport.cleanSignAccuracy, testRobustSignAccuracy: attacked ? testReport.robustSignAccuracy : nil,
            inputGradientNorm: try RegressionRobustness.meanInputGradientNorm(trainee, samples: test),
            parameterDistance: try ParameterDistance.relative(trainee, from: initialParameters))
    }
}
