import ArgumentParser
import Foundation
import Tangent

/// `tangent features dynamics RUN [RUN …]`: the eigen-features of each run's empirical NTK at every
/// tracked epoch — the kernel machine on the run's probe batch with the network's NTK at that epoch,
/// its top features' usefulness and robustness measured on held-out test images — so standard and
/// adversarial training can be compared (do robust features appear early?).
struct FeaturesDynamicsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dynamics",
        abstract: "Usefulness and robustness of the top eigen-features of a run's empirical NTK at every tracked epoch, for one or several runs (e.g. standard vs adversarial training).",
        discussion: """
        For each run folder (trained with kernel tracking) and each epoch whose kernel it tracked and whose \
        network is available — epoch 0 is the run's seeded initialisation, a later epoch needs its \
        checkpoint (train with --keep-last large enough to keep them) — the network's empirical NTK \
        (class mean over the outputs) builds the kernel machine on the run's probe batch with one-hot \
        labels, its Gram matrix is decomposed, and each --features feature is measured on --held-out test \
        images (a seeded random sample, the same for every run and epoch): usefulness (clean accuracy of f_j) and robustness (accuracy \
        under the attack on f_j itself; --attack and --eps as in `tangent features evaluate`, default FGSM \
        at the data set's ε). The top eigenvalues are checked against the kernel tracked during training \
        at the same step.

        Writes into --out: features-dynamics.json and .csv (a row per run, epoch and feature), \
        over-training.svg (per run, the mean robustness and usefulness of the features by epoch), per run \
        robustness-RUN.svg and usefulness-RUN.svg (feature × epoch heatmaps), and index.html. The files \
        are rewritten after every epoch, so an interrupted analysis keeps what it finished.
        """)

    @Argument(help: "Run folders trained with kernel tracking (--ntk-every-epoch or --ntk-every N).")
    var runDirectories: [String] = []
    @Option(name: .customLong("label"), help: ArgumentHelp("A run's name on the charts; repeat once per run, in order (default: the folder names).", valueName: "NAME"))
    var labels: [String] = []
    @Option(help: ArgumentHelp("The features evaluated at every epoch (numbers and ranges, at most the probe size; default 1-10).", valueName: "list"))
    var features: String = "1-10"
    @Option(help: "Held-out test images the features are measured on (a seeded random sample of the run's test set).") var heldOut: Int = 200
    @Option(help: ArgumentHelp("The epochs analysed (numbers and ranges from 0; default: every tracked epoch whose network is available).", valueName: "list"))
    var epochs: String?
    @Option(help: "Folder with the standard data files (default: each run's).") var dataDir: String?
    @Option(help: "Memory budget of the empirical NTK and the kernel machine, in MB.") var memoryBudget: Int = 4096
    @Option(help: "Output folder.") var out: String
    @OptionGroup var attacks: KernelAttackOptions
    @OptionGroup var dataLimits: DataLimitOptions

    func validate() throws {
        guard !runDirectories.isEmpty else { throw ValidationError("give at least one run folder") }
        try requireOption(labels.isEmpty || labels.count == runDirectories.count,
                          "--label was given \(labels.count) times for \(runDirectories.count) runs: give one per run, in the runs' order")
        try requireOption(Set(labels).count == labels.count, "--label names must differ")
        _ = try FeatureListArgument.parse(features, option: "--features")
        if let epochs { _ = try FeatureListArgument.parse(epochs, option: "--epochs", minimum: 0) }
        try requireOption(heldOut >= 1, "--held-out must be positive, got \(heldOut)")
        try requireOption(memoryBudget >= 1 && memoryBudget <= Int.max >> 20, "--memory-budget must be a positive number of MB, got \(memoryBudget)")
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: out, isDirectory: &isDirectory) {
            try requireOption(isDirectory.boolValue, "--out \(out) exists and is not a folder")
        }
    }

    func run() throws {
        let names = try RunComparison.labels(for: runDirectories, given: labels)
        let list = try FeatureListArgument.parse(features, option: "--features")
        let wanted = try epochs.map { Set(try FeatureListArgument.parse($0, option: "--epochs", minimum: 0)) }
        // Every run is read and checked before anything is computed.
        let plans = try zip(runDirectories, names).map { try FeatureDynamicsPlan(runDirectory: $0, label: $1, epochs: wanted) }
        try FeatureDynamicsPlan.checkComparable(plans)
        for plan in plans {
            try FeatureListArgument.checkFeatures(list, train: plan.index.probe.count, option: "--features",
                                                  images: "the probe of \(plan.runDirectory) (\(plan.index.probe.count) images)")
            try requireOption(!plan.snapshots.isEmpty,
                              "\(plan.runDirectory): none of \(epochs.map { "--epochs \($0)" } ?? "its tracked epochs") has a network to analyse (\(plan.missing.isEmpty ? "no kernels tracked by epoch" : "checkpoints not kept for epochs \(plan.missing.map(String.init).joined(separator: ", "))"))")
        }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)

        var results = FeatureDynamicsResults(features: list, heldOut: heldOut, attacks: [], attackColumns: [], runs: [])
        for plan in plans {
            if !plan.missing.isEmpty {
                print("\(plan.label): epochs \(plan.missing.map(String.init).joined(separator: ", ")) skipped (their checkpoints were not kept)")
            }
            let data = try TrainingData.load(plan.description.dataset, directory: dataDir ?? plan.description.dataDirectory,
                                             trainSubset: plan.description.trainSubset, testSubset: plan.description.testSubset,
                                             limits: dataLimits.limits())
            let task = KernelTask.multiclass(classes: data.train.classNames.count)
            let probe = try plan.probe(in: data)
            let test = try task.samples(from: data.test, count: heldOut, selection: .shuffled)
            let settings = try attacks.settings(task: task, dataset: plan.description.dataset, defaultAttacks: "fgsm")
            results.attacks = settings.map(\.label)
            results.attackColumns = settings.map(\.key)
            results.runs.append(.init(label: plan.label, runDirectory: plan.runDirectory, skippedEpochs: plan.missing, epochs: []))
            print("\(plan.label): \(plan.snapshots.count) epochs; probe of \(probe.labels.count) training images, \(test.labels.count) held-out test images; \(settings.map(\.label).joined(separator: ", "))")
            for snapshot in plan.snapshots {
                let start = DispatchTime.now().uptimeNanoseconds
                let network = try plan.network(at: snapshot, data: data)
                let kernel = try EmpiricalNTKKernel(model: network, memoryBudgetBytes: memoryBudget << 20)
                let eigen = try EigenFeatures.decompose(kernel: kernel, inputs: probe.inputs, labels: probe.labels, task: task,
                                                        memoryBudgetBytes: memoryBudget << 20)
                try FeatureRuns.checkEigenvalues(eigen, list, option: "--features (epoch \(snapshot.epoch) of \(plan.label))")
                let full = try? eigen.fullPredictor().accuracy(test.inputs, labels: test.labels)
                let agreement = try plan.trackedKernelAgreement(snapshot, eigenvalues: eigen.eigenvalues, features: list,
                                                                classes: task.outputs)
                let evaluations = try FeatureRuns.evaluate(eigen, list: list, on: test.inputs, labels: test.labels,
                                                           settings: settings, attacks: attacks)
                let point = FeatureSnapshot(epoch: snapshot.epoch, step: snapshot.step, eigenvalues: eigen.eigenvalues,
                                            evaluations: evaluations, fullPredictorAccuracy: full, trackedKernelAgreement: agreement)
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                results.runs[results.runs.count - 1].epochs.append(.init(point, settings: settings, seconds: seconds))
                print(String(format: "%@ epoch %d: λ₁ %.4g, full predictor %@, features %d–%d: usefulness %.3f, robustness %.3f (mean); tracked-kernel agreement %@; %.1f s",
                             plan.label, snapshot.epoch, eigen.eigenvalues.first ?? .nan, full.map { String(format: "%.3f", $0) } ?? "n/a",
                             list.first ?? 0, list.last ?? 0, point.meanUsefulness, point.meanRobustness(),
                             agreement.map { String(format: "%.1e", $0) } ?? "not checked", seconds))
                try results.write(to: out)
            }
        }
        print("wrote \(out)/features-dynamics.json, features-dynamics.csv, over-training.svg, the per-run heatmaps and index.html")
    }
}

/// What one run folder offers `tangent features dynamics`: its description, tracked kernels and which
/// of them have a network (the seeded initialisation, or a kept checkpoint at the same step).
struct FeatureDynamicsPlan {
    let runDirectory: String
    let label: String
    let description: RunDescription
    let index: KernelSnapshotIndex
    /// The tracked kernels analysed, one per epoch (the end-of-epoch one when several were tracked).
    let snapshots: [KernelSnapshot]
    /// Tracked epochs asked for whose checkpoint was not kept.
    let missing: [Int]

    init(runDirectory: String, label: String, epochs wanted: Set<Int>?) throws {
        self.runDirectory = runDirectory
        self.label = label
        description = try RunDescription.stored(inRunFolder: runDirectory)
        if let k = description.linearizeAtEpoch {
            throw ValidationError("\(runDirectory) trains a linearization from epoch \(k), whose kernel is frozen at that epoch's; analyse the run it was linearized from instead")
        }
        guard let index = try KernelSnapshotStore.readIndex(runDirectory: runDirectory), !index.snapshots.isEmpty else {
            throw ValidationError("\(runDirectory) tracked no kernels (train with --ntk-every-epoch or --ntk-every N)")
        }
        self.index = index
        let checkpoints = CheckpointDirectory(path: (runDirectory as NSString).appendingPathComponent("checkpoints"))
        let kept = Set(try checkpoints.list().map(\.step))
        var byEpoch: [Int: KernelSnapshot] = [:]
        for s in index.snapshots where wanted?.contains(s.epoch) ?? true {
            // The last kernel of an epoch is the one taken at its end (or at the start, for epoch 0).
            if let seen = byEpoch[s.epoch], seen.step > s.step { continue }
            byEpoch[s.epoch] = s
        }
        if let wanted, let absent = wanted.sorted().first(where: { byEpoch[$0] == nil }) {
            throw ValidationError("--epochs: \(runDirectory) tracked no kernel at epoch \(absent) (tracked: \(Set(index.snapshots.map(\.epoch)).sorted().map(String.init).joined(separator: ", ")))")
        }
        let ordered = byEpoch.values.sorted { $0.step < $1.step }
        snapshots = ordered.filter { $0.step == 0 || kept.contains($0.step) }
        missing = ordered.filter { !($0.step == 0 || kept.contains($0.step)) }.map(\.epoch)
    }

    /// Runs whose probes or data sets differ are not compared on one chart.
    static func checkComparable(_ plans: [FeatureDynamicsPlan]) throws {
        guard let first = plans.first else { return }
        for plan in plans.dropFirst() {
            guard plan.description.dataset == first.description.dataset else {
                throw ValidationError("\(plan.runDirectory) trains on \(plan.description.dataset.rawValue) but \(first.runDirectory) on \(first.description.dataset.rawValue): their features are not comparable")
            }
            guard plan.index.probe == first.index.probe else {
                throw ValidationError("\(plan.runDirectory) tracked another probe batch than \(first.runDirectory): their features are not comparable (use the same --ntk-probe)")
            }
        }
    }

    /// The probe batch: the tracked training images with their labels.
    func probe(in data: TrainingData) throws -> (inputs: Tensor, labels: [Int32]) {
        try KernelTrackingConfiguration.checkProbe(index.probe, trainCount: data.train.count)
        let batch = data.train.batch(indices: index.probe)
        return (Tensor(shape: [index.probe.count, data.train.channels, data.train.height, data.train.width], scalars: batch.images),
                batch.labels)
    }

    /// The run's network at a tracked kernel's step: the seeded initialisation at step 0, else the checkpoint.
    func network(at snapshot: KernelSnapshot, data: TrainingData) throws -> Module {
        let network = try description.initialNetwork(for: data)
        guard snapshot.step > 0 else { return network }
        let path = CheckpointDirectory(path: (runDirectory as NSString).appendingPathComponent("checkpoints")).path(forStep: snapshot.step)
        try TrainingCheckpoint.loadParameters(into: network, from: try CheckpointFile.read(path: path), path: path)
        return network
    }

    /// The largest relative difference between the features' eigenvalues and those of the tracked kernel's
    /// class mean (nil for a kernel tracked on the attacked probe, which is another matrix).
    func trackedKernelAgreement(_ snapshot: KernelSnapshot, eigenvalues: [Double], features: [Int],
                                classes: Int) throws -> Double? {
        guard !index.adversarialProbe else { return nil }
        let kernel = try KernelSnapshotStore.load(snapshot, in: (runDirectory as NSString).appendingPathComponent(KernelSnapshotStore.folderName), index: index)
        let n = index.probe.count
        let tracked = try SymmetricEigen.eigenvalues(FeatureSnapshot.classMeanGram(of: kernel, classes: classes), dimension: n)
            .sorted(by: >)
        return features.map { j in abs(eigenvalues[j - 1] - tracked[j - 1]) / max(abs(tracked[j - 1]), .leastNormalMagnitude) }.max()
    }
}

/// What `tangent features dynamics` writes to features-dynamics.json (and, a row per run, epoch and
/// feature, features-dynamics.csv).
struct FeatureDynamicsResults: Encodable {
    struct Run: Encodable {
        let label: String
        let runDirectory: String
        /// Tracked epochs whose checkpoint was not kept.
        let skippedEpochs: [Int]
        var epochs: [Epoch]
    }

    struct Epoch: Encodable {
        let epoch: Int
        let step: Int
        /// λ_1 ≥ … of the probe's Gram matrix (all of them).
        let eigenvalues: [Double]
        let fullPredictorCleanAccuracy: Double?
        /// See ``FeatureSnapshot/trackedKernelAgreement``.
        let trackedKernelAgreement: Double?
        let seconds: Double
        let features: [FeatureEvaluationResults.Feature]
        /// For the charts.
        let snapshot: FeatureSnapshot

        init(_ snapshot: FeatureSnapshot, settings: [KernelAttackSetting], seconds: Double) {
            epoch = snapshot.epoch
            step = snapshot.step
            eigenvalues = snapshot.eigenvalues
            fullPredictorCleanAccuracy = snapshot.fullPredictorAccuracy
            trackedKernelAgreement = snapshot.trackedKernelAgreement
            self.seconds = seconds
            features = snapshot.evaluations.map { FeatureEvaluationResults.Feature($0, settings: settings, gradientShare: nil, fgsmShare: nil) }
            self.snapshot = snapshot
        }

        enum CodingKeys: String, CodingKey {
            case epoch, step, eigenvalues, fullPredictorCleanAccuracy, trackedKernelAgreement, seconds, features
        }
    }

    let features: [Int]
    let heldOut: Int
    /// The attacks, in the order of the CSV columns; the first is the charts' robustness.
    var attacks: [String]
    /// Their CSV columns and robustness keys ("fgsm_eps_0.3").
    var attackColumns: [String]
    var runs: [Run]

    /// Writes the JSON, the CSV, the charts and index.html into `folder` (which exists).
    func write(to folder: String) throws {
        try ResultFiles.writeJSON(self, to: folder, name: "features-dynamics.json")
        let keys = attackColumns
        var csv = CSVText.row(["run", "epoch", "step", "feature", "eigenvalue", "usefulness"] + keys)
        for run in runs {
            for e in run.epochs {
                for f in e.features {
                    csv += CSVText.row([run.label, "\(e.epoch)", "\(e.step)", "\(f.feature)", "\(f.eigenvalue)", "\(f.usefulness)"]
                                       + keys.map { f.robustness[$0].map { "\($0)" } ?? "" })
                }
            }
        }
        try ResultFiles.writeText(csv, to: folder, name: "features-dynamics.csv")
        let attack = attacks.first ?? "no attack"
        try FeatureCharts.overTraining(runs.map { ($0.label, $0.epochs.map(\.snapshot)) },
                                       title: "Top eigen-features \(features.first ?? 0)–\(features.last ?? 0) of the empirical NTK over training (\(attack))")
            .write(to: (folder as NSString).appendingPathComponent("over-training.svg"))
        var page = HTMLIndexPage(title: "Eigen-features over training", notes: [
            "Features of the kernel machine on each run's probe batch with the network's empirical NTK at each epoch, measured on \(heldOut) held-out test images; robustness is the accuracy under \(attack) on the feature itself.",
        ])
        page.sections.append(.init(heading: "All runs", figures: [.init(file: "over-training.svg", caption: "Mean robustness (solid) and usefulness (dashed) of the features, by epoch")]))
        for run in runs {
            let name = Self.fileSafe(run.label)
            let snapshots = run.epochs.map(\.snapshot)
            try FeatureCharts.overTrainingHeatmap(snapshots, title: "\(run.label): robustness of feature j (\(attack))")
                .write(to: (folder as NSString).appendingPathComponent("robustness-\(name).svg"))
            try FeatureCharts.overTrainingHeatmap(snapshots, usefulness: true, title: "\(run.label): usefulness of feature j")
                .write(to: (folder as NSString).appendingPathComponent("usefulness-\(name).svg"))
            page.sections.append(.init(heading: run.label, figures: [
                .init(file: "robustness-\(name).svg", caption: "Robustness of each feature by epoch"),
                .init(file: "usefulness-\(name).svg", caption: "Usefulness of each feature by epoch"),
            ]))
        }
        try page.write(to: (folder as NSString).appendingPathComponent("index.html"))
    }

    /// A run label as a file-name part: letters, digits, '-', '_' and '.' kept, anything else '_'.
    static func fileSafe(_ label: String) -> String {
        String(label.map { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) ? $0 : "_" })
    }
}
