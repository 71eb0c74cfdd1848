import Kernels

/// A synthetic regression (or sign-classification) task: inputs in dimension d from a distribution,
/// targets from a teacher plus label noise. Samples are drawn from an explicit generator, so a seed fixes
/// a training set and ``SyntheticStream`` gives a resumable stream of fresh samples.
///
/// ```swift
/// var rng = Xoshiro256(seed: 1)
/// let teacher = try SyntheticTeacher.randomQuadratic(spectrum: Array(repeating: 1, count: 100), rng: &rng)
/// let task = try SyntheticTask(dimension: 100, inputs: .sphere, teacher: teacher, noiseStd: 0.1)
/// let train = task.sample(count: 1000, rng: &rng)
/// ```
public struct SyntheticTask: Sendable, Equatable {
    /// The input dimension d.
    public let dimension: Int
    /// How inputs are drawn.
    public let inputs: SyntheticInputDistribution
    /// The function that gives the clean targets.
    public let teacher: SyntheticTeacher
    /// The standard deviation of Gaussian noise added to each real target.
    public let noiseStd: Double
    /// The probability that a sign label (``SyntheticSamples/labels``) is flipped.
    public let labelFlipProbability: Double

    /// A task in `dimension` whose teacher must read that dimension; noise levels must be finite,
    /// `noiseStd ≥ 0` and the flip probability in [0, 1].
    public init(dimension: Int, inputs: SyntheticInputDistribution, teacher: SyntheticTeacher,
                noiseStd: Double = 0, labelFlipProbability: Double = 0) throws {
        guard dimension >= 1 else {
            throw SyntheticDataError.invalidSetting(name: "input dimension", value: "\(dimension)", requirement: "at least 1")
        }
        guard teacher.dimension == dimension else { throw SyntheticDataError.teacherDimension(teacher: teacher.dimension, inputs: dimension) }
        guard noiseStd.isFinite, noiseStd >= 0 else {
            throw SyntheticDataError.invalidSetting(name: "target noise standard deviation", value: "\(noiseStd)", requirement: "finite and ≥ 0")
        }
        guard labelFlipProbability.isFinite, (0...1).contains(labelFlipProbability) else {
            throw SyntheticDataError.invalidSetting(name: "label flip probability", value: "\(labelFlipProbability)", requirement: "in [0, 1]")
        }
        self.dimension = dimension
        self.inputs = inputs
        self.teacher = teacher
        self.noiseStd = noiseStd
        self.labelFlipProbability = labelFlipProbability
    }

    /// `count` fresh samples drawn from `rng`. Each sample takes its input, then its noise, then its
    /// label flip from the generator, so a stream drawn in pieces equals one drawn at once.
    public func sample(count: Int, rng: inout Xoshiro256) -> SyntheticSamples {
        let n = max(count, 0), d = dimension
        var inputValues = [Float](repeating: 0, count: n * d)
        var targets = [Float](repeating: 0, count: n), clean = [Float](repeating: 0, count: n)
        var labels = [Int32](repeating: 0, count: n)
        var x = [Double](repeating: 0, count: d)
        for i in 0..<n {
            inputs.draw(into: &x, rng: &rng)
            // The stored Float input is what the network sees: the teacher reads the same rounded values.
            for j in 0..<d { inputValues[i * d + j] = Float(x[j]); x[j] = Double(inputValues[i * d + j]) }
            let y = teacher(x)
            let noise = noiseStd > 0 ? noiseStd * rng.nextNormal() : 0
            let flip = labelFlipProbability > 0 && rng.nextUniformDouble() < labelFlipProbability
            clean[i] = Float(y)
            targets[i] = Float(y + noise)
            labels[i] = (y > 0) != flip ? 1 : 0
        }
        return SyntheticSamples(dimension: d, inputs: inputValues, targets: targets, cleanTargets: clean, labels: labels, checked: ())
    }
}

/// Samples of a synthetic task: inputs [n × d] (row-major), real targets with and without noise, and
/// sign labels (1 where the clean target is positive, 0 otherwise, after any flips).
public struct SyntheticSamples: Sendable, Equatable {
    /// d.
    public let dimension: Int
    /// n × d input values, row-major.
    public let inputs: [Float]
    /// Noisy real targets (n).
    public let targets: [Float]
    /// The teacher's targets before noise (n).
    public let cleanTargets: [Float]
    /// Sign labels (n values in {0, 1}).
    public let labels: [Int32]

    /// The number of samples n.
    public var count: Int { targets.count }

    /// Samples whose sizes the caller has already made consistent.
    init(dimension: Int, inputs: [Float], targets: [Float], cleanTargets: [Float], labels: [Int32], checked: Void) {
        self.dimension = dimension
        self.inputs = inputs
        self.targets = targets
        self.cleanTargets = cleanTargets
        self.labels = labels
    }

    /// The targets as ±1 (label 0 → −1, 1 → +1): regression targets of the sign-classification task.
    public var signedTargets: [Float] { labels.map { $0 == 1 ? 1 : -1 } }

    /// The same samples with the ±1 sign labels as their targets (the regression form of the
    /// sign-classification task).
    public var withSignTargets: SyntheticSamples {
        SyntheticSamples(dimension: dimension, inputs: inputs, targets: signedTargets, cleanTargets: cleanTargets, labels: labels, checked: ())
    }

    /// The samples as a two-class image data set (each input a 1 × 1 × d image, sign labels), for
    /// code written against ``ImageDataset``. Its values are not pixels in [0, 1].
    public func classificationDataset(name: String) -> ImageDataset {
        ImageDataset(name: name, classNames: ["negative", "positive"], channels: 1, height: 1, width: dimension,
                     images: inputs, labels: labels)
    }
}

extension SyntheticSamples {
    /// Samples given directly (e.g. a hand-made test case); the sizes must fit `dimension` and one
    /// another, and every label must be 0 or 1.
    public init(dimension: Int, inputs: [Float], targets: [Float], cleanTargets: [Float], labels: [Int32]) throws {
        guard dimension >= 1 else { throw SyntheticDataError.invalidSetting(name: "input dimension", value: "\(dimension)", requirement: "at least 1") }
        let n = targets.count
        guard inputs.count == n * dimension, cleanTargets.count == n, labels.count == n else {
            throw SyntheticDataError.invalidSetting(name: "sample sizes", value: "\(inputs.count) input values, \(n) targets, \(cleanTargets.count) clean targets, \(labels.count) labels",
                                                    requirement: "n × d input values and n of each other (d = \(dimension))")
        }
        if let bad = labels.first(where: { $0 != 0 && $0 != 1 }) {
            throw SyntheticDataError.invalidSetting(name: "sign label", value: "\(bad)", requirement: "0 or 1")
        }
        self.init(dimension: dimension, inputs: inputs, targets: targets, cleanTargets: cleanTargets, labels: labels, checked: ())
    }
}
