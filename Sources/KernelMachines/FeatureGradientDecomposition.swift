import Autodiff

/// The input gradient of the full predictor's loss split over eigen-features (the paper's Eq. 10):
/// with f = Σ_j f_j and G = ∂L/∂f at x,
///
///     ∇_x L(f(x)) = Σ_j G · ∇_x f_j(x),
///
/// so the contribution of feature j is the gradient of ⟨G, f_j(x)⟩ with G held at the full predictor's
/// value. The contributions of all features sum to the full gradient; their shares show which features
/// an attack on the full predictor follows.
public struct FeatureGradientDecomposition {
    /// The features decomposed (1-based), in the order requested.
    public let features: [Int]
    /// G · ∇_x f_j(x) for each feature, with the shape of x (each sample's row: that sample's part).
    public let contributions: [Tensor]
    /// ∇_x L(f(x)) of the full predictor (the mean loss over the batch, as the attacks climb it).
    public let fullGradient: Tensor
    /// The full predictor's mean loss at x.
    public let loss: Double
    /// For each feature, the mean over samples of ⟨g_j, g⟩ / ‖g‖² (g the sample's full gradient, g_j
    /// feature j's part): how much of the gradient points along feature j. Over all features the shares
    /// sum to 1. Samples with a zero gradient are left out.
    public let gradientShares: [Double]
    /// For each feature, the mean over samples of ⟨g_j, sign g⟩ / ‖g‖₁: the share of the first-order
    /// loss increase of an FGSM step on the full predictor that feature j provides (sums to 1 over all
    /// features). Samples with a zero gradient are left out.
    public let fgsmShares: [Double]
}

extension EigenFeatures {
    /// The per-feature decomposition of the full predictor's input gradient at a batch x (Eq. 10).
    /// - Parameters:
    ///   - x: inputs with the training inputs' per-sample shape.
    ///   - labels: their labels (ignored beyond their count by label-free losses).
    ///   - features: the features to decompose into; all of them (``all``) for a complete decomposition.
    ///   - loss: the full predictor's attacked loss; nil: the task's cross-entropy. A label-free loss is
    ///     anchored at x, as the attacks do.
    /// - Throws: ``EigenFeatureError`` for bad feature lists or eigenvalues that cannot be divided by;
    ///   ``KernelPredictorError`` for labels or a loss that do not fit, or features from a top-K
    ///   decomposition (``KernelPredictorError/incompleteDecomposition(computed:samples:)``: the full
    ///   predictor is needed); ``KernelMachineError`` for inputs of the wrong shape; the kernel's errors.
    public func gradientDecomposition<Features: Sequence<Int>>(at x: Tensor, labels: [Int32], features: Features,
                                                               loss: KernelAttackLoss? = nil) throws -> FeatureGradientDecomposition {
        let list = try checkedFeatures(features)
        let full = try fullPredictor()
        // Evaluated at x itself, an un-anchored label-free loss takes its references from x: anchored at x.
        let objective = try KernelAttackObjective(predictor: full, loss: loss ?? .crossEntropy(for: task))
        let (value, cotangent) = try objective.evaluate(at: x, labels: labels, outputs: try full.outputs(x))
        let gradient = try full.outputsInputGradient(x, cotangent: cotangent)
        let contributions = try list.map { try predictor(feature: $0).outputsInputGradient(x, cotangent: cotangent) }

        let n = x.shape.first ?? 0, per = n > 0 ? x.count / n : 0
        let g = gradient.scalars
        var gradientShares = [Double](repeating: 0, count: list.count)
        var fgsmShares = [Double](repeating: 0, count: list.count)
        var counted = 0
        for i in 0..<n {
            let row = (i * per)..<((i + 1) * per)
            let squared = row.reduce(0.0) { $0 + Double(g[$1]) * Double(g[$1]) }
            let l1 = row.reduce(0.0) { $0 + abs(Double(g[$1])) }
            guard squared > 0 else { continue }
            counted += 1
            for (k, contribution) in contributions.enumerated() {
                let c = contribution.scalars
                var along = 0.0, signed = 0.0
                for p in row {
                    along += Double(c[p]) * Double(g[p])
                    signed += g[p] > 0 ? Double(c[p]) : (g[p] < 0 ? -Double(c[p]) : 0)
                }
                gradientShares[k] += along / squared
                fgsmShares[k] += signed / l1
            }
        }
        let scale = counted > 0 ? 1 / Double(counted) : 0
        return FeatureGradientDecomposition(features: list, contributions: contributions, fullGradient: gradient,
                                            loss: value, gradientShares: gradientShares.map { $0 * scale },
                                            fgsmShares: fgsmShares.map { $0 * scale })
    }
}
