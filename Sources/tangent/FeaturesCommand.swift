import ArgumentParser
import Foundation
import Tangent

/// `tangent features evaluate|select|compare`: the NTK eigen-features of a kernel machine (the paper's
/// Section 4 and Appendix D.3).
struct FeaturesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "features",
        abstract: "Split a kernel predictor into its NTK eigen-features f_j(x) = (1/λ_j) Θ(x, X) v_j (v_jᵀY) and measure, picture, select and compare them.",
        discussion: """
        Features are numbered from 1 (the largest eigenvalue of Θ(X, X) + λI), as in the paper's text; the \
        reference notebook numbers eigenvectors from 0, so its eigenvector j is feature j + 1 here. The data, \
        kernel and attack options are those of `tangent kernel attack`.
        """,
        subcommands: [FeaturesEvaluateCommand.self, FeaturesSelectCommand.self, FeaturesCompareCommand.self,
                     FeaturesDynamicsCommand.self])
}

/// Features requested of a kernel machine whose eigenvalues are within rounding of zero (or below):
/// their t → ∞ gain 1/λ_j is not defined.
struct ZeroEigenvalueFeatures: Error, CustomStringConvertible {
    /// The option that requested them.
    let option: String
    /// Each feature with its eigenvalue.
    let features: [(feature: Int, eigenvalue: Double)]
    /// The rounding threshold N·ε·λ₁.
    let threshold: Double

    var description: String {
        let list = features.prefix(10).map { String(format: "%d (λ = %.3g)", $0.feature, $0.eigenvalue) }.joined(separator: ", ")
        let more = features.count > 10 ? " and \(features.count - 10) more" : ""
        let one = features.count == 1
        return "\(option): feature\(one ? "" : "s") \(list)\(more) "
            + String(format: "ha%@ an eigenvalue at most the rounding threshold %.3g", one ? "s" : "ve", threshold)
            + " (the Gram matrix is singular: repeated or linearly dependent training images); "
            + (one ? "its t → ∞ feature (1/λ) Θ(x, X) v (vᵀY) is" : "their t → ∞ features (1/λ) Θ(x, X) v (vᵀY) are")
            + " not defined. Leave such features out or add --ridge."
    }
}

/// The steps the `tangent features` subcommands share.
enum FeatureRuns {
    /// Decomposes the problem's Gram matrix (completely, or its top eigenpairs only) and prints how long
    /// it took and the top eigenvalues.
    static func decompose(_ problem: KernelProblem, name: String = "kernel",
                          decomposition: GramDecomposition = .complete) throws -> (features: EigenFeatures, seconds: Double) {
        let (features, seconds) = try problem.decompose(decomposition)
        let top = features.eigenvalues.prefix(3).map { String(format: "%.4g", $0) }.joined(separator: ", ")
        if let report = features.solution.blockKrylovReport, !features.isComplete {
            print(String(format: "%@: Gram matrix and its top %d eigenpairs in %.2f s (block Krylov on the %d×%d matrix: %.2f s, %d cycle%@, %d vectors multiplied, largest residual ‖Θv − λv‖/λ %.2g); λ₁, λ₂, λ₃ = %@; λ_%d = %.4g",
                         name, features.computedCount, seconds, features.count, features.count, report.seconds, report.cycles,
                         report.cycles == 1 ? "" : "s", report.productColumns,
                         report.largestRelativeResidual(values: features.eigenvalues), top, features.computedCount,
                         features.eigenvalues.last ?? .nan))
        } else {
            print(String(format: "%@: eigen-decomposition of the %d×%d Gram matrix in %.2f s; λ₁, λ₂, λ₃ = %@; λ_N = %.3g",
                         name, features.count, features.count, seconds, top, features.eigenvalues.last ?? .nan))
        }
        return (features, seconds)
    }

    /// Refuses, naming every one of them, requested features whose eigenvalue cannot be divided by.
    static func checkEigenvalues(_ features: EigenFeatures, _ list: [Int], option: String) throws {
        var zero: [(feature: Int, eigenvalue: Double)] = []
        var threshold = 0.0
        for j in list {
            do {
                _ = try features.gain(j)
            } catch EigenFeatureError.nonPositiveEigenvalue(let feature, let eigenvalue, let limit) {
                zero.append((feature, eigenvalue))
                threshold = limit
            }
        }
        if !zero.isEmpty { throw ZeroEigenvalueFeatures(option: option, features: zero, threshold: threshold) }
    }

    /// Usefulness of each listed feature on the problem's test images and, for the `attacked` ones (nil:
    /// all of them), its accuracy under every attack setting (in order), each attack climbing the
    /// feature's own loss. Features not attacked have no reports.
    static func evaluate(_ features: EigenFeatures, list: [Int], attacked: [Int]? = nil, on images: Tensor, labels: [Int32],
                         settings: [KernelAttackSetting], attacks: KernelAttackOptions) throws -> [FeatureEvaluation] {
        let clean = try features.cleanAccuracies(features: list, images: images, labels: labels)
        let attacked = attacked ?? list
        var reports: [Int: [RobustnessReport]] = [:]
        for setting in settings where !attacked.isEmpty {
            var rng = Xoshiro256(seed: attacks.seed)
            let start = DispatchTime.now().uptimeNanoseconds
            let evaluated = try features.evaluate(features: attacked, images: images, labels: labels, attacks: [setting.kind],
                                                  loss: setting.loss, norm: setting.norm, batchSize: attacks.attackBatchSize,
                                                  rng: &rng)
            for e in evaluated { reports[e.feature, default: []] += e.reports }
            print(String(format: "%@ on %d features: %.1f s", setting.label, attacked.count,
                         Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9))
        }
        return list.indices.map { k in
            FeatureEvaluation(feature: list[k], eigenvalue: features.eigenvalues[list[k] - 1], cleanAccuracy: clean[k],
                              reports: reports[list[k]] ?? [])
        }
    }

    /// Test image `index` of the problem as a batch of one, with its label.
    static func testImage(_ problem: KernelProblem, index: Int) throws -> (image: Tensor, label: Int32) {
        let x = problem.testInputs
        guard index >= 0, index < problem.testLabels.count else {
            throw ValidationError("--image \(index): the test images are numbered 0…\(problem.testLabels.count - 1)")
        }
        let per = x.count / max(problem.testLabels.count, 1)
        var shape = x.shape
        shape[0] = 1
        return (Tensor(shape: shape, scalars: Array(x.scalars[(index * per)..<((index + 1) * per)])), problem.testLabels[index])
    }
}
