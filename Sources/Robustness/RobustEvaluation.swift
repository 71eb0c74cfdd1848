import Autodiff
import Datasets
import Kernels
import NN

/// Clean and robust accuracy on the same examples, with a gradient-masking diagnostic.
public struct RobustnessReport: Sendable, Equatable {
    /// How many examples were attacked.
    public var examples: Int
    /// Accuracy on the clean examples.
    public var cleanAccuracy: Double
    /// Accuracy on their attacked versions.
    public var robustAccuracy: Double
    /// The mean loss (the one attacked, cross-entropy by default) on clean and on attacked inputs.
    public var cleanLoss: Double
    /// The mean loss on the attacked examples.
    public var adversarialLoss: Double
    /// Fraction of examples whose input gradient (at the clean input) is exactly zero. A large
    /// value means the attack cannot move and the robust accuracy is not to be trusted.
    public var zeroGradientFraction: Double
    /// Mean ℓ1 norm per example of the input gradient at the clean input.
    public var meanGradientNorm: Double

    /// A warning when the gradients look masked (zero or vanishing), else nil.
    public var gradientMaskingWarning: String? {
        if zeroGradientFraction > 0.05 {
            return String(format: "%.0f%% of examples have an exactly zero input gradient: the attack cannot move them, so robust accuracy is unreliable (gradient masking or dead units)", zeroGradientFraction * 100)
        }
        if meanGradientNorm < 1e-8 {
            return String(format: "input gradients vanish (mean ℓ1 norm %.2e): robust accuracy is unreliable", meanGradientNorm)
        }
        return nil
    }
}

/// Robust evaluation over a data set in batches.
public enum RobustEvaluation {
    /// Attacks `images` (in batches) through `loss` and reports clean and robust accuracy.
    public static func evaluate(_ model: Module, images: Tensor, labels: [Int32], attack: AttackKind,
                                loss: Loss = .crossEntropy, batchSize: Int = 500,
                                rng: inout Xoshiro256) throws -> RobustnessReport {
        try evaluate(ModuleObjective(model, loss: loss), images: images, labels: labels, attack: attack,
                     batchSize: batchSize, rng: &rng)
    }

    /// Attacks `images` (in batches) through any objective (a network's loss, a kernel predictor's) in
    /// the geometry of `norm`, and reports clean and robust accuracy with the objective's own loss.
    public static func evaluate(_ objective: AttackObjective, images: Tensor, labels: [Int32], attack: AttackKind,
                                norm: PerturbationNorm = LInfinity(), batchSize: Int = 500,
                                rng: inout Xoshiro256) throws -> RobustnessReport {
        try attackInBatches(objective, images: images, labels: labels, attack: attack, norm: norm, batchSize: batchSize,
                            keepExamples: false, rng: &rng).report
    }

    /// As `evaluate` on an objective, and also returns the attacked
    /// images (same shape as `images`), to be saved or tried on another model (a transfer attack).
    public static func evaluateKeepingExamples(_ objective: AttackObjective, images: Tensor, labels: [Int32], attack: AttackKind,
                                               norm: PerturbationNorm = LInfinity(), batchSize: Int = 500,
                                               rng: inout Xoshiro256) throws -> (report: RobustnessReport, adversarial: Tensor) {
        let (report, kept) = try attackInBatches(objective, images: images, labels: labels, attack: attack, norm: norm,
                                                 batchSize: batchSize, keepExamples: true, rng: &rng)
        return (report, Tensor(shape: images.shape, scalars: kept))
    }

    /// The objective's mean loss and accuracy on `images` as they are (no attack), in batches: how a
    /// model fares on examples crafted against another one.
    public static func score(_ objective: AttackObjective, images: Tensor, labels: [Int32],
                             batchSize: Int = 500) throws -> (loss: Double, accuracy: Double) {
        let n = labels.count
        guard n > 0 else { return (0, 0) }
        var loss = 0.0, accuracy = 0.0
        for (x, y) in batches(of: images, labels: labels, size: batchSize) {
            let r = try objective.lossAndAccuracy(at: x, labels: y)
            loss += Double(r.loss) * Double(y.count)
            accuracy += r.accuracy * Double(y.count)
        }
        return (loss / Double(n), accuracy / Double(n))
    }

    /// `images` and `labels` cut into consecutive batches of at most `size` examples.
    private static func batches(of images: Tensor, labels: [Int32], size: Int) -> [(Tensor, [Int32])] {
        let n = labels.count, imageSize = images.count / max(n, 1), step = max(size, 1)
        return stride(from: 0, to: n, by: step).map { start in
            let end = min(start + step, n)
            return (Tensor(shape: [end - start] + Array(images.shape.dropFirst()),
                           scalars: Array(images.scalars[(start * imageSize)..<(end * imageSize)])),
                    Array(labels[start..<end]))
        }
    }

    private static func attackInBatches(_ objective: AttackObjective, images: Tensor, labels: [Int32], attack: AttackKind,
                                        norm: PerturbationNorm, batchSize: Int, keepExamples: Bool,
                                        rng: inout Xoshiro256) throws -> (report: RobustnessReport, adversarial: [Float]) {
        let n = labels.count
        let imageSize = images.count / max(n, 1)
        var report = RobustnessReport(examples: n, cleanAccuracy: 0, robustAccuracy: 0, cleanLoss: 0,
                                      adversarialLoss: 0, zeroGradientFraction: 0, meanGradientNorm: 0)
        var kept: [Float] = []
        if keepExamples { kept.reserveCapacity(images.count) }
        guard n > 0 else { return (report, kept) }
        for (x, y) in batches(of: images, labels: labels, size: batchSize) {
            let b = y.count
            let anchored = try objective.anchored(at: x, labels: y)
            report.cleanAccuracy += try anchored.lossAndAccuracy(at: x, labels: y).accuracy * Double(b)
            let (cleanLoss, g) = try anchored.lossAndInputGradient(at: x, labels: y)
            report.cleanLoss += Double(cleanLoss) * Double(b)
            let gv = g.scalars
            for i in 0..<b {
                var l1 = 0.0
                for j in 0..<imageSize { l1 += Double(abs(gv[i * imageSize + j])) }
                // The mean loss divides by the batch: undo it to report per-example gradients.
                report.meanGradientNorm += l1 * Double(b)
                if l1 == 0 { report.zeroGradientFraction += 1 }
            }
            let adv = try attack.perturb(objective, inputs: x, labels: y, norm: norm, rng: &rng)
            let (advLoss, advAccuracy) = try anchored.lossAndAccuracy(at: adv, labels: y)
            report.robustAccuracy += advAccuracy * Double(b)
            report.adversarialLoss += Double(advLoss) * Double(b)
            if keepExamples { kept += adv.scalars }
        }
        let dn = Double(n)
        report.cleanAccuracy /= dn; report.robustAccuracy /= dn
        report.cleanLoss /= dn; report.adversarialLoss /= dn
        report.zeroGradientFraction /= dn; report.meanGradientNorm /= dn
        return (report, kept)
    }

    /// Convenience over a data set: its first `limit` examples.
    public static func evaluate(_ model: Module, on data: ImageDataset, limit: Int, attack: AttackKind,
                                loss: Loss = .crossEntropy, batchSize: Int = 500,
                                rng: inout Xoshiro256) throws -> RobustnessReport {
        let n = min(limit, data.count)
        let x = Tensor(shape: [n, data.channels, data.height, data.width],
                       scalars: Array(data.images[0..<(n * data.imageSize)]))
        return try evaluate(model, images: x, labels: Array(data.labels[0..<n]), attack: attack, loss: loss,
                            batchSize: batchSize, rng: &rng)
    }
}
