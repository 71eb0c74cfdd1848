import Foundation

/// The loss an attack on a kernel predictor climbs, as a function of the predictor's outputs s (one row
/// per sample; ``KernelAttackObjective`` averages it over the batch).
///
/// The paper's attack is FGSM/PGD on the cross-entropy of the kernel predictions: binary cross-entropy
/// on ±1 targets for a binary predictor (the reference notebook's), softmax cross-entropy for C classes.
/// PAPER.md does not keep the definitions of Appendix B.2's alternatives; the ones below are ours:
///
/// - Label-free losses (``firstOrderTaylor``, ``maxOfK(_:)``, ``sumOfK(_:)``) do not read the test labels.
///   They push away from the predictor's own prediction ĉ on the clean input, and are linear in the
///   outputs, so every step follows the first-order Taylor model of the output change (no saturation
///   as with cross-entropy). The competitors K_k are the k classes ranked just below ĉ on the clean input.
///   ĉ and K_k are fixed when the objective is anchored at the clean batch (the attacks do that).
/// - ``margin(confidence:)`` is a Carlini–Wagner-style margin with the test labels.
///
/// For a binary predictor (one output s, ŷ = ±1 the sign of the clean prediction, y = ±1 the label's
/// target), the label-free losses all reduce to −ŷ·s (k must be 1) and the margin to min(−y·s, κ).
public enum KernelAttackLoss: Sendable, Equatable, CustomStringConvertible {
    /// log(1 + e^{−y·s}) with y = ±1: binary predictors only.
    case binaryCrossEntropy
    /// log Σ_c e^{s_c} − s_y: multiclass predictors only (never the binary loss on one-hot targets).
    case softmaxCrossEntropy
    /// Label-free: mean_{c ≠ ĉ} s_c − s_ĉ (binary: −ŷ·s), the first-order Taylor attack without labels.
    case firstOrderTaylor
    /// Label-free: max_{c ∈ K_k} s_c − s_ĉ, the strongest of the k runner-up classes against ĉ.
    case maxOfK(Int)
    /// Label-free: Σ_{c ∈ K_k} (s_c − s_ĉ), all k runner-up classes together against ĉ.
    case sumOfK(Int)
    /// With labels: min(max_{c ≠ y} s_c − s_y, κ), which stops rewarding an example once its margin reaches
    /// κ (`.infinity`: never).
    case margin(confidence: Double)

    /// The cross-entropy the paper attacks: binary for a binary task, softmax for a multiclass one.
    public static func crossEntropy(for task: KernelTask) -> KernelAttackLoss {
        switch task {
        case .binary: return .binaryCrossEntropy
        case .multiclass: return .softmaxCrossEntropy
        }
    }

    /// False for the label-free losses, which ignore the labels they are given.
    public var usesTestLabels: Bool {
        switch self {
        case .binaryCrossEntropy, .softmaxCrossEntropy, .margin: return true
        case .firstOrderTaylor, .maxOfK, .sumOfK: return false
        }
    }

    /// "binary cross-entropy", "max-of-3", ….
    public var description: String {
        switch self {
        case .binaryCrossEntropy: return "binary cross-entropy"
        case .softmaxCrossEntropy: return "softmax cross-entropy"
        case .firstOrderTaylor: return "first-order Taylor (label-free)"
        case .maxOfK(let k): return "max-of-\(k) (label-free)"
        case .sumOfK(let k): return "sum-of-\(k) (label-free)"
        case .margin(let kappa): return "margin (confidence \(kappa))"
        }
    }

    /// Checks that the loss applies to `task`.
    /// - Throws: ``KernelPredictorError/lossDoesNotFitTask(loss:task:reason:)``,
    ///   ``KernelPredictorError/competitorCount(loss:k:allowed:)``, or an invalid confidence.
    public func check(for task: KernelTask) throws {
        try task.validate()
        let competitors = max(task.outputs - 1, 1)
        switch (self, task) {
        case (.binaryCrossEntropy, .multiclass):
            throw KernelPredictorError.lossDoesNotFitTask(loss: description, task: task.description,
                                                          reason: "it needs ±1 targets and one output; use softmax cross-entropy for C classes")
        case (.softmaxCrossEntropy, .binary):
            throw KernelPredictorError.lossDoesNotFitTask(loss: description, task: task.description,
                                                          reason: "a ±1 predictor has one output; use binary cross-entropy")
        case (.maxOfK(let k), _), (.sumOfK(let k), _):
            guard (1...competitors).contains(k) else {
                throw KernelPredictorError.competitorCount(loss: description, k: k, allowed: 1...competitors)
            }
        case (.margin(let kappa), _):
            guard kappa >= 0 else {
                throw KernelPredictorError.invalidSetting(name: "margin confidence", value: kappa, requirement: "at least 0 (or infinity)")
            }
        default: break
        }
    }

    /// The k runner-up count a label-free loss needs (all other classes for the Taylor loss).
    func competitorCount(outputs: Int) -> Int {
        switch self {
        case .maxOfK(let k), .sumOfK(let k): return k
        default: return max(outputs - 1, 1)
        }
    }

    /// The loss of one row of outputs `s` and its gradient with respect to `s` (written into `ds`).
    /// `reference` is the label's output (label-aware) or the clean prediction (label-free); `sign` the
    /// matching ±1 of a binary task; `competitors` the clean runner-ups of a label-free loss.
    /// - Throws: ``KernelPredictorError/lossDoesNotFitTask(loss:task:reason:)`` for a cross-entropy that
    ///   does not match the number of outputs (``check(for:)`` refuses those first).
    func value(_ s: ArraySlice<Double>, reference r: Int, sign y: Double, competitors: [Int],
               gradient ds: inout [Double]) throws -> Double {
        let o = s.count, base = s.startIndex
        for c in 0..<o { ds[c] = 0 }
        if o == 1 {
            let z = s[base]
            switch self {
            case .binaryCrossEntropy:
                // log(1 + e^{−yz}) and its slope −y·σ(−yz), both stable for either sign of yz.
                let t = -y * z
                ds[0] = -y * (t >= 0 ? 1 / (1 + exp(-t)) : exp(t) / (1 + exp(t)))
                return t > 0 ? t + log1p(exp(-t)) : log1p(exp(t))
            case .margin(let kappa):
                let m = -y * z
                if m < kappa { ds[0] = -y; return m }
                return kappa
            case .softmaxCrossEntropy:
                throw KernelPredictorError.lossDoesNotFitTask(loss: description, task: "one-output",
                                                              reason: "a ±1 predictor has one output; use binary cross-entropy")
            case .firstOrderTaylor, .maxOfK, .sumOfK:
                ds[0] = -y
                return -y * z
            }
        }
        switch self {
        case .binaryCrossEntropy:
            throw KernelPredictorError.lossDoesNotFitTask(loss: description, task: "\(o)-output",
                                                          reason: "it needs ±1 targets and one output; use softmax cross-entropy for C classes")
        case .softmaxCrossEntropy:
            let top = s.max() ?? 0
            var sum = 0.0
            for c in 0..<o { sum += exp(s[base + c] - top) }
            for c in 0..<o { ds[c] = exp(s[base + c] - top) / sum }
            ds[r] -= 1
            return top + log(sum) - s[base + r]
        case .margin(let kappa):
            var best = r == 0 ? 1 : 0
            for c in 0..<o where c != r && s[base + c] > s[base + best] { best = c }
            let m = s[base + best] - s[base + r]
            guard m < kappa else { return kappa }
            ds[best] = 1
            ds[r] = -1
            return m
        case .maxOfK:
            var best = competitors[0]
            for c in competitors where s[base + c] > s[base + best] { best = c }
            ds[best] = 1
            ds[r] = -1
            return s[base + best] - s[base + r]
        case .sumOfK, .firstOrderTaylor:
            let weight = self == .firstOrderTaylor ? 1 / Double(competitors.count) : 1
            var total = 0.0
            for c in competitors {
                ds[c] += weight
                total += weight * s[base + c]
            }
            ds[r] -= weight * Double(competitors.count)
            return total - weight * Double(competitors.count) * s[base + r]
        }
    }
}
