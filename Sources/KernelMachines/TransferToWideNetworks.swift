import Autodiff
import Kernels
import NN
import Robustness

/// Settings of one network in the transfer experiment of the paper's Appendix C.
public struct TransferSettings: Codable, Sendable, Equatable {
    /// m, the hidden width.
    public var width: Int
    /// The seed of the network's initialisation.
    public var seed: UInt64
    /// Full-batch gradient-descent steps (one per epoch).
    public var epochs: Int
    /// η, the step on ½‖F − Y‖² summed over the training set (the loss of ``GradientFlowSolution``).
    public var learningRate: Double
    /// ε of the ℓ∞ attacks (FGSM and PGD), on inputs in [0, 1].
    public var epsilon: Float
    /// PGD steps.
    public var pgdSteps: Int
    /// PGD step size α.
    public var pgdStepSize: Float
    /// Measure every this many epochs (and always at 0 and at the last): the probe's attacks cost about
    /// as much as an epoch of training.
    public var measurementInterval: Int

    /// The settings of one network.
    public init(width: Int, seed: UInt64, epochs: Int, learningRate: Double, epsilon: Float, pgdSteps: Int, pgdStepSize: Float,
                measurementInterval: Int = 1) {
        self.width = width
        self.seed = seed
        self.epochs = epochs
        self.learningRate = learningRate
        self.epsilon = epsilon
        self.pgdSteps = pgdSteps
        self.pgdStepSize = pgdStepSize
        self.measurementInterval = measurementInterval
    }

    /// The epochs that are measured: 0, every ``measurementInterval``-th, and the last.
    public var measuredEpochs: [Int] {
        (0...max(epochs, 0)).filter { $0 % max(measurementInterval, 1) == 0 || $0 == epochs }
    }

    /// Checks every setting.
    /// - Throws: ``KernelPredictorError/invalidSetting(name:value:requirement:)`` naming the first bad one.
    public func validate() throws {
        func require(_ ok: Bool, _ name: String, _ value: Double, _ requirement: String) throws {
            guard ok else { throw KernelPredictorError.invalidSetting(name: name, value: value, requirement: requirement) }
        }
        try require(width >= 1, "width", Double(width), "at least 1")
        try require(epochs >= 0, "epochs", Double(epochs), "at least 0")
        try require(learningRate.isFinite && learningRate > 0 && Float(learningRate) > 0, "learning rate", learningRate,
                    "finite and positive (as a Float)")
        try require(epsilon.isFinite && epsilon >= 0, "epsilon", Double(epsilon), "finite and not negative")
        try require(pgdSteps >= 0, "PGD steps", Double(pgdSteps), "at least 0")
        try require(pgdStepSize.isFinite && pgdStepSize >= 0, "PGD step size", Double(pgdStepSize), "finite and not negative")
        try require(measurementInterval >= 1, "measurement interval", Double(measurementInterval), "at least 1")
    }
}

/// What one epoch of the transfer experiment measured on the probe (the network after `epoch` steps,
/// the kernel predictor at the matching time).
public struct TransferEpoch: Codable, Sendable, Equatable {
    /// Steps taken.
    public var epoch: Int
    /// The gradient-flow time of the matched kernel predictor: `epoch`, with the flow's η equal to the
    /// network's step (η·t = epoch × learning rate).
    public var kernelTime: Double
    /// ½‖F − Y‖² / N on the training set, before this epoch's step would be taken.
    public var trainingLoss: Double
    /// The network's accuracy on the training set.
    public var trainingAccuracy: Double
    /// The network's clean accuracy on the probe.
    public var networkAccuracy: Double
    /// The kernel predictor's clean accuracy on the probe.
    public var kernelAccuracy: Double
    /// The mean over probe samples of the cosine similarity between the input gradients of the binary
    /// cross-entropy of the network and of the kernel predictor; nil when no sample has both gradients
    /// non-zero (at epoch 0 both functions are identically 0).
    public var gradientSimilarity: Double?
    /// √(mean (f_net − f_t)²) over the probe.
    public var outputGap: Double
    /// √(mean f_t²) over the probe: the scale `outputGap` is to be read against.
    public var kernelOutputScale: Double
    /// The network's accuracy under its own FGSM.
    public var ownFGSMAccuracy: Double
    /// The network's accuracy under its own PGD.
    public var ownPGDAccuracy: Double
    /// The network's accuracy on FGSM examples crafted against the kernel predictor.
    public var kernelFGSMAccuracy: Double
    /// The network's accuracy on PGD examples crafted against the kernel predictor.
    public var kernelPGDAccuracy: Double
    /// The kernel predictor's accuracy on those PGD examples (the attack's white-box value on the kernel).
    public var kernelPGDOnKernelAccuracy: Double
}

/// The transfer experiment of the paper's Appendix C: wide ``CentredTwoLayerNetwork``s trained by
/// full-batch gradient descent on ½‖F − Y‖² (±1 targets, binary task), compared every epoch on a fixed
/// probe with the gradient-flow predictor of ``TwoLayerFrozenOutputKernel`` matched in time: the cosine
/// similarity of their loss input-gradients, and the network's accuracy under its own FGSM/PGD against
/// its accuracy under the same attacks crafted on the kernel predictor.
///
/// Labels are 0 (target −1) and 1 (target +1); inputs are flattened `[N, d]` in [0, 1]. The kernel and
/// its eigen-decomposition do not depend on the network, so one experiment serves every width and seed.
public struct TransferExperiment {
    /// The gradient flow of the kernel on the training set.
    public let flow: GradientFlowSolution
    /// The training inputs, `[N, d]`.
    public let trainingInputs: Tensor
    /// The training labels, 0 or 1.
    public let trainingLabels: [Int32]
    /// The probe inputs, `[P, d]`.
    public let probeInputs: Tensor
    /// The probe labels, 0 or 1.
    public let probeLabels: [Int32]
    /// The binary task of the labels: 0 ↦ −1, 1 ↦ +1.
    public static let task = KernelTask.binary(negative: 0, positive: 1)

    /// Prepares the kernel flow for networks trained with step `learningRate`.
    /// - Throws: ``KernelMachineError/incompatibleShapes(first:second:)`` when the probe's features are not
    ///   the training set's; the errors of ``KernelRegression/gradientFlow(kernel:inputs:labels:task:ridge:learningRate:decomposition:memoryBudgetBytes:)``
    ///   (labels other than 0 and 1, label counts, memory budget, learning rate).
    public init(trainingInputs: Tensor, trainingLabels: [Int32], probeInputs: Tensor, probeLabels: [Int32],
                learningRate: Double, memoryBudgetBytes: Int = 4 << 30) throws {
        try KernelInputs.checkBatch(probeInputs, "probe")
        guard trainingInputs.rank == 2, probeInputs.rank == 2, trainingInputs.shape[1] == probeInputs.shape[1] else {
            throw KernelMachineError.incompatibleShapes(first: trainingInputs.shape, second: probeInputs.shape)
        }
        guard probeLabels.count == probeInputs.shape[0] else {
            throw KernelPredictorError.labelCount(labels: probeLabels.count, samples: probeInputs.shape[0])
        }
        try Self.task.checkLabels(probeLabels)
        // The flow's η is the Float step the network takes, so epoch k is exactly kernel time k.
        flow = try KernelRegression.gradientFlow(kernel: TwoLayerFrozenOutputKernel(), inputs: trainingInputs,
                                                 labels: trainingLabels, task: Self.task,
                                                 learningRate: Double(Float(learningRate)),
                                                 memoryBudgetBytes: memoryBudgetBytes)
        self.trainingInputs = trainingInputs.detached
        self.trainingLabels = trainingLabels
        self.probeInputs = probeInputs.detached
        self.probeLabels = probeLabels
    }

    /// Trains one network with `settings` and measures it at ``TransferSettings/measuredEpochs``, handing each record
    /// to `onEpoch` as soon as it is measured (for streaming logs).
    /// - Throws: ``KernelPredictorError/invalidSetting(name:value:requirement:)`` for bad settings or a
    ///   learning rate other than the flow's; the errors of the network, kernel and attacks; whatever
    ///   `onEpoch` throws.
    @discardableResult
    public func run(_ settings: TransferSettings, onEpoch: (TransferEpoch, CentredTwoLayerNetwork) throws -> Void = { _, _ in })
        throws -> [TransferEpoch] {
        try settings.validate()
        let rate = Float(settings.learningRate)
        guard Double(rate) == flow.learningRate else {
            throw KernelPredictorError.invalidSetting(name: "learning rate", value: settings.learningRate,
                                                      requirement: "the kernel flow's \(flow.learningRate)")
        }
        var rng = Xoshiro256(seed: settings.seed)
        let network = try CentredTwoLayerNetwork(inputs: trainingInputs.shape[1], width: settings.width, outputs: 1, rng: &rng)
        let targets = try Tensor(shape: [trainingLabels.count, 1],
                                 scalars: Self.task.targets(for: trainingLabels).values.map { Float($0) })
        let preactivations = try network.initialPreactivations(trainingInputs)
        let optimiser = try SGD(learningRate: rate)
        var records: [TransferEpoch] = []
        for epoch in 0...settings.epochs {
            var outputs = targets
            let (loss, gradients) = try network.lossAndGradients {
                outputs = try network.centred(trainingInputs, initialPreactivations: preactivations)
                return try (outputs - targets).square().sum().scaled(by: 0.5)
            }
            if epoch % settings.measurementInterval == 0 || epoch == settings.epochs {
                let record = try measure(network, epoch: epoch, settings: settings,
                                         trainingLoss: Double(loss) / Double(trainingLabels.count),
                                         trainingAccuracy: accuracy(logits: outputs.detached, labels: trainingLabels))
                records.append(record)
                try onEpoch(record, network)
            }
            if epoch < settings.epochs { try optimiser.update(network, gradients: gradients) }
        }
        return records
    }

    /// The probe measurements of `network` against the kernel predictor at time `epoch`.
    func measure(_ network: CentredTwoLayerNetwork, epoch: Int, settings: TransferSettings,
                 trainingLoss: Double, trainingAccuracy: Double) throws -> TransferEpoch {
        let predictor = try flow.predictor(atTime: Double(epoch))
        let kernel = try KernelAttackObjective(predictor: predictor, loss: .binaryCrossEntropy)
        let net = ModuleObjective(network, loss: .binaryCrossEntropy)
        let x = probeInputs, y = probeLabels
        let netOutputs = try network(x).scalars
        let kernelOutputs = try predictor.outputs(x).values
        var gap = 0.0, scale = 0.0
        for (a, b) in zip(netOutputs, kernelOutputs) {
            gap += (Double(a) - b) * (Double(a) - b)
            scale += b * b
        }
        let count = Double(max(y.count, 1))
        let similarity = Self.meanCosineSimilarity(try net.lossAndInputGradient(at: x, labels: y).gradient,
                                                   try kernel.lossAndInputGradient(at: x, labels: y).gradient)
        let pgd = PGDConfiguration(epsilon: settings.epsilon, stepSize: settings.pgdStepSize, steps: settings.pgdSteps)
        var rng = Xoshiro256(seed: settings.seed)  // unused: PGD starts at δ = 0
        let ownFGSM = try Attacks.fgsm(net, inputs: x, labels: y, epsilon: settings.epsilon)
        let ownPGD = try Attacks.pgd(net, inputs: x, labels: y, configuration: pgd, rng: &rng)
        let kernelFGSM = try Attacks.fgsm(kernel, inputs: x, labels: y, epsilon: settings.epsilon)
        let kernelPGD = try Attacks.pgd(kernel, inputs: x, labels: y, configuration: pgd, rng: &rng)
        return TransferEpoch(
            epoch: epoch, kernelTime: Double(epoch), trainingLoss: trainingLoss, trainingAccuracy: trainingAccuracy,
            networkAccuracy: try net.lossAndAccuracy(at: x, labels: y).accuracy,
            kernelAccuracy: try predictor.accuracy(x, labels: y),
            gradientSimilarity: similarity,
            outputGap: (gap / count).squareRoot(), kernelOutputScale: (scale / count).squareRoot(),
            ownFGSMAccuracy: try net.lossAndAccuracy(at: ownFGSM, labels: y).accuracy,
            ownPGDAccuracy: try net.lossAndAccuracy(at: ownPGD, labels: y).accuracy,
            kernelFGSMAccuracy: try net.lossAndAccuracy(at: kernelFGSM, labels: y).accuracy,
            kernelPGDAccuracy: try net.lossAndAccuracy(at: kernelPGD, labels: y).accuracy,
            kernelPGDOnKernelAccuracy: try predictor.accuracy(kernelPGD, labels: y))
    }

    /// The mean over samples (rows) of cos(a_i, b_i), skipping samples where either row is zero; nil
    /// when every sample is skipped.
    public static func meanCosineSimilarity(_ a: Tensor, _ b: Tensor) -> Double? {
        guard a.shape == b.shape, a.rank >= 1, a.shape[0] > 0 else { return nil }
        let n = a.shape[0], per = a.count / n
        let u = a.scalars, v = b.scalars
        var total = 0.0, used = 0
        for i in 0..<n {
            var dot = 0.0, uu = 0.0, vv = 0.0
            for j in (i * per)..<((i + 1) * per) {
                let p = Double(u[j]), q = Double(v[j])
                dot += p * q; uu += p * p; vv += q * q
            }
            guard uu > 0, vv > 0 else { continue }
            total += dot / (uu * vv).squareRoot()
            used += 1
        }
        return used == 0 ? nil : total / Double(used)
    }
}
