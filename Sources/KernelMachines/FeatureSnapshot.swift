import NTK

/// The eigen-features of a network's empirical NTK at one point of its training (beyond the paper,
/// which links its Sections 4 and 5 only in words): the kernel machine built on a fixed probe batch
/// with the NTK Θ_t of the network at that point, each of its top features measured on held-out data.
/// A run's snapshots, epoch by epoch, show whether robust features are learned early, and how standard
/// and adversarial training differ (see ``FeatureCharts/overTraining(_:attackIndex:title:)``).
public struct FeatureSnapshot: Sendable, Equatable {
    /// The epoch (0: at initialisation) the network was taken at.
    public let epoch: Int
    /// The optimiser step the network was taken at.
    public let step: Int
    /// λ_1 ≥ λ_2 ≥ … of the probe's Gram matrix Θ_t(X, X) (all N).
    public let eigenvalues: [Double]
    /// Usefulness and robustness of each evaluated feature on the held-out data.
    public let evaluations: [FeatureEvaluation]
    /// Clean held-out accuracy of the whole kernel predictor Σ_j f_j (nil when it is not defined).
    public let fullPredictorAccuracy: Double?
    /// The largest relative difference between the top eigenvalues here and those of the class mean of
    /// the kernel tracked during training at the same step (nil when not compared): a check that the
    /// features belong to the tracked kernel.
    public let trackedKernelAgreement: Double?

    /// A snapshot from its parts.
    public init(epoch: Int, step: Int, eigenvalues: [Double], evaluations: [FeatureEvaluation],
                fullPredictorAccuracy: Double?, trackedKernelAgreement: Double? = nil) {
        self.epoch = epoch
        self.step = step
        self.eigenvalues = eigenvalues
        self.evaluations = evaluations
        self.fullPredictorAccuracy = fullPredictorAccuracy
        self.trackedKernelAgreement = trackedKernelAgreement
    }

    /// The mean usefulness of the evaluated features.
    public var meanUsefulness: Double {
        evaluations.isEmpty ? .nan : evaluations.map(\.cleanAccuracy).reduce(0, +) / Double(evaluations.count)
    }

    /// The mean accuracy under attack `attackIndex` of the evaluated features that were attacked (NaN
    /// when none was).
    public func meanRobustness(attackIndex: Int = 0) -> Double {
        let values = evaluations.compactMap { $0.reports.indices.contains(attackIndex) ? $0.reports[attackIndex].robustAccuracy : nil }
        return values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count)
    }

    /// The class-mean Gram matrix (1/C) Σ_c K[(i,c),(j,c)] of a tracked kernel (a traced kernel Σ_c
    /// divided by C): the scalar kernel ``EmpiricalNTKKernel`` gives on the same inputs, `N × N` row-major.
    /// - Parameters:
    ///   - kernel: a kernel tracked during training (full or traced).
    ///   - classes: C, the network's outputs (a full kernel records it; a traced one does not).
    public static func classMeanGram(of kernel: KernelMatrix, classes: Int) -> [Double] {
        let scale = 1 / Double(max(classes, 1))
        guard kernel.isFull, let c = kernel.classCount, let n = kernel.sampleCount else {
            return kernel.values.map { Double($0) * scale }
        }
        var gram = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0..<n {
                var sum = 0.0
                for k in 0..<c { sum += Double(kernel.values[(i * c + k) * kernel.n + j * c + k]) }
                gram[i * n + j] = sum * scale
            }
        }
        return gram
    }
}
