import Autodiff
import Datasets
import Foundation
import Kernels
import KernelMachines
import Robustness
import XCTest

/// Eigen-features from the top K eigenpairs only (block Krylov) against the complete decomposition, on
/// the notebook's FC-1 kernel of embedded MNIST images, and the refusal of everything beyond K.
final class TopEigenFeatureTests: XCTestCase {
    /// The first `count` training images of the embedded sample from `start`, `[count, 1, 28, 28]`.
    func images(_ data: ImageDataset, from start: Int = 0, count: Int) -> (images: Tensor, labels: [Int32]) {
        let subset = data.subset(indices: Array(start..<(start + count)))
        return (Tensor(shape: [count, 1, 28, 28], scalars: subset.images), subset.labels)
    }

    func testTheFC1KernelsTopEigenpairsMatchLAPACKInDoubleAndFloat() throws {
        let sample = try MNISTLoader.embeddedSample()
        let x = images(sample.train, count: 300).images
        let gram = try FullyConnectedReLUKernel.notebook.matrix(x, x)
        let n = gram.rows, k = 40
        let settings = BlockKrylovSettings(oversampling: 7, depth: 3)
        let found = try SymmetricEigen.blockKrylov(largest: k, of: gram.values, dimension: n, settings: settings)
        let double = try SymmetricEigen.decompose(gram.values, dimension: n)
        let single = try SymmetricEigen.decompose(gram.values.map { Float($0) }, dimension: n)
        for j in 0..<k {
            let value = found.decomposition.values[j]
            // Relative to λ_j itself (the spectrum falls by three orders of magnitude over the 40).
            XCTAssertEqual(value, double.values[j], accuracy: 1e-6 * double.values[j], "eigenvalue \(j + 1) against dsyevd")
            XCTAssertEqual(value, Double(single.values[j]), accuracy: 1e-4 * Double(single.values[j]), "eigenvalue \(j + 1) against ssyevd")
            XCTAssertLessThanOrEqual(found.report.residualNorms[j], settings.tolerance * value)
        }
        XCTAssertGreaterThan(double.values[0] / double.values[k - 1], 100, "a decaying spectrum (else the test is weak)")
        // Eigenspaces: the top-k spaces for k where the spectrum has a gap, by principal angles.
        let top = try Float64Matrix(rows: k, columns: n, values: found.decomposition.vectors)
        let reference = try Float64Matrix(rows: k, columns: n, values: Array(double.vectors[0..<(k * n)]))
        for m in 1...k where (double.values[m - 1] - double.values[m]) / double.values[m - 1] > 0.01 {
            let a = try Float64Matrix(rows: m, columns: n, values: Array(top.values[0..<(m * n)]))
            let b = try Float64Matrix(rows: m, columns: n, values: Array(reference.values[0..<(m * n)]))
            let smallest = try XCTUnwrap(EigenspaceComparison(basis: a, basis: b).cosines.last)
            XCTAssertGreaterThan(smallest, 1 - 1e-8, "top-\(m) eigenspace")
        }
    }

    func testTopFeaturesEqualTheCompleteDecompositionsFeatures() throws {
        let sample = try MNISTLoader.embeddedSample()
        let train = images(sample.train, count: 240), test = images(sample.test, count: 50)
        let task = KernelTask.multiclass(classes: 10)
        let kernel = FullyConnectedReLUKernel.notebook
        let complete = try EigenFeatures.decompose(kernel: kernel, inputs: train.images, labels: train.labels, task: task)
        let k = 30
        let top = try EigenFeatures.decompose(kernel: kernel, inputs: train.images, labels: train.labels, task: task,
                                              decomposition: .top(k, settings: BlockKrylovSettings(tolerance: 1e-10)))
        XCTAssertEqual(top.count, 240)
        XCTAssertEqual(top.computedCount, k)
        XCTAssertEqual(top.computed, Array(1...k))
        XCTAssertFalse(top.isComplete)
        XCTAssertTrue(complete.isComplete)
        XCTAssertEqual(top.solution.decomposition, .top(k, settings: BlockKrylovSettings(tolerance: 1e-10)))
        let report = try XCTUnwrap(top.solution.blockKrylovReport)
        XCTAssertLessThanOrEqual(report.largestRelativeResidual(values: top.eigenvalues), 1e-10)
        XCTAssertNil(complete.solution.blockKrylovReport)
        for j in 0..<k { XCTAssertEqual(top.eigenvalues[j], complete.eigenvalues[j], accuracy: 1e-10 * complete.eigenvalues[j]) }

        // f_j does not depend on the eigenvector's sign: features separated from their neighbours agree.
        let separated = (1...k).filter { j in
            let lambda = complete.eigenvalues
            let below = (lambda[j - 1] - lambda[j]) / lambda[j - 1]
            let above = j > 1 ? (lambda[j - 2] - lambda[j - 1]) / lambda[j - 2] : 1
            return min(below, above) > 0.01
        }
        XCTAssertGreaterThan(separated.count, 10)
        let fromTop = try top.outputs(test.images, features: separated)
        let fromComplete = try complete.outputs(test.images, features: separated)
        for (j, (a, b)) in zip(separated, zip(fromTop, fromComplete)) {
            XCTAssertLessThan(maxRelativeDifference(a.values, b.values), 1e-6, "feature \(j)")
        }
        XCTAssertEqual(try top.cleanAccuracies(features: separated, images: test.images, labels: test.labels),
                       try complete.cleanAccuracies(features: separated, images: test.images, labels: test.labels))
        // The sum of all K features is the same predictor either way (the top-K space is well separated).
        XCTAssertGreaterThan((complete.eigenvalues[k - 1] - complete.eigenvalues[k]) / complete.eigenvalues[k - 1], 1e-3)
        let sumTop = try top.predictor(features: 1...k).outputs(test.images)
        let sumComplete = try complete.predictor(features: 1...k).outputs(test.images)
        XCTAssertLessThan(maxRelativeDifference(sumTop.values, sumComplete.values), 1e-6)
        // Robustness is measured the same way (FGSM on the feature itself).
        var rngTop = Xoshiro256(seed: 3), rngComplete = Xoshiro256(seed: 3)
        let attack = [AttackKind.fgsm(epsilon: 0.1)]
        let robustTop = try top.evaluate(features: [1, 2], images: test.images, labels: test.labels, attacks: attack, rng: &rngTop)
        let robustComplete = try complete.evaluate(features: [1, 2], images: test.images, labels: test.labels, attacks: attack,
                                                   rng: &rngComplete)
        XCTAssertEqual(robustTop.map(\.robustAccuracy), robustComplete.map(\.robustAccuracy))

        // At a finite time too.
        let early = try EigenFeatures(top.solution, time: 2), earlyComplete = try EigenFeatures(complete.solution, time: 2)
        let first = separated[0]
        XCTAssertLessThan(maxRelativeDifference(try early.outputs(test.images, features: [first])[0].values,
                                                try earlyComplete.outputs(test.images, features: [first])[0].values), 1e-6)
    }

    func testFeaturesBeyondTheComputedOnesAreRefused() throws {
        let sample = try MNISTLoader.embeddedSample()
        let train = images(sample.train, count: 80), test = images(sample.test, count: 10)
        let task = KernelTask.multiclass(classes: 10)
        let features = try EigenFeatures.decompose(kernel: FullyConnectedReLUKernel.notebook, inputs: train.images,
                                                   labels: train.labels, task: task, decomposition: .top(12))
        func expect<E: Error & Equatable>(_ error: E, mentioning text: String, _ body: () throws -> Void, line: UInt = #line) {
            XCTAssertThrowsError(try body(), line: line) { thrown in
                XCTAssertEqual(thrown as? E, error, "\(thrown)", line: line)
                XCTAssertTrue("\(thrown)".contains(text), "\(thrown)", line: line)
            }
        }
        let notComputed = EigenFeatureError.featureNotComputed(feature: 13, computed: 12, count: 80)
        expect(notComputed, mentioning: "feature 13 was not computed: only the top 12 of the 80") {
            _ = try features.predictor(feature: 13)
        }
        expect(notComputed, mentioning: "top 12") { _ = try features.outputs(test.images, features: [1, 13]) }
        expect(notComputed, mentioning: "top 12") { _ = try features.eigenvector(13) }
        expect(notComputed, mentioning: "top 12") {
            _ = try features.cleanAccuracies(features: 1...13, images: test.images, labels: test.labels)
        }
        // Beyond N it is still "does not exist".
        expect(EigenFeatureError.featureOutOfRange(feature: 81, count: 80), mentioning: "does not exist") {
            _ = try features.predictor(feature: 81)
        }
        let incomplete = KernelPredictorError.incompleteDecomposition(computed: 12, samples: 80)
        expect(incomplete, mentioning: "only the top 12 were computed") { _ = try features.fullPredictor() }
        expect(incomplete, mentioning: "80×80") { _ = try features.solution.weights(atTime: 3) }
        expect(incomplete, mentioning: "80×80") { _ = try features.solution.trainingOutputs(atTime: .infinity) }
        expect(incomplete, mentioning: "80×80") {
            _ = try features.gradientDecomposition(at: test.images, labels: test.labels, features: [1, 2])
        }
        var rng = Xoshiro256(seed: 0)
        expect(incomplete, mentioning: "80×80") {
            _ = try RobustFeatureSelection.run(features: features, candidates: [1, 2, 3], validation: test, test: test,
                                               counts: [1], attack: .fgsm(epsilon: 0.1), rng: &rng)
        }
        let complete = try EigenFeatures.decompose(kernel: FullyConnectedReLUKernel.notebook, inputs: train.images,
                                                   labels: train.labels, task: task)
        expect(EigenFeatureError.featureNotComputed(feature: 20, computed: 12, count: 80), mentioning: "feature 20") {
            _ = try EigenspaceComparison(complete, features, top: 20)
        }
        XCTAssertEqual(try EigenspaceComparison(complete, features, top: 12).cosines.count, 12)
        // K outside 1…N, and bad solver settings.
        for k in [0, 81] {
            expect(KernelPredictorError.invalidSetting(name: "number of eigenpairs", value: Double(k),
                                                       requirement: "in 1…80 (one per training input)"),
                   mentioning: "number of eigenpairs") {
                _ = try EigenFeatures.decompose(kernel: FullyConnectedReLUKernel.notebook, inputs: train.images,
                                                labels: train.labels, task: task, decomposition: .top(k))
            }
        }
        expect(SymmetricEigenError.invalidSetting(name: "depth", value: 0, requirement: "at least 1"), mentioning: "depth") {
            _ = try EigenFeatures.decompose(kernel: FullyConnectedReLUKernel.notebook, inputs: train.images, labels: train.labels,
                                            task: task, decomposition: .top(5, settings: BlockKrylovSettings(depth: 0)))
        }
    }

    func testTopNIsCompleteAndTheMemoryEstimateIsTheGramMatrixPlusABasis() throws {
        let sample = try MNISTLoader.embeddedSample()
        let train = images(sample.train, count: 40), test = images(sample.test, count: 10)
        let task = KernelTask.binary(negative: 3, positive: 5)
        let labels = train.labels.map { $0 % 2 == 0 ? Int32(3) : Int32(5) }
        let all = try EigenFeatures.decompose(kernel: FullyConnectedReLUKernel.notebook, inputs: train.images, labels: labels,
                                              task: task, decomposition: .top(40))
        XCTAssertTrue(all.isComplete)
        let reference = try KernelRegression.fit(kernel: FullyConnectedReLUKernel.notebook, inputs: train.images, labels: labels,
                                                 task: task)
        XCTAssertLessThan(maxRelativeDifference(try all.fullPredictor().outputs(test.images).values,
                                                try reference.outputs(test.images).values), 1e-6)

        let n = 10_000, settings = BlockKrylovSettings()
        let top = KernelRegression.requiredBytes(samples: n, features: 784, outputs: 10,
                                                 method: .topEigenpairs(count: 100, settings: settings))
        let full = KernelRegression.requiredBytes(samples: n, features: 784, outputs: 10, method: .eigendecomposition)
        let cholesky = KernelRegression.requiredBytes(samples: n, features: 784, outputs: 10, method: .cholesky)
        XCTAssertEqual(top - cholesky, settings.workingBytes(count: 100, dimension: n))
        XCTAssertLessThan(Double(top), 0.4 * Double(full))
        XCTAssertThrowsError(try EigenFeatures.decompose(kernel: FullyConnectedReLUKernel.notebook, inputs: train.images,
                                                         labels: labels, task: task, decomposition: .top(5),
                                                         memoryBudgetBytes: 40 * 40 * 8)) {
            guard case .exceedsMemoryBudget? = $0 as? KernelPredictorError else { return XCTFail("\($0)") }
        }
    }
}
