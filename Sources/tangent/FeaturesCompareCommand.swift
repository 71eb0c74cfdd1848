import ArgumentParser
import Foundation
import Tangent

/// `tangent features compare`: are the top eigen-features of two kernels on the same images the same?
/// Principal angles between their top-k eigenspaces, eigenvector j against eigenvector j, and optionally
/// the usefulness and robustness of the same features of both kernels side by side.
struct FeaturesCompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare the top-k eigenspaces of two kernels' Gram matrices on the same training images (--kernel against --against).",
        discussion: """
        For each k of --top: the cosines of the principal angles between the span of the top-k eigenvectors \
        of each kernel and their subspace similarity Σ cos²θ / k (1: the same space, 0: orthogonal). For \
        j = 1…max k: |⟨v_j, w_j⟩|, eigenvector j of one kernel against eigenvector j of the other. With \
        --features, both kernels' features are also evaluated on the test images (usefulness, robustness \
        under the attacks). Both kernels are decomposed and held in memory together. Writes \
        comparison.json, comparison.csv (a row per k), alignment.csv (a row per j), similarity.svg and, with \
        --features, features.csv and usefulness-robustness.svg into --out.
        """)

    @OptionGroup var problem: KernelProblemOptions
    @OptionGroup var attacks: KernelAttackOptions
    @Option(help: ArgumentHelp("The second kernel, written as --kernel (fc1, fc:DEPTH, conv:DEPTH, two-layer, empirical:…, empirical-init:…).",
                               valueName: "kernel"))
    var against: String
    @Option(help: ArgumentHelp("The numbers k of top eigenvectors compared (default: 1,2,5,10,20,50,100, those up to --train).", valueName: "list"))
    var top: String?
    @Option(help: ArgumentHelp("Also evaluate these features of both kernels (numbers and ranges such as 1-50).", valueName: "list"))
    var features: String?

    func validate() throws {
        _ = try KernelChoice(argument: against)
        try requireOption(against != problem.kernel, "--against \(against) is the --kernel itself; compare two different kernels")
        _ = try topCounts()
        if let features {
            try FeatureListArgument.checkFeatures(try FeatureListArgument.parse(features, option: "--features"),
                                                 train: problem.train, option: "--features")
        }
    }

    /// The numbers k of `--top` (at most --train); without it, 1, 2, 5, 10, 20, 50, 100 up to --train.
    func topCounts() throws -> [Int] {
        guard let top else { return [1, 2, 5, 10, 20, 50, 100].filter { $0 <= problem.train } }
        let ks = try FeatureListArgument.parse(top, option: "--top")
        try FeatureListArgument.checkFeatures(ks, train: problem.train, option: "--top")
        return ks
    }

    func run() throws {
        let ks = try topCounts()
        let evaluated = try features.map { try FeatureListArgument.parse($0, option: "--features") }
        let p = try problem.makeProblem(method: .eigendecomposition)
        let otherChoice = try KernelChoice(argument: against)
        let otherSource = try problem.modelSource(for: otherChoice, dataset: p.dataset.rawValue)
        try KernelProblemOptions.check(otherSource, takes: p.dataset, option: "--against \(against)")
        let other = try problem.makeKernel(otherChoice, source: otherSource, trainingInputs: p.trainInputs)
        p.printSummary()
        if let otherSource { print("second model: \(otherSource.description)") }
        print("second kernel: \(other.description)")
        let q = p.replacingKernel(other, spec: against, modelDescription: otherSource?.description)

        let (a, secondsA) = try FeatureRuns.decompose(p, name: problem.kernel)
        let (b, secondsB) = try FeatureRuns.decompose(q, name: against)
        let comparisons = try ks.map { k in (k, try EigenspaceComparison(a, b, top: k)) }
        for (k, c) in comparisons {
            print(String(format: "top %4d: subspace similarity %.4f, cos θ from %.4f to %.4f", k, c.similarity,
                         c.cosines.first ?? .nan, c.cosines.last ?? .nan))
        }
        let alignment = comparisons.max { $0.0 < $1.0 }?.1.featureAlignment ?? []

        var side: [(name: String, evaluations: [FeatureEvaluation])] = []
        var settings: [KernelAttackSetting] = []
        if let evaluated {
            settings = try attacks.settings(task: p.task, dataset: p.dataset, defaultAttacks: "fgsm")
            for (name, eigen) in [(problem.kernel, a), (against, b)] {
                try FeatureRuns.checkEigenvalues(eigen, evaluated, option: "--features (\(name))")
                side.append((name, try FeatureRuns.evaluate(eigen, list: evaluated, on: p.testInputs, labels: p.testLabels,
                                                            settings: settings, attacks: attacks)))
            }
        }
        let results = EigenspaceComparisonResults(
            problem: KernelProblemRecord(p), against: against, againstDescription: other.description,
            decompositionSeconds: [secondsA, secondsB], eigenvaluesA: Array(a.eigenvalues.prefix(alignment.count)),
            eigenvaluesB: Array(b.eigenvalues.prefix(alignment.count)), comparisons: comparisons, alignment: alignment,
            attacks: settings.map(\.label), features: side)
        try results.write(to: problem.out, side: side, settings: settings)
        print("wrote \(problem.out)/comparison.json, comparison.csv, alignment.csv, similarity.svg"
              + (side.isEmpty ? "" : ", features.csv, usefulness-robustness.svg"))
    }
}

/// What `tangent features compare` writes to comparison.json (and the CSV files).
struct EigenspaceComparisonResults: Encodable {
    /// The two top-k eigenspaces compared.
    struct TopK: Encodable {
        let k: Int
        let similarity: Double
        /// cos θ₁ ≥ … ≥ cos θ_k.
        let cosines: [Double]
    }

    /// One feature of both kernels on the test images.
    struct SideBySide: Encodable {
        let feature: Int
        let usefulness: [Double]
        /// Accuracy under the first attack, kernel by kernel.
        let robustness: [Double]
    }

    let problem: KernelProblemRecord
    let against: String
    let againstDescription: String
    let decompositionSeconds: [Double]
    /// λ_j of each kernel for j = 1…max k.
    let eigenvaluesA: [Double]
    let eigenvaluesB: [Double]
    let topK: [TopK]
    /// |⟨v_j, w_j⟩| for j = 1…max k.
    let alignment: [Double]
    let attacks: [String]
    let features: [SideBySide]

    init(problem: KernelProblemRecord, against: String, againstDescription: String, decompositionSeconds: [Double],
         eigenvaluesA: [Double], eigenvaluesB: [Double], comparisons: [(Int, EigenspaceComparison)], alignment: [Double],
         attacks: [String], features side: [(name: String, evaluations: [FeatureEvaluation])]) {
        self.problem = problem
        self.against = against
        self.againstDescription = againstDescription
        self.decompositionSeconds = decompositionSeconds
        self.eigenvaluesA = eigenvaluesA
        self.eigenvaluesB = eigenvaluesB
        topK = comparisons.map { TopK(k: $0.0, similarity: $0.1.similarity, cosines: $0.1.cosines) }
        self.alignment = alignment
        self.attacks = attacks
        features = (side.first?.evaluations.indices ?? 0..<0).map { i in
            SideBySide(feature: side[0].evaluations[i].feature, usefulness: side.map { $0.evaluations[i].cleanAccuracy },
                       robustness: side.map { $0.evaluations[i].robustAccuracy ?? .nan })
        }
    }

    /// Writes comparison.json, comparison.csv, alignment.csv, similarity.svg and, with evaluated
    /// features, features.csv and usefulness-robustness.svg into `folder`.
    func write(to folder: String, side: [(name: String, evaluations: [FeatureEvaluation])],
               settings: [KernelAttackSetting]) throws {
        try ResultFiles.writeJSON(self, to: folder, name: "comparison.json")
        var csv = "k,similarity,largest_cosine,smallest_cosine\n"
        for t in topK { csv += "\(t.k),\(t.similarity),\(t.cosines.first ?? .nan),\(t.cosines.last ?? .nan)\n" }
        try ResultFiles.writeText(csv, to: folder, name: "comparison.csv")
        var aligned = "feature,eigenvalue_a,eigenvalue_b,alignment\n"
        for (j, value) in alignment.enumerated() { aligned += "\(j + 1),\(eigenvaluesA[j]),\(eigenvaluesB[j]),\(value)\n" }
        try ResultFiles.writeText(aligned, to: folder, name: "alignment.csv")

        var chart = LineChart(title: "Top eigenspaces: \(problem.kernel) against \(against), \(problem.task)",
                              xLabel: "k (top-k eigenspaces) or j (eigenvector j)", yLabel: "similarity")
        chart.yRange = 0...1
        chart.add(LineChart.Series(name: "subspace similarity of the top-k spaces", x: topK.map { Double($0.k) }, y: topK.map(\.similarity)))
        chart.add(LineChart.Series(name: "|⟨v_j, w_j⟩|", x: alignment.indices.map { Double($0 + 1) }, y: alignment, dashed: true))
        try chart.write(to: (folder as NSString).appendingPathComponent("similarity.svg"))

        guard !side.isEmpty, let attack = settings.first else { return }
        var rows = "feature," + side.flatMap { ["usefulness_\($0.name)", "\(attack.key)_\($0.name)"] }.joined(separator: ",") + "\n"
        for f in features {
            rows += "\(f.feature)," + zip(f.usefulness, f.robustness).flatMap { ["\($0)", "\($1)"] }.joined(separator: ",") + "\n"
        }
        try ResultFiles.writeText(rows, to: folder, name: "features.csv")
        try FeatureCharts.usefulnessRobustness(comparing: side, title: "NTK eigen-features of two kernels, \(attack.label)")
            .write(to: (folder as NSString).appendingPathComponent("usefulness-robustness.svg"))
    }
}
