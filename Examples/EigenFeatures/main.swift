// The paper's NTK eigen-features (Section 4) and robust-feature selection (Appendix D.3) through the library.
//
// Section 4: kernel regression with the reference notebook's infinite-width one-hidden-layer ReLU NTK on CIFAR-10
// airplane (−1) vs automobile (+1), the first 2,000 training images of the two classes, [0, 1] pixels, no ridge;
// each eigen-feature f_j(x) = (1/λ_j) Θ(x, X) v_j (v_jᵀY) alone is measured on 100 test images: usefulness (clean
// accuracy) and robustness (accuracy under FGSM at ε = 8/255 on f_j's own binary cross-entropy). Features are
// numbered from 1 (the largest eigenvalue); the notebook numbers eigenvectors from 0, so its "eigenvector j" is
// feature j + 1 here, and both are reported.
// Appendix D.3: features ranked by robustness on 100 validation images; predictors of the r most robust measured
// on the test images as r grows (clean, own FGSM, FGSM against the full predictor); on binary CIFAR (candidates
// 1…200) and on 10-class MNIST (1,000 training images, every feature a candidate, FGSM ε = 0.1, 200 validation /
// 200 test images).
//
// usage: swift run -c release EigenFeatures OUTPUT [--cifar10 PATH] [--mnist DIR]
//   PATH: a CIFAR-10 binary folder or .tar.gz; DIR: a folder with the MNIST IDX files. At least one is needed; each
//   part runs when its data are given. Writes a summary (summary.txt, also printed), CSV tables, the
//   usefulness–robustness scatter, the gradient images of features 1…16 at the first test image and the
//   selection plots into OUTPUT.
// Test and validation images are drawn by a seeded shuffle (seed 2022) of the test split: the CIFAR-10 test file of
// the reconstructed copy is grouped by class.
import Foundation
import Tangent

var arguments = Array(CommandLine.arguments.dropFirst())
@MainActor func option(_ name: String) -> String? {
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return nil }
    defer { arguments.removeSubrange(i...(i + 1)) }
    return arguments[i + 1]
}
let cifarPath = option("--cifar10"), mnistPath = option("--mnist")
guard arguments.count == 1, cifarPath != nil || mnistPath != nil else {
    print("usage: EigenFeatures OUTPUT [--cifar10 CIFAR10_FOLDER_OR_TAR_GZ] [--mnist MNIST_FOLDER] (at least one data set)")
    exit(2)
}
let output = arguments[0]
try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
var summary = ""
@MainActor func report(_ line: String) {
    print(line)
    summary += line + "\n"
}
func write(_ text: String, _ name: String) throws {
    try text.write(toFile: (output as NSString).appendingPathComponent(name), atomically: true, encoding: .utf8)
}
func path(_ name: String) -> String { (output as NSString).appendingPathComponent(name) }
func seconds(since start: Date) -> Double { Date().timeIntervalSince(start) }

/// The table of a robust-feature selection, a row per r and the full predictor last (also reported).
@MainActor func selectionTable(_ selection: RobustFeatureSelection) -> String {
    var csv = "r,clean,own_attack,full_kernel_attack,first_features_kept\n"
    for (name, step) in selection.steps.map({ ("\($0.count)", $0) }) + [("all", selection.full)] {
        csv += "\(name),\(step.cleanAccuracy),\(step.ownAttackAccuracy),\(step.fullAttackAccuracy),"
            + step.features.prefix(10).map(String.init).joined(separator: " ") + "\n"
        report(String(format: "  r = %@  clean %.2f  own FGSM %.2f  full predictor's FGSM %.2f", name.padding(toLength: 5, withPad: " ", startingAt: 0),
                      step.cleanAccuracy, step.ownAttackAccuracy, step.fullAttackAccuracy))
    }
    return csv
}

if let cifarPath {
    let started = Date()
    let data = try TrainingData.load(.cifar10, directory: cifarPath)
    let task = KernelTask.binary(negative: 0, positive: 1)          // airplane (−1) vs automobile (+1)
    let (trainX, trainY) = try task.samples(from: data.train, count: 2000, selection: .first)
    let held = try task.samples(from: data.test, counts: [100, 100], selection: .shuffled, seed: 2022)
    let (test, validation) = (held[0], held[1])
    let epsilon: Float = 8.0 / 255
    let features = try EigenFeatures.decompose(kernel: FullyConnectedReLUKernel.notebook, inputs: trainX, labels: trainY, task: task)
    report("== Section 4: binary CIFAR-10 airplane (−1) vs automobile (+1), \(data.source)")
    report(String(format: "%d train (the first of the two classes) / %d test images (seeded shuffle 2022, %d automobiles); kernel: %@; eigen-decomposition %.1f s",
                  trainY.count, test.labels.count, test.labels.filter { $0 == 1 }.count, features.kernel.description, seconds(since: started)))

    // The full predictor, for context (the notebook: 0.81 clean, 0.02 FGSM, 0.02 PGD).
    let full = try KernelAttackObjective(predictor: try features.fullPredictor(), loss: .binaryCrossEntropy)
    var rng = Xoshiro256(seed: 7)
    let fgsm = try RobustEvaluation.evaluate(full, images: test.inputs, labels: test.labels, attack: .fgsm(epsilon: epsilon), rng: &rng)
    let pgd = try RobustEvaluation.evaluate(full, images: test.inputs, labels: test.labels,
                                            attack: .pgd(PGDConfiguration(epsilon: epsilon, stepSize: 0.01, steps: 10)), rng: &rng)
    report(String(format: "full predictor: clean %.2f, FGSM %.2f, PGD-10 %.2f (notebook 0.81, 0.02, 0.02)",
                  fgsm.cleanAccuracy, fgsm.robustAccuracy, pgd.robustAccuracy))

    let tail = [1500, 1501] + Array(stride(from: 1600, through: 2000, by: 100))
    let evaluationStart = Date()
    let evaluations = try features.evaluate(features: Array(1...100) + tail, images: test.inputs, labels: test.labels,
                                            attacks: [.fgsm(epsilon: epsilon)], rng: &rng)
    let byFeature = Dictionary(uniqueKeysWithValues: evaluations.map { ($0.feature, $0) })
    func robustness(_ j: Int) -> Double { byFeature[j]?.robustAccuracy ?? .nan }
    report(String(format: "%d features evaluated (FGSM ε = 8/255 on each feature's own loss) in %.1f s", evaluations.count,
                  seconds(since: evaluationStart)))
    var csv = "feature,eigenvalue,usefulness,robustness_fgsm_8_255\n"
    for e in evaluations { csv += "\(e.feature),\(e.eigenvalue),\(e.cleanAccuracy),\(e.robustAccuracy ?? .nan)\n" }
    try write(csv, "cifar-features.csv")

    report("usefulness / robustness   this run, feature j   this run, feature j + 1 (the notebook's eigenvector j)   notebook")
    for (j, notebook) in [(1, "0.68 / 0.49"), (10, "0.59 / 0.25"), (25, "0.51 / 0.07"), (1500, "0.47 / 0.00")] {
        guard let ours = byFeature[j], let shifted = byFeature[j + 1] else { continue }
        report(String(format: "  j = %4d                %.2f / %.2f           %.2f / %.2f                                           %@",
                      j, ours.cleanAccuracy, robustness(j), shifted.cleanAccuracy, robustness(j + 1), notebook))
    }
    let rho = FeatureEvaluation.robustnessTrend(evaluations, features: 1...99) ?? .nan
    let shiftedRho = FeatureEvaluation.robustnessTrend(evaluations, features: 2...100) ?? .nan
    let around25 = (21...30).map(robustness).sorted()
    let topFive = (1...5).map(robustness), tailRobustness = tail.map(robustness)
    report(String(format: "Spearman ρ(j, robustness) over j = 1…99: %.3f (over j = 2…100, the notebook's 1…99: %.3f)", rho, shiftedRho))
    report("robustness of features 1…5: " + topFive.map { String(format: "%.2f", $0) }.joined(separator: " ")
           + (topFive.allSatisfy { $0 >= 0.3 } ? "  (all ≥ 0.3: holds)" : "  (not all ≥ 0.3: does not hold)"))
    report(String(format: "robustness at j = 25: %.2f; median over j = 21…30: %.3f%@", robustness(25), (around25[4] + around25[5]) / 2,
                  (around25[4] + around25[5]) / 2 <= 0.1 ? "  (≤ 0.1: holds)" : "  (> 0.1: does not hold)"))
    report("robustness for j ≥ 1500 (" + tail.map(String.init).joined(separator: ", ") + "): "
           + tailRobustness.map { String(format: "%.2f", $0) }.joined(separator: " ")
           + (tailRobustness.allSatisfy { $0 == 0 } ? "  (all 0.00: holds)" : "  (not all 0: does not hold)"))
    try FeatureCharts.usefulnessRobustness(Array(evaluations.prefix(100)), title: "Binary CIFAR, FC-1 NTK: features 1…100 (FGSM ε = 8/255)")
        .write(to: path("cifar-usefulness-robustness.svg"))
    let image = try KernelTask.binary(negative: 0, positive: 1).samples(from: data.test, count: 1, selection: .shuffled, seed: 2022)
    try features.gradientGrid(image: image.inputs, label: image.labels[0]).writePNG(to: path("cifar-gradients-1-16.png"))
    try RasterImage(planes: image.inputs.scalars, channels: 3, height: 32, width: 32).upscaled(by: 4).writePNG(to: path("cifar-test-image-0.png"))

    report("== Appendix D.3 on binary CIFAR: candidates 1…200 ranked on the 100 validation images, FGSM ε = 8/255")
    let selectionStart = Date()
    let selection = try RobustFeatureSelection.run(features: features, candidates: Array(1...200), validation: (validation.inputs, validation.labels),
                                                   test: (test.inputs, test.labels), counts: [1, 2, 5, 10, 20, 50, 100, 200],
                                                   attack: .fgsm(epsilon: epsilon), rng: &rng)
    try write(selectionTable(selection), "cifar-selection.csv")
    if let peak = selection.ownAttackPeak {
        report(String(format: "own-attack accuracy peaks at r = %d (%.2f; clean %.2f); selection %.1f s", peak.count,
                      peak.ownAttackAccuracy, peak.cleanAccuracy, seconds(since: selectionStart)))
    }
    report("most robust on validation: " + selection.ranking.prefix(10)
        .map { String(format: "%d (%.2f / %.2f)", $0.feature, $0.cleanAccuracy, $0.robustAccuracy ?? .nan) }.joined(separator: ", "))
    try FeatureCharts.robustSelection(selection, title: "Binary CIFAR, FC-1 NTK: the r most robust of features 1…200 (FGSM 8/255)")
        .write(to: path("cifar-selection.svg"))
}

if let mnistPath {
    let started = Date()
    let data = try TrainingData.load(.mnist, directory: mnistPath)
    let task = KernelTask.multiclass(classes: 10)
    let (trainX, trainY) = try task.samples(from: data.train, count: 1000, selection: .first)
    let held = try task.samples(from: data.test, counts: [200, 200], selection: .shuffled, seed: 2022)
    let (validation, test) = (held[0], held[1])
    let features = try EigenFeatures.decompose(kernel: FullyConnectedReLUKernel.notebook, inputs: trainX, labels: trainY, task: task)
    report("== Appendix D.3 on 10-class MNIST, \(data.source)")
    report(String(format: "%d train (the first) / %d validation / %d test images (seeded shuffle 2022); every feature ranked by FGSM ε = 0.1; eigen-decomposition %.1f s",
                  trainY.count, validation.labels.count, test.labels.count, seconds(since: started)))
    var rng = Xoshiro256(seed: 9)
    let selectionStart = Date()
    let selection = try RobustFeatureSelection.run(features: features, validation: (validation.inputs, validation.labels),
                                                   test: (test.inputs, test.labels), counts: [1, 5, 10, 20, 50, 100, 200, 500, 1000],
                                                   attack: .fgsm(epsilon: 0.1), rng: &rng)
    try write(selectionTable(selection), "mnist-selection.csv")
    if let peak = selection.ownAttackPeak {
        report(String(format: "own-attack accuracy peaks at r = %d (%.2f; clean %.2f); the full predictor: clean %.2f, FGSM %.2f; selection %.1f s",
                      peak.count, peak.ownAttackAccuracy, peak.cleanAccuracy, selection.full.cleanAccuracy,
                      selection.full.ownAttackAccuracy, seconds(since: selectionStart)))
    }
    report("most robust on validation: " + selection.ranking.prefix(10)
        .map { String(format: "%d (%.2f / %.2f)", $0.feature, $0.cleanAccuracy, $0.robustAccuracy ?? .nan) }.joined(separator: ", "))
    try FeatureCharts.robustSelection(selection, title: "10-class MNIST, FC-1 NTK: the r most robust features (FGSM 0.1)")
        .write(to: path("mnist-selection.svg"))
}
try write(summary, "summary.txt")
print("wrote \(output)/summary.txt and the tables and plots beside it")
