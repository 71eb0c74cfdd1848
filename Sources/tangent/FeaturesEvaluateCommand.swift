import ArgumentParser
import Foundation
import Tangent

/// `tangent features evaluate`: usefulness and robustness of each requested feature (the paper's Fig. 2),
/// the input-gradient images of features at one test image, and optionally which features an attack on
/// the full predictor follows (Eq. 10).
struct FeaturesEvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Usefulness (clean accuracy) and robustness (accuracy under an attack on the feature itself) of eigen-features, with the scatter and gradient images.",
        discussion: """
        Writes into --out: features.json (settings, timings, the full predictor's clean accuracy, every \
        feature's eigenvalue, usefulness and accuracy under each attack, Spearman's ρ between j and the \
        robustness over the features j ≤ --scatter-k), features.csv (one row per feature), \
        usefulness-robustness.svg (features j ≤ --scatter-k, robustness under the first attack), \
        gradients.png (the input gradient of each --grid feature's own loss at test image --image: grey for \
        MNIST, RGB for CIFAR-10, 0 mid-grey) and image.png (that test image).

        With --eigenpairs K only the K largest eigenpairs of the Gram matrix are computed, by block Krylov \
        iteration (products of the Gram matrix with blocks of vectors) instead of LAPACK's complete \
        decomposition: for thousands of training images far faster, and the memory is the Gram matrix plus \
        a basis of a few K vectors instead of four N×N buffers. Features above K are refused, and the full \
        predictor (its accuracy, --gradient-shares) needs every eigenpair, so it is not reported.
        """)

    @OptionGroup var problem: KernelProblemOptions
    @OptionGroup var attacks: KernelAttackOptions
    @Option(help: ArgumentHelp("The features evaluated: numbers and ranges such as 1-100,1500-2000/100 (default: 1-100, or all the features there are when fewer, computed ones with --eigenpairs).", valueName: "list"))
    var features: String?
    @Option(help: "The scatter and Spearman's ρ cover the evaluated features j ≤ K (the paper's K = 100).") var scatterK: Int = 100
    @Option(help: ArgumentHelp("The features whose gradient images are drawn (default: 1-16, or all the features there are when fewer, computed ones with --eigenpairs).", valueName: "list"))
    var grid: String?
    @Option(help: "The test image (0-based) the gradient images are drawn at.") var image: Int = 0
    @Option(help: "Gradient images per row of gradients.png.") var gridColumns: Int = 4
    @Option(help: "Each gradient pixel drawn as an N×N block.") var upscale: Int = 4
    @Flag(help: "Also split the full predictor's loss gradient at the test images over the evaluated features (Eq. 10): each feature's share of the gradient and of an FGSM step's first-order loss increase.")
    var gradientShares = false
    @Option(help: ArgumentHelp("all (LAPACK's complete decomposition) or K: only the K largest eigenpairs, by block Krylov iteration — much faster for large --train; features above K are refused and the full predictor is not available.",
                               valueName: "all|K"))
    var eigenpairs: String = "all"
    @Option(help: ArgumentHelp("The evaluated features that are also attacked (default: all of them; none: usefulness only).", valueName: "list"))
    var attacked: String?

    func validate() throws {
        let list = try featureList()
        _ = try gridList()
        if let k = try topEigenpairs() {
            for (option, features) in [("--features", list), ("--grid", try gridList())] {
                if let above = features.first(where: { $0 > k }) {
                    throw ValidationError("\(option): feature \(above) is above --eigenpairs \(k): only the top \(k) eigenpairs are computed")
                }
            }
            try requireOption(!gradientShares || k == problem.train,
                              "--gradient-shares splits the full predictor's gradient, which needs every eigenpair; drop --eigenpairs \(k) (or use all)")
        }
        _ = try attackedList(among: list)
        try requireOption(scatterK >= 1, "--scatter-k must be at least 1, got \(scatterK)")
        try requireOption(image >= 0 && image < problem.test,
                          "--image \(image): the test images are numbered 0…\(problem.test - 1) (--test \(problem.test))")
        try requireOption(gridColumns >= 1 && gridColumns <= 1024, "--grid-columns must be in 1–1024, got \(gridColumns)")
        try requireOption(upscale >= 1 && upscale <= 64, "--upscale must be in 1–64, got \(upscale)")
    }

    /// `--features`, or features 1…100 (at most --train and --eigenpairs).
    func featureList() throws -> [Int] {
        try FeatureListArgument.features(features, default: min(100, try topEigenpairs() ?? 100), train: problem.train,
                                         option: "--features")
    }

    /// `--grid`, or features 1…16 (at most --train and --eigenpairs).
    func gridList() throws -> [Int] {
        try FeatureListArgument.features(grid, default: min(16, try topEigenpairs() ?? 16), train: problem.train, option: "--grid")
    }

    /// K of `--eigenpairs K` (nil for all), at most --train.
    func topEigenpairs() throws -> Int? {
        if eigenpairs == "all" { return nil }
        guard let k = Int(eigenpairs), k >= 1 else {
            throw ValidationError("--eigenpairs takes all or a whole number of eigenpairs from 1, not '\(eigenpairs)'")
        }
        guard k <= problem.train else {
            throw ValidationError("--eigenpairs \(k): the Gram matrix of --train \(problem.train) images has \(problem.train) eigenpairs")
        }
        return k
    }

    /// `--attacked` (every evaluated feature without it, none for an empty list), each one of `list`.
    func attackedList(among list: [Int]) throws -> [Int] {
        guard let attacked else { return list }
        if attacked == "none" { return [] }
        let chosen = try FeatureListArgument.parse(attacked, option: "--attacked")
        if let outside = chosen.first(where: { !list.contains($0) }) {
            throw ValidationError("--attacked: feature \(outside) is not among the evaluated --features")
        }
        return chosen
    }

    func run() throws {
        let list = try featureList()
        let pictured = try gridList()
        let attackedFeatures = try attackedList(among: list)
        let decomposition: GramDecomposition = try topEigenpairs().map { .top($0) } ?? .complete
        let p = try problem.makeProblem(method: KernelRegression.Method(decomposition))
        p.printSummary()
        let settings = try attacks.settings(task: p.task, dataset: p.dataset, defaultAttacks: "fgsm")
        let (eigen, decompositionSeconds) = try FeatureRuns.decompose(p, decomposition: decomposition)
        try FeatureRuns.checkEigenvalues(eigen, list, option: "--features")
        try FeatureRuns.checkEigenvalues(eigen, pictured, option: "--grid")

        var full: Double?
        if eigen.isComplete {
            do {
                full = try eigen.fullPredictor().accuracy(p.testInputs, labels: p.testLabels)
                print(String(format: "full predictor: clean test accuracy %.4f", full ?? .nan))
            } catch let error as KernelPredictorError {
                guard case .singularAtInfiniteTime = error else { throw error }
                print("full predictor: not defined (\(error)); the features with positive eigenvalues are evaluated")
            }
        } else {
            print("full predictor: not computed (it needs all \(eigen.count) eigenpairs; --eigenpairs \(eigen.computedCount))")
        }

        let start = DispatchTime.now().uptimeNanoseconds
        let evaluations = try FeatureRuns.evaluate(eigen, list: list, attacked: attackedFeatures, on: p.testInputs,
                                                   labels: p.testLabels, settings: settings, attacks: attacks)
        let evaluationSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        var shares: FeatureGradientDecomposition?
        if gradientShares {
            shares = try eigen.gradientDecomposition(at: p.testInputs, labels: p.testLabels, features: list,
                                                     loss: settings.first?.loss)
        }
        for e in evaluations {
            let attacked = zip(settings, e.reports).map { String(format: "%@ %.3f", $0.label, $1.robustAccuracy) }
            print(String(format: "feature %5d: λ %-10.4g usefulness %.3f  ", e.feature, e.eigenvalue, e.cleanAccuracy)
                  + attacked.joined(separator: "  "))
        }
        let trend = FeatureEvaluation.robustnessTrend(evaluations, features: 1...scatterK)
        if let trend { print(String(format: "Spearman ρ(j, robustness) over the evaluated j ≤ %d: %.3f", scatterK, trend)) }

        let picture = try FeatureRuns.testImage(p, index: image)
        let gradients = try eigen.gradientGrid(features: pictured, image: picture.image, label: picture.label,
                                               columns: gridColumns, upscale: upscale)
        let results = FeatureEvaluationResults(
            problem: KernelProblemRecord(p), attacks: settings.map(\.label), eigenpairs: eigen.computedCount,
            blockKrylov: eigen.isComplete ? nil : eigen.solution.blockKrylovReport.map { BlockKrylovRecord($0, values: eigen.eigenvalues) },
            decompositionSeconds: decompositionSeconds,
            evaluationSeconds: evaluationSeconds, fullPredictorCleanAccuracy: full, scatterK: scatterK,
            robustnessSpearman: trend, image: image, imageLabel: picture.label, grid: pictured,
            features: evaluations.enumerated().map { k, e in
                FeatureEvaluationResults.Feature(e, settings: settings, gradientShare: shares?.gradientShares[k],
                                                 fgsmShare: shares?.fgsmShares[k])
            })
        try results.write(to: problem.out, evaluations: evaluations, settings: settings)
        try gradients.writePNG(to: (problem.out as NSString).appendingPathComponent("gradients.png"))
        try RasterImage(planes: picture.image.scalars, channels: picture.image.shape[1], height: picture.image.shape[2],
                        width: picture.image.shape[3]).upscaled(by: upscale)
            .writePNG(to: (problem.out as NSString).appendingPathComponent("image.png"))
        print("wrote \(problem.out)/features.json, features.csv, usefulness-robustness.svg, gradients.png, image.png")
    }
}

/// What `tangent features evaluate` writes to features.json (and, a row per feature, features.csv).
struct FeatureEvaluationResults: Encodable {
    /// One feature's figures.
    struct Feature: Encodable {
        let feature: Int
        let eigenvalue: Double
        /// Clean test accuracy of f_j.
        let usefulness: Double
        /// Accuracy of f_j under each attack on its own loss, keyed like the CSV columns ("fgsm_eps_0.03137").
        let robustness: [String: Double]
        /// The feature's mean share ⟨g_j, g⟩/‖g‖² of the full predictor's loss gradient (with --gradient-shares).
        let gradientShare: Double?
        /// Its share of the first-order loss increase of an FGSM step on the full predictor.
        let fgsmShare: Double?

        init(_ e: FeatureEvaluation, settings: [KernelAttackSetting], gradientShare: Double?, fgsmShare: Double?) {
            feature = e.feature
            eigenvalue = e.eigenvalue
            usefulness = e.cleanAccuracy
            robustness = Dictionary(uniqueKeysWithValues: zip(settings.map(\.key), e.reports.map(\.robustAccuracy)))
            self.gradientShare = gradientShare
            self.fgsmShare = fgsmShare
        }
    }

    let problem: KernelProblemRecord
    /// The attacks, in the order of the CSV columns; the first is the robustness of the scatter.
    let attacks: [String]
    /// The eigenpairs computed: all N, or K with --eigenpairs K.
    let eigenpairs: Int
    /// How the block Krylov search of --eigenpairs K went (nil for the complete decomposition).
    let blockKrylov: BlockKrylovRecord?
    /// The kernel's Gram matrix and its eigen-decomposition.
    let decompositionSeconds: Double
    let evaluationSeconds: Double
    /// Nil when the Gram matrix is singular (the t → ∞ predictor is not defined) or only the top
    /// eigenpairs were computed.
    let fullPredictorCleanAccuracy: Double?
    let scatterK: Int
    /// Spearman's ρ between j and the robustness under the first attack over the evaluated j ≤ scatterK.
    let robustnessSpearman: Double?
    /// The test image (0-based) of the gradient images, and its label.
    let image: Int
    let imageLabel: Int32
    /// The features of gradients.png, row by row.
    let grid: [Int]
    let features: [Feature]

    /// Writes features.json, features.csv and usefulness-robustness.svg into `folder`.
    func write(to folder: String, evaluations: [FeatureEvaluation], settings: [KernelAttackSetting]) throws {
        try ResultFiles.writeJSON(self, to: folder, name: "features.json")
        let shares = features.contains { $0.gradientShare != nil }
        var csv = (["feature", "eigenvalue", "usefulness"] + settings.map(\.key)
                   + (shares ? ["gradient_share", "fgsm_share"] : [])).joined(separator: ",") + "\n"
        for f in features {
            // Features left out of --attacked have empty robustness cells.
            var row = ["\(f.feature)", "\(f.eigenvalue)", "\(f.usefulness)"] + settings.map { f.robustness[$0.key].map { "\($0)" } ?? "" }
            if shares { row += ["\(f.gradientShare ?? .nan)", "\(f.fgsmShare ?? .nan)"] }
            csv += row.joined(separator: ",") + "\n"
        }
        try ResultFiles.writeText(csv, to: folder, name: "features.csv")
        let title = "NTK eigen-features: \(problem.task), \(problem.kernel), \(settings.first?.label ?? "no attack")"
        try FeatureCharts.usefulnessRobustness(evaluations, title: title, firstK: scatterK)
            .write(to: (folder as NSString).appendingPathComponent("usefulness-robustness.svg"))
    }
}

/// What a block Krylov search cost and how well it converged, for features.json.
struct BlockKrylovRecord: Encodable {
    let cycles: Int
    /// Vectors multiplied by the Gram matrix in all.
    let productColumns: Int
    /// The largest ‖Θv − λv‖/λ over the computed eigenpairs.
    let largestRelativeResidual: Double
    /// The search alone (the Gram matrix computed before it is not included).
    let solverSeconds: Double

    init(_ report: BlockKrylovReport, values: [Double]) {
        cycles = report.cycles
        productColumns = report.productColumns
        largestRelativeResidual = report.largestRelativeResidual(values: values)
        solverSeconds = report.seconds
    }
}
