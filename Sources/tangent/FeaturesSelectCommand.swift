import ArgumentParser
import Foundation
import Tangent

/// `tangent features select`: the paper's Appendix D.3 — rank features by robustness on a validation
/// split, keep the r most robust and measure the predictor of those r features as r grows.
struct FeaturesSelectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "select",
        abstract: "Robust-feature selection (Appendix D.3): predictors of the r features most robust on a validation split, as r grows.",
        discussion: """
        The validation images come from the test split, disjoint from the test images (picked with \
        --test-pick together with them: the first --test go to the test set, the next --validation to \
        validation). Every candidate is attacked on its own loss on the validation images and ranked by its \
        accuracy (ties: the more useful, then the lower j). For each r of --keep, the predictor of the r \
        most robust features (with their original eigenvalues) is measured on the test images: clean, \
        under the attack on itself, and under the attack computed against the full kernel predictor. One \
        attack and one ε (default FGSM at 0.3 for MNIST, 8/255 for CIFAR-10). Writes selection.json, \
        selection.csv (one row per r, then the full predictor), ranking.csv and selection.svg into --out.
        """)

    @OptionGroup var problem: KernelProblemOptions
    @OptionGroup var attacks: KernelAttackOptions
    @Option(help: "Validation images (from the test split, disjoint from the test images).") var validation: Int = 100
    @Option(help: ArgumentHelp("The candidates ranked: all, or numbers and ranges such as 1-200.", valueName: "list"))
    var candidates: String = "all"
    @Option(help: ArgumentHelp("The numbers r of most robust features kept (default: 1,2,5,10,20,50,100,200 and all candidates, those up to the number of candidates).", valueName: "list"))
    var keep: String?

    func validate() throws {
        try requireOption(validation >= 1, "--validation must be positive, got \(validation)")
        _ = try counts()
        try requireOption(try attacks.settingCount(defaultAttacks: "fgsm") == 1, "select ranks the features by one attack at one ε; give one --attack and one --eps")
    }

    /// The candidates of `--candidates` (nil: all features), checked against `--train`.
    func candidateList() throws -> [Int]? {
        guard candidates != "all" else { return nil }
        let list = try FeatureListArgument.parse(candidates, option: "--candidates")
        try FeatureListArgument.checkFeatures(list, train: problem.train, option: "--candidates")
        return list
    }

    /// The numbers r of `--keep`, each at most the number of candidates; without it, the default ones
    /// up to that number, and that number.
    func counts() throws -> [Int] {
        let pool = try candidateList()?.count ?? problem.train
        guard let keep else {
            let standard = [1, 2, 5, 10, 20, 50, 100, 200].filter { $0 < pool }
            return standard + [pool]
        }
        let counts = try FeatureListArgument.parse(keep, option: "--keep")
        if let beyond = counts.first(where: { $0 > pool }) {
            throw ValidationError("--keep \(beyond): only \(pool) candidate features are ranked (\(candidates == "all" ? "--train \(problem.train)" : "--candidates"))")
        }
        return counts
    }

    func run() throws {
        let pool = try candidateList()
        let counts = try counts()
        let p = try problem.makeProblem(validation: validation, method: .eigendecomposition)
        p.printSummary()
        guard let setting = try attacks.settings(task: p.task, dataset: p.dataset, defaultAttacks: "fgsm").first,
              let held = p.validation else {
            throw ValidationError("select needs one attack and validation images")
        }
        let (eigen, decompositionSeconds) = try FeatureRuns.decompose(p)
        try FeatureRuns.checkEigenvalues(eigen, pool ?? eigen.all, option: "--candidates")

        var rng = Xoshiro256(seed: attacks.seed)
        let start = DispatchTime.now().uptimeNanoseconds
        let selection = try RobustFeatureSelection.run(features: eigen, candidates: pool, validation: (held.inputs, held.labels),
                                                       test: (p.testInputs, p.testLabels), counts: counts,
                                                       attack: setting.kind, loss: setting.loss, norm: setting.norm,
                                                       batchSize: attacks.attackBatchSize, rng: &rng)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        print("r       clean  own attack  full kernel's attack   (\(setting.label), test images)")
        for (name, step) in selection.steps.map({ ("\($0.count)", $0) }) + [("all", selection.full)] {
            print(name.padding(toLength: 6, withPad: " ", startingAt: 0)
                  + String(format: "  %.3f  %.3f       %.3f", step.cleanAccuracy, step.ownAttackAccuracy, step.fullAttackAccuracy))
        }
        let results = FeatureSelectionResults(problem: KernelProblemRecord(p), attack: setting.label,
                                              decompositionSeconds: decompositionSeconds, selectionSeconds: seconds,
                                              selection: selection)
        if let peak = results.ownAttackPeak {
            print(String(format: "own-attack accuracy peaks at r = %d (%.3f)", peak.count, peak.ownAttackAccuracy))
        }
        try results.write(to: problem.out, selection: selection)
        print("wrote \(problem.out)/selection.json, selection.csv, ranking.csv, selection.svg")
    }
}

/// What `tangent features select` writes to selection.json (and selection.csv, ranking.csv).
struct FeatureSelectionResults: Encodable {
    /// One candidate on the validation images.
    struct Ranked: Encodable {
        let rank: Int
        let feature: Int
        let eigenvalue: Double
        let validationUsefulness: Double
        let validationRobustness: Double
    }

    let problem: KernelProblemRecord
    let attack: String
    let decompositionSeconds: Double
    let selectionSeconds: Double
    /// The test figures of the predictor of the r most robust features, for each r.
    let steps: [RobustFeatureSelection.Step]
    /// The test figures of the full predictor.
    let full: RobustFeatureSelection.Step
    /// The step with the highest own-attack accuracy (the smallest r among equals).
    let ownAttackPeak: RobustFeatureSelection.Step?
    let ranking: [Ranked]

    init(problem: KernelProblemRecord, attack: String, decompositionSeconds: Double, selectionSeconds: Double,
         selection: RobustFeatureSelection) {
        self.problem = problem
        self.attack = attack
        self.decompositionSeconds = decompositionSeconds
        self.selectionSeconds = selectionSeconds
        steps = selection.steps
        full = selection.full
        ownAttackPeak = selection.ownAttackPeak
        ranking = selection.ranking.enumerated().map { k, e in
            Ranked(rank: k + 1, feature: e.feature, eigenvalue: e.eigenvalue, validationUsefulness: e.cleanAccuracy,
                   validationRobustness: e.robustAccuracy ?? .nan)
        }
    }

    /// Writes selection.json, selection.csv, ranking.csv and selection.svg (of `selection`) into `folder`.
    func write(to folder: String, selection: RobustFeatureSelection) throws {
        try ResultFiles.writeJSON(self, to: folder, name: "selection.json")
        var csv = "r,clean,own_attack,full_kernel_attack\n"
        for s in steps { csv += "\(s.count),\(s.cleanAccuracy),\(s.ownAttackAccuracy),\(s.fullAttackAccuracy)\n" }
        csv += "all,\(full.cleanAccuracy),\(full.ownAttackAccuracy),\(full.fullAttackAccuracy)\n"
        try ResultFiles.writeText(csv, to: folder, name: "selection.csv")
        var ranked = "rank,feature,eigenvalue,validation_usefulness,validation_robustness\n"
        for r in ranking { ranked += "\(r.rank),\(r.feature),\(r.eigenvalue),\(r.validationUsefulness),\(r.validationRobustness)\n" }
        try ResultFiles.writeText(ranked, to: folder, name: "ranking.csv")

        try FeatureCharts.robustSelection(selection, title: "Robust-feature selection: \(problem.task), \(problem.kernel), \(attack)")
            .write(to: (folder as NSString).appendingPathComponent("selection.svg"))
    }
}
