import Foundation
import Tangent
import XCTest

/// `tangent features evaluate|select|compare` through the real process on the embedded MNIST sample: the
/// files they write hold the library's figures for the same images, and bad input is refused with a
/// message naming it before anything is written.
final class FeaturesCommandTests: XCTestCase {
    /// Width and height from a PNG file's header.
    static func pngSize(_ path: String) throws -> (width: Int, height: Int) {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        XCTAssertEqual(Array(bytes.prefix(8)), PNGEncoder.signature, path)
        func uint32(_ at: Int) -> Int { bytes[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
        return (uint32(16), uint32(20))
    }

    /// A JSON number against the library's value (JSON keeps 17 significant digits, not always the last bit).
    func assertClose(_ json: Any?, _ expected: Double?, _ message: String = "", line: UInt = #line) {
        guard let value = json as? Double, let expected else {
            return XCTFail("\(String(describing: json)) against \(String(describing: expected)) \(message)", line: line)
        }
        XCTAssertEqual(value, expected, accuracy: 1e-12, message, line: line)
    }

    /// The embedded sample's 3-vs-5 images the commands below pick (`--pick per-class`).
    func threesAndFives(train: Int, test: Int) throws -> (train: (Tensor, [Int32]), test: (Tensor, [Int32])) {
        let data = try TrainingData.load(.mnist, directory: nil)
        let task = KernelTask.binary(negative: 3, positive: 5)
        return (try task.samples(from: data.train, count: train, selection: .perClass),
                try task.samples(from: data.test, count: test, selection: .perClass))
    }

    func testEvaluateWritesTheLibrarysFiguresTheScatterAndTheGradientGrid() throws {
        let out = TangentProcess.temporaryFolder(for: self, prefix: "tangent-features-evaluate") + "/out"
        let run = try TangentProcess.run(["features", "evaluate", "--task", "binary:3,5", "--train", "120", "--test", "30",
                                          "--pick", "per-class", "--features", "1-12,100-120/10", "--attack", "fgsm,pgd",
                                          "--eps", "0.1", "--steps", "3", "--step-size", "0.05", "--scatter-k", "12",
                                          "--grid", "1-6", "--grid-columns", "3", "--upscale", "2", "--image", "4",
                                          "--gradient-shares", "--out", out])
        XCTAssertEqual(run.status, 0, run.output)
        let results = try KernelCommandTests.json(out + "/features.json")
        let problem = try XCTUnwrap(results["problem"] as? [String: Any])
        XCTAssertEqual(problem["train"] as? Int, 120)
        XCTAssertEqual(problem["task"] as? String, "3 (−1) vs 5 (+1)")
        XCTAssertEqual(results["attacks"] as? [String], ["fgsm ε 0.1", "pgd ε 0.1"])
        let rows = try XCTUnwrap(results["features"] as? [[String: Any]])
        XCTAssertEqual(rows.compactMap { $0["feature"] as? Int }, Array(1...12) + [100, 110, 120])

        // The same figures straight from the library.
        let (train, test) = try threesAndFives(train: 120, test: 30)
        let features = try EigenFeatures.decompose(kernel: FullyConnectedReLUKernel.notebook, inputs: train.0, labels: train.1,
                                                   task: .binary(negative: 3, positive: 5))
        var rng = Xoshiro256(seed: 0)
        let list = Array(1...12) + [100, 110, 120]
        let fgsm = try features.evaluate(features: list, images: test.0, labels: test.1, attacks: [.fgsm(epsilon: 0.1)], rng: &rng)
        let pgd = try features.evaluate(features: list, images: test.0, labels: test.1,
                                        attacks: [.pgd(PGDConfiguration(epsilon: 0.1, stepSize: 0.05, steps: 3))], rng: &rng)
        for (k, row) in rows.enumerated() {
            XCTAssertEqual(try XCTUnwrap(row["eigenvalue"] as? Double), features.eigenvalues[list[k] - 1], accuracy: 1e-9)
            assertClose(row["usefulness"], fgsm[k].cleanAccuracy)
            let robustness = try XCTUnwrap(row["robustness"] as? [String: Double])
            assertClose(robustness["fgsm_eps_0.1"], fgsm[k].robustAccuracy, "feature \(list[k])")
            assertClose(robustness["pgd_eps_0.1"], pgd[k].robustAccuracy, "feature \(list[k])")
        }
        let full = try features.fullPredictor().accuracy(test.0, labels: test.1)
        assertClose(results["fullPredictorCleanAccuracy"], full)
        XCTAssertGreaterThan(full, 0.85)
        let rho = try XCTUnwrap(results["robustnessSpearman"] as? Double)
        XCTAssertEqual(rho, try XCTUnwrap(FeatureEvaluation.robustnessTrend(fgsm, features: 1...12)), accuracy: 1e-12)
        // Eq. 10: the shares of the evaluated features, as the library splits the full predictor's gradient.
        let shares = try features.gradientDecomposition(at: test.0, labels: test.1, features: list)
        XCTAssertEqual(try XCTUnwrap(rows[2]["fgsmShare"] as? Double), shares.fgsmShares[2], accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(rows[2]["gradientShare"] as? Double), shares.gradientShares[2], accuracy: 1e-12)

        // The CSV holds the same rows; the scatter shows the features j ≤ 12; the images have their sizes.
        let csv = try String(contentsOfFile: out + "/features.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(csv.first, "feature,eigenvalue,usefulness,fgsm_eps_0.1,pgd_eps_0.1,gradient_share,fgsm_share")
        XCTAssertEqual(csv.count, 1 + list.count)
        XCTAssertEqual(csv[3].split(separator: ",")[3], Substring("\(try XCTUnwrap(fgsm[2].robustAccuracy))"))
        let svg = try String(contentsOfFile: out + "/usefulness-robustness.svg", encoding: .utf8)
        XCTAssertTrue(svg.contains("j = 1–5") && svg.contains("j = 11–25") && !svg.contains("j > 100"), "features above --scatter-k are left out")
        let grid = try Self.pngSize(out + "/gradients.png")
        XCTAssertEqual(grid.width, 3 * 28 * 2 + 4 * 4)
        XCTAssertEqual(grid.height, 2 * 28 * 2 + 3 * 4)
        let image = try Self.pngSize(out + "/image.png")
        XCTAssertEqual([image.width, image.height], [56, 56])
        XCTAssertEqual(results["imageLabel"] as? Int, Int(test.1[4]))
    }

    func testTopEigenpairsGiveTheLibrarysTopFeaturesAndRefuseTheRest() throws {
        let out = TangentProcess.temporaryFolder(for: self, prefix: "tangent-features-top") + "/out"
        let run = try TangentProcess.run(["features", "evaluate", "--task", "binary:3,5", "--train", "120", "--test", "30",
                                          "--pick", "per-class", "--eigenpairs", "20", "--features", "1-12,15,20",
                                          "--attacked", "1,2,15", "--eps", "0.1", "--grid", "1-4", "--out", out])
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertTrue(run.output.contains("Gram matrix and its top 20 eigenpairs in") && run.output.contains("(block Krylov on the 120×120 matrix:"), run.output)
        XCTAssertTrue(run.output.contains("full predictor: not computed (it needs all 120 eigenpairs; --eigenpairs 20)"), run.output)
        let results = try KernelCommandTests.json(out + "/features.json")
        XCTAssertEqual(results["eigenpairs"] as? Int, 20)
        XCTAssertNil(results["fullPredictorCleanAccuracy"] as? Double)
        let krylov = try XCTUnwrap(results["blockKrylov"] as? [String: Any])
        XCTAssertLessThanOrEqual(try XCTUnwrap(krylov["largestRelativeResidual"] as? Double), 1e-6)
        XCTAssertGreaterThan(try XCTUnwrap(krylov["productColumns"] as? Int), 0)

        // The library's top-20 features on the same images.
        let (train, test) = try threesAndFives(train: 120, test: 30)
        let features = try EigenFeatures.decompose(kernel: FullyConnectedReLUKernel.notebook, inputs: train.0, labels: train.1,
                                                   task: .binary(negative: 3, positive: 5), decomposition: .top(20))
        let list = Array(1...12) + [15, 20]
        var rng = Xoshiro256(seed: 0)
        let attacked = try features.evaluate(features: [1, 2, 15], images: test.0, labels: test.1,
                                             attacks: [.fgsm(epsilon: 0.1)], rng: &rng)
        let clean = try features.cleanAccuracies(features: list, images: test.0, labels: test.1)
        let rows = try XCTUnwrap(results["features"] as? [[String: Any]])
        XCTAssertEqual(rows.compactMap { $0["feature"] as? Int }, list)
        for (k, row) in rows.enumerated() {
            XCTAssertEqual(try XCTUnwrap(row["eigenvalue"] as? Double), features.eigenvalues[list[k] - 1], accuracy: 1e-9)
            assertClose(row["usefulness"], clean[k])
            let robustness = try XCTUnwrap(row["robustness"] as? [String: Double])
            if let e = attacked.first(where: { $0.feature == list[k] }) {
                assertClose(robustness["fgsm_eps_0.1"], e.robustAccuracy, "feature \(list[k])")
            } else {
                XCTAssertTrue(robustness.isEmpty, "feature \(list[k]) was not attacked")
            }
        }
        // Features that were not attacked have empty robustness cells.
        let csv = try String(contentsOfFile: out + "/features.csv", encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertTrue(csv[3].hasSuffix(","), String(csv[3]))
        XCTAssertFalse(csv[1].hasSuffix(","), String(csv[1]))
    }

    func testTopEigenpairsDoNotDependOnTheThreadCount() throws {
        let root = TangentProcess.temporaryFolder(for: self, prefix: "tangent-features-threads")
        // Large enough that the GEMMs of the Gram matrix and of the block Krylov search run in parallel blocks.
        var outputs: [(json: String, csv: String)] = []
        for threads in [1, 2] {
            let out = root + "/threads\(threads)"
            let run = try TangentProcess.run(["features", "evaluate", "--train", "700", "--test", "40", "--eigenpairs", "40",
                                              "--features", "1-40", "--grid", "1-2", "--attacked", "1", "--eps", "0.1", "--out", out],
                                             environment: ["TANGENT_THREADS": "\(threads)"])
            XCTAssertEqual(run.status, 0, run.output)
            let json = try String(contentsOfFile: out + "/features.json", encoding: .utf8)
            outputs.append((json, try String(contentsOfFile: out + "/features.csv", encoding: .utf8)))
        }
        XCTAssertEqual(outputs[0].csv, outputs[1].csv, "eigenvalues, usefulness and robustness, bit for bit")
        // The same JSON apart from the timings.
        func withoutTimings(_ text: String) -> [Substring] { text.split(separator: "\n").filter { !$0.contains("Seconds") } }
        XCTAssertEqual(withoutTimings(outputs[0].json), withoutTimings(outputs[1].json))
        XCTAssertTrue(outputs[0].csv.split(separator: "\n").count == 41)
    }

    func testSelectRanksOnValidationImagesDisjointFromTheTestImages() throws {
        let out = TangentProcess.temporaryFolder(for: self, prefix: "tangent-features-select")
        let run = try TangentProcess.run(["features", "select", "--task", "binary:3,5", "--train", "120", "--test", "30",
                                          "--validation", "20", "--pick", "per-class", "--candidates", "1-40",
                                          "--keep", "1,5,40", "--eps", "0.1", "--out", out])
        XCTAssertEqual(run.status, 0, run.output)
        let results = try KernelCommandTests.json(out + "/selection.json")
        XCTAssertEqual((results["problem"] as? [String: Any])?["validation"] as? Int, 20)
        XCTAssertEqual(results["attack"] as? String, "fgsm ε 0.1")
        let steps = try XCTUnwrap(results["steps"] as? [[String: Any]])
        XCTAssertEqual(steps.compactMap { $0["count"] as? Int }, [1, 5, 40])
        let ranking = try XCTUnwrap(results["ranking"] as? [[String: Any]])
        XCTAssertEqual(ranking.compactMap { $0["feature"] as? Int }.sorted(), Array(1...40))

        // The library's selection on the same split: the validation images are the 20 after the test's 30.
        let data = try TrainingData.load(.mnist, directory: nil)
        let task = KernelTask.binary(negative: 3, positive: 5)
        let (train, _) = try threesAndFives(train: 120, test: 30)
        let parts = try task.samples(from: data.test, counts: [30, 20], selection: .perClass)
        let features = try EigenFeatures.decompose(kernel: FullyConnectedReLUKernel.notebook, inputs: train.0, labels: train.1, task: task)
        var rng = Xoshiro256(seed: 0)
        let selection = try RobustFeatureSelection.run(features: features, candidates: Array(1...40),
                                                       validation: (parts[1].inputs, parts[1].labels),
                                                       test: (parts[0].inputs, parts[0].labels), counts: [1, 5, 40],
                                                       attack: .fgsm(epsilon: 0.1), rng: &rng)
        XCTAssertEqual(ranking.compactMap { $0["feature"] as? Int }, selection.ranking.map(\.feature))
        for (row, step) in zip(steps, selection.steps) {
            XCTAssertEqual(row["features"] as? [Int], step.features)
            assertClose(row["cleanAccuracy"], step.cleanAccuracy)
            assertClose(row["ownAttackAccuracy"], step.ownAttackAccuracy)
            assertClose(row["fullAttackAccuracy"], step.fullAttackAccuracy)
        }
        let peak = try XCTUnwrap(results["ownAttackPeak"] as? [String: Any])
        let best = selection.steps.map(\.ownAttackAccuracy).max()
        assertClose(peak["ownAttackAccuracy"], best)
        XCTAssertEqual(peak["count"] as? Int, selection.steps.first { $0.ownAttackAccuracy == best }?.count)
        XCTAssertTrue(run.output.contains("own-attack accuracy peaks at r = \(peak["count"] as? Int ?? -1)"), run.output)

        let csv = try String(contentsOfFile: out + "/selection.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(csv.map { $0.split(separator: ",")[0] }, ["r", "1", "5", "40", "all"])
        XCTAssertEqual(try String(contentsOfFile: out + "/ranking.csv", encoding: .utf8).split(separator: "\n").count, 41)
        XCTAssertTrue(try String(contentsOfFile: out + "/selection.svg", encoding: .utf8).contains("own attack"))
    }

    func testCompareFindsTheSameKernelIdenticalAndADeeperOneClose() throws {
        let root = TangentProcess.temporaryFolder(for: self, prefix: "tangent-features-compare")
        // fc:1 with the default W_std √2 and b_std 0.1 is the notebook's kernel: the same eigenspaces.
        let same = try TangentProcess.run(["features", "compare", "--task", "binary:3,5", "--train", "80", "--test", "20",
                                           "--pick", "per-class", "--against", "fc:1", "--top", "1,5,20", "--out", root + "/same"])
        XCTAssertEqual(same.status, 0, same.output)
        let identical = try KernelCommandTests.json(root + "/same/comparison.json")
        for row in try XCTUnwrap(identical["topK"] as? [[String: Any]]) {
            XCTAssertEqual(try XCTUnwrap(row["similarity"] as? Double), 1, accuracy: 1e-6)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/same/features.csv"), "no --features, no evaluation")

        let deeper = try TangentProcess.run(["features", "compare", "--task", "binary:3,5", "--train", "80", "--test", "20",
                                             "--pick", "per-class", "--against", "fc:3", "--top", "1,5,20", "--features", "1-5",
                                             "--eps", "0.1", "--out", root + "/deeper"])
        XCTAssertEqual(deeper.status, 0, deeper.output)
        let results = try KernelCommandTests.json(root + "/deeper/comparison.json")
        let topK = try XCTUnwrap(results["topK"] as? [[String: Any]])
        XCTAssertEqual(topK.compactMap { $0["k"] as? Int }, [1, 5, 20])
        // Against the library's principal angles between the two top-20 spaces.
        let (train, test) = try threesAndFives(train: 80, test: 20)
        let task = KernelTask.binary(negative: 3, positive: 5)
        let a = try EigenFeatures.decompose(kernel: FullyConnectedReLUKernel.notebook, inputs: train.0, labels: train.1, task: task)
        let b = try EigenFeatures.decompose(kernel: try FullyConnectedReLUKernel(depth: 3, weightStd: 2.0.squareRoot(), biasStd: 0.1),
                                            inputs: train.0, labels: train.1, task: task)
        let twenty = try EigenspaceComparison(a, b, top: 20)
        XCTAssertEqual(try XCTUnwrap(topK[2]["similarity"] as? Double), twenty.similarity, accuracy: 1e-9)
        XCTAssertLessThan(twenty.similarity, 1 - 1e-3)
        XCTAssertGreaterThan(twenty.similarity, 0.5, "FC-1 and FC-3 share most of their top features")
        let alignment = try XCTUnwrap(results["alignment"] as? [Double])
        XCTAssertEqual(alignment.count, 20)
        XCTAssertEqual(alignment[0], twenty.featureAlignment[0], accuracy: 1e-9)
        // Side by side: the same features of both kernels on the test images.
        var rng = Xoshiro256(seed: 0)
        let evaluatedB = try b.evaluate(features: 1...5, images: test.0, labels: test.1, attacks: [.fgsm(epsilon: 0.1)], rng: &rng)
        let side = try XCTUnwrap(results["features"] as? [[String: Any]])
        XCTAssertEqual(side.count, 5)
        assertClose((side[3]["robustness"] as? [Double])?.last, evaluatedB[3].robustAccuracy)
        let csv = try String(contentsOfFile: root + "/deeper/features.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(csv.first, "feature,usefulness_fc1,fgsm_eps_0.1_fc1,usefulness_fc:3,fgsm_eps_0.1_fc:3")
        XCTAssertTrue(try String(contentsOfFile: root + "/deeper/usefulness-robustness.svg", encoding: .utf8).contains("fc:3"))
        XCTAssertEqual(try String(contentsOfFile: root + "/deeper/alignment.csv", encoding: .utf8).split(separator: "\n").count, 21)
    }

    func testStandardizedInputsAndShuffledPicksReachTheKernel() throws {
        let out = TangentProcess.temporaryFolder(for: self, prefix: "tangent-features-standardize")
        let run = try TangentProcess.run(["features", "evaluate", "--task", "binary:3,5", "--train", "60", "--test", "25",
                                          "--pick", "first", "--test-pick", "shuffled", "--pick-seed", "7", "--standardize",
                                          "--features", "1-4", "--grid", "1", "--eps", "0.05", "--out", out])
        XCTAssertEqual(run.status, 0, run.output)
        let results = try KernelCommandTests.json(out + "/features.json")
        let problem = try XCTUnwrap(results["problem"] as? [String: Any])
        XCTAssertEqual(problem["testPick"] as? String, "shuffled")
        XCTAssertEqual(problem["pickSeed"] as? Int, 7)
        XCTAssertEqual(problem["kernelDescription"] as? String,
                       "fully connected ReLU NTK, depth 1, W_std 1.41421, b_std 0.1 on standardized inputs (1 channel)")

        let data = try TrainingData.load(.mnist, directory: nil)
        let task = KernelTask.binary(negative: 3, positive: 5)
        let train = try task.samples(from: data.train, count: 60, selection: .first)
        let test = try task.samples(from: data.test, count: 25, selection: .shuffled, seed: 7)
        let (mean, deviation) = try StandardizedInputKernel.channelStatistics(train.inputs)
        let kernel = try StandardizedInputKernel(base: FullyConnectedReLUKernel.notebook, mean: mean, standardDeviation: deviation)
        let features = try EigenFeatures.decompose(kernel: kernel, inputs: train.inputs, labels: train.labels, task: task)
        var rng = Xoshiro256(seed: 0)
        let expected = try features.evaluate(features: 1...4, images: test.inputs, labels: test.labels,
                                             attacks: [.fgsm(epsilon: 0.05)], rng: &rng)
        let rows = try XCTUnwrap(results["features"] as? [[String: Any]])
        for (row, e) in zip(rows, expected) {
            assertClose(row["eigenvalue"], e.eigenvalue)
            assertClose(row["usefulness"], e.cleanAccuracy)
            assertClose((row["robustness"] as? [String: Double])?["fgsm_eps_0.05"], e.robustAccuracy)
        }
        assertClose(results["fullPredictorCleanAccuracy"], try features.fullPredictor().accuracy(test.inputs, labels: test.labels))
    }

    /// An MNIST folder whose training images repeat (a singular Gram matrix) and whose test images are
    /// `testSide` × `testSide`.
    func mnistFolder(repeating: Bool, testSide: Int = 28) throws -> String {
        let folder = TangentProcess.temporaryFolder(for: self, prefix: "tangent-features-data")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        func write(_ name: String, _ data: Data) throws { try data.write(to: URL(fileURLWithPath: folder + "/" + name)) }
        let image = 28 * 28
        var pixels: [UInt8] = []
        for i in 0..<40 {
            let source = repeating ? i % 20 : i                      // images 20…39 repeat images 0…19
            pixels += (0..<image).map { UInt8((source * 37 + $0 * (source + 3)) % 251) }
        }
        try write("train-images-idx3-ubyte", AuditReproductionTests.idx([40, 28, 28], pixels))
        try write("train-labels-idx1-ubyte", AuditReproductionTests.idx([40], (0..<40).map { UInt8($0 % 2) }))
        try write("t10k-images-idx3-ubyte", AuditReproductionTests.idx([10, testSide, testSide],
                                                                         (0..<(10 * testSide * testSide)).map { UInt8($0 % 241) }))
        try write("t10k-labels-idx1-ubyte", AuditReproductionTests.idx([10], (0..<10).map { UInt8($0 % 2) }))
        return folder
    }

    func testZeroEigenvaluesAndImagesOfAnotherShapeAreReportedWithoutWritingResults() throws {
        let root = TangentProcess.temporaryFolder(for: self, prefix: "tangent-features-singular")
        let repeated = try mnistFolder(repeating: true)
        let base = ["features", "evaluate", "--data-dir", repeated, "--task", "binary:0,1", "--train", "40", "--test", "10",
                    "--eps", "0.1", "--grid", "1-2"]
        // 20 distinct images: features 21…40 have zero eigenvalues.
        let singular = try TangentProcess.run(base + ["--features", "1-3,38-40", "--out", root + "/singular"])
        XCTAssertNotEqual(singular.status, 0)
        XCTAssertTrue(singular.output.contains("--features: features 38 (λ = "), singular.output)
        XCTAssertTrue(singular.output.contains("at most the rounding threshold"), singular.output)
        XCTAssertTrue(singular.output.contains("add --ridge"), singular.output)
        XCTAssertFalse(singular.output.contains("Fatal error"), singular.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/singular"))
        // The features with positive eigenvalues are evaluated; the full predictor is reported as undefined.
        let positive = try TangentProcess.run(base + ["--features", "1-5", "--out", root + "/positive"])
        XCTAssertEqual(positive.status, 0, positive.output)
        XCTAssertTrue(positive.output.contains("full predictor: not defined"), positive.output)
        let results = try KernelCommandTests.json(root + "/positive/features.json")
        XCTAssertNil(results["fullPredictorCleanAccuracy"] as? Double)
        // A ridge makes every feature defined.
        let ridged = try TangentProcess.run(base + ["--features", "38-40", "--ridge", "0.01", "--out", root + "/ridged"])
        XCTAssertEqual(ridged.status, 0, ridged.output)
        // select needs the full predictor (the full kernel's attack): refused with the reason.
        let select = try TangentProcess.run(["features", "select", "--data-dir", repeated, "--task", "binary:0,1", "--train", "40",
                                             "--test", "5", "--validation", "5", "--candidates", "1-10", "--keep", "2",
                                             "--eps", "0.1", "--out", root + "/select"])
        XCTAssertNotEqual(select.status, 0)
        XCTAssertTrue(select.output.lowercased().contains("ridge"), select.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/select"))

        // Test images of another size than the training images: refused by shape.
        let smaller = try mnistFolder(repeating: false, testSide: 20)
        let shapes = try TangentProcess.run(["features", "evaluate", "--data-dir", smaller, "--task", "binary:0,1", "--train", "40",
                                             "--test", "10", "--features", "1-3", "--eps", "0.1", "--out", root + "/shapes"])
        XCTAssertNotEqual(shapes.status, 0)
        XCTAssertTrue(shapes.output.contains("[10, 1, 20, 20]") && shapes.output.contains("[40, 1, 28, 28]"), shapes.output)
        XCTAssertFalse(shapes.output.contains("Fatal error"), shapes.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/shapes"))
    }

    func testBadOptionsAreRefusedBeforeAnythingIsWritten() throws {
        let root = TangentProcess.temporaryFolder(for: self, prefix: "tangent-features-bad")
        let out = root + "/out"
        let small = ["--task", "binary:3,5", "--train", "50", "--test", "10"]
        let cases: [([String], String)] = [
            (["evaluate", "--features", "1-60"] + small, "--features: feature 51 does not exist: --train 50 gives features 1…50"),
            (["evaluate", "--grid", "49-51"] + small, "--grid: feature 51 does not exist"),
            (["evaluate", "--features", "0-3"] + small, "'0-3' is not a number or range"),
            (["evaluate", "--features", "5-3"] + small, "the range '5-3' runs backwards"),
            (["evaluate", "--features", "1-10,4"] + small, "--features: 4 is listed twice"),
            (["evaluate", "--features", "1-10/0"] + small, "'1-10/0' is not a number or range"),
            (["evaluate", "--features", "a"] + small, "'a' is not a number or range"),
            (["evaluate", "--features", "1-99999999999"] + small, "is more features than a kernel machine here can have"),
            (["evaluate", "--image", "10"] + small, "--image 10: the test images are numbered 0…9"),
            (["evaluate", "--scatter-k", "0"] + small, "--scatter-k must be at least 1"),
            (["evaluate", "--upscale", "0"] + small, "--upscale must be in 1–64"),
            (["evaluate", "--eps", ""] + small, "--eps needs at least one value"),
            (["evaluate", "--attack", "fgsm,nope"] + small, "'nope' is not an attack"),
            (["evaluate", "--pick", "random"] + small, "--pick takes first, per-class, shuffled"),
            (["evaluate", "--eigenpairs", "0"] + small, "--eigenpairs takes all or a whole number of eigenpairs from 1, not '0'"),
            (["evaluate", "--eigenpairs", "some"] + small, "--eigenpairs takes all or a whole number"),
            (["evaluate", "--eigenpairs", "51"] + small, "--eigenpairs 51: the Gram matrix of --train 50 images has 50 eigenpairs"),
            (["evaluate", "--eigenpairs", "20", "--features", "1-30"] + small, "--features: feature 21 is above --eigenpairs 20: only the top 20 eigenpairs are computed"),
            (["evaluate", "--eigenpairs", "8", "--grid", "1-9"] + small, "--grid: feature 9 is above --eigenpairs 8"),
            (["evaluate", "--eigenpairs", "20", "--features", "1-10", "--grid", "1-4", "--gradient-shares"] + small,
             "--gradient-shares splits the full predictor's gradient, which needs every eigenpair"),
            (["evaluate", "--features", "1-10", "--attacked", "12"] + small, "--attacked: feature 12 is not among the evaluated --features"),
            (["select", "--keep", "1,60"] + small, "--keep 60: only 50 candidate features are ranked (--train 50)"),
            (["select", "--candidates", "1-10", "--keep", "20"] + small, "--keep 20: only 10 candidate features are ranked (--candidates)"),
            (["select", "--candidates", "40-60"] + small, "--candidates: feature 51 does not exist"),
            (["select", "--attack", "fgsm,pgd"] + small, "select ranks the features by one attack at one ε"),
            (["select", "--eps", "0.1,0.2"] + small, "select ranks the features by one attack at one ε"),
            (["select", "--validation", "0"] + small, "--validation must be positive"),
            (["select", "--validation", "2000"] + small, "2010 were asked for"),
            (["compare", "--against", "fc1"] + small, "--against fc1 is the --kernel itself"),
            (["compare", "--against", "rbf"] + small, "--kernel takes fc1"),
            (["compare", "--against", "fc:2", "--top", "51"] + small, "--top: feature 51 does not exist"),
            (["compare", "--against", "empirical-init:cifar-cnn"] + small, "--against empirical-init:cifar-cnn: model cifar-cnn does not take mnist images"),
            (["compare"] + small, "Missing expected argument '--against <kernel>'"),
        ]
        for (options, message) in cases {
            let run = try TangentProcess.run(["features"] + options + ["--out", out])
            XCTAssertNotEqual(run.status, 0, "\(options) was accepted")
            XCTAssertTrue(run.output.contains(message), "\(options): expected '\(message)' in\n\(run.output)")
            XCTAssertFalse(run.output.contains("Fatal error"), "\(options) trapped:\n\(run.output)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: out), "\(options): \(out) was written")
        }
    }
}
