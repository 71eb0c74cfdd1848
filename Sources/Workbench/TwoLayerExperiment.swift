import Datasets
import Kernels
import NN
import Training

/// One two-layer experiment as a value: the synthetic task, the network and its regime, the optimiser
/// and how it trains. Codable, so a run folder can store it and a resumed run rebuild the same
/// trainer; ``makeTrainer(log:)`` draws everything from the seeds, so equal experiments give equal runs.
public struct TwoLayerExperiment: Codable, Sendable, Equatable {
    /// Which teacher labels the task.
    public enum Teacher: Codable, Sendable, Equatable {
        /// y = β·x, β ~ N(0, I).
        case linear
        /// y = xᵀAx with A's eigenvalues `spectrum` (d of them) and random eigenvectors.
        case quadratic(spectrum: [Double])
        /// A random two-layer network of `width` units with `activation`.
        case network(width: Int, activation: TwoLayerActivation)
    }

    /// The input dimension d.
    public var dimension: Int
    /// How inputs are drawn.
    public var inputs: SyntheticInputDistribution
    /// The teacher.
    public var teacher: Teacher
    /// Gaussian noise on the targets.
    public var noiseStd: Double
    /// Probability of flipping a sign label.
    public var labelFlipProbability: Double
    /// Train on ±1 sign targets (a classification task) instead of the real targets.
    public var signTargets: Bool
    /// The size n of the fixed training set; nil trains on a fresh-sample stream.
    public var trainSize: Int?
    /// The size of the test set.
    public var testSize: Int
    /// The network's width m.
    public var width: Int
    /// Its activation.
    public var activation: TwoLayerActivation
    /// Its regime (trained layers, lazy or not, α, centring).
    public var regime: TwoLayerRegime
    /// SGD's learning rate.
    public var learningRate: Float
    /// SGD's momentum.
    public var momentum: Float
    /// How it trains and measures (epochs, batches, attacks, seed of the batch order and attacks).
    public var training: RegressionTrainingSettings
    /// Seeds the teacher and the data.
    public var dataSeed: UInt64
    /// Seeds the network.
    public var modelSeed: UInt64

    /// An experiment from its parts.
    public init(dimension: Int, inputs: SyntheticInputDistribution = .sphere, teacher: Teacher, noiseStd: Double = 0,
                labelFlipProbability: Double = 0, signTargets: Bool = false, trainSize: Int?, testSize: Int,
                width: Int, activation: TwoLayerActivation = .relu, regime: TwoLayerRegime, learningRate: Float,
                momentum: Float = 0, training: RegressionTrainingSettings, dataSeed: UInt64 = 0, modelSeed: UInt64 = 1) {
        self.dimension = dimension
        self.inputs = inputs
        self.teacher = teacher
        self.noiseStd = noiseStd
        self.labelFlipProbability = labelFlipProbability
        self.signTargets = signTargets
        self.trainSize = trainSize
        self.testSize = testSize
        self.width = width
        self.activation = activation
        self.regime = regime
        self.learningRate = learningRate
        self.momentum = momentum
        self.training = training
        self.dataSeed = dataSeed
        self.modelSeed = modelSeed
    }

    /// The synthetic task (its teacher drawn from the data seed).
    public func task() throws -> SyntheticTask {
        var rng = Xoshiro256(seed: dataSeed)
        let drawn: SyntheticTeacher
        switch teacher {
        case .linear: drawn = try SyntheticTeacher.randomLinear(dimension: dimension, rng: &rng)
        case .quadratic(let spectrum):
            guard spectrum.count == dimension else { throw SyntheticDataError.teacherDimension(teacher: spectrum.count, inputs: dimension) }
            drawn = try SyntheticTeacher.randomQuadratic(spectrum: spectrum, rng: &rng)
        case .network(let m, let sigma): drawn = try SyntheticTeacher.randomNetwork(dimension: dimension, width: m, activation: sigma, rng: &rng)
        }
        return try SyntheticTask(dimension: dimension, inputs: inputs, teacher: drawn, noiseStd: noiseStd,
                                 labelFlipProbability: labelFlipProbability)
    }

    /// Builds the model, data and trainer. Throws, naming the setting, for sizes below 1, an invalid
    /// regime, optimiser or training setting.
    public func makeTrainer(log: MetricsLog? = nil) throws -> (model: TwoLayerModel, trainer: RegressionTrainer) {
        if let n = trainSize, n < 1 { throw WorkbenchError.invalidSetting(name: "training set size", value: "\(n)", requirement: "at least 1") }
        guard testSize >= 1 else { throw WorkbenchError.invalidSetting(name: "test set size", value: "\(testSize)", requirement: "at least 1") }
        let task = try task()
        var dataRng = Xoshiro256(seed: dataSeed &+ 0xda7a)
        let test = relabel(task.sample(count: testSize, rng: &dataRng))
        let data: RegressionTrainingData = trainSize.map { .fixed(relabel(task.sample(count: $0, rng: &dataRng))) }
            ?? .online(SyntheticStream(task: task, generator: Xoshiro256(seed: dataSeed &+ 0x0411e)))
        var modelRng = Xoshiro256(seed: modelSeed)
        let model = try TwoLayerModel(inputs: dimension, width: width, activation: activation, regime: regime, rng: &modelRng)
        let trainer = try RegressionTrainer(network: model.network, trainee: model.trainee,
                                            optimizer: try SGD(learningRate: learningRate, momentum: momentum),
                                            data: data, test: test, settings: training, log: log, signTargets: signTargets)
        return (model, trainer)
    }

    private func relabel(_ samples: SyntheticSamples) -> SyntheticSamples { signTargets ? samples.withSignTargets : samples }
}
