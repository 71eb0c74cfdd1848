import Autodiff
import Kernels
import KernelMachines
import XCTest

/// Kernel regression by Cholesky and the gradient-flow predictor against naive twins: an explicit
/// inverse, and a Runge–Kutta integration of the flow.
final class KernelRegressionTests: XCTestCase {
    let kernel = FullyConnectedReLUKernel.notebook
    let x = uniformInputs([10, 6], seed: 1), test = uniformInputs([4, 6], seed: 2)
    let binaryLabels: [Int32] = [3, 5, 5, 3, 3, 5, 3, 5, 5, 3]
    let classLabels: [Int32] = [0, 1, 2, 2, 1, 0, 0, 2, 1, 1]

    /// Θ(x, X) (Θ(X, X) + λI)⁻¹ Y with an explicit inverse.
    func naivePrediction(_ task: KernelTask, labels: [Int32], ridge: Double = 0) throws -> Float64Matrix {
        var gram = try kernel.matrix(x, x)
        for i in 0..<gram.rows { gram[i, i] += ridge }
        return naiveProduct(try kernel.matrix(test, x), naiveProduct(naiveInverse(gram), try task.targets(for: labels)))
    }

    func testCholeskyFitMatchesTheExplicitInverse() throws {
        for (task, labels) in [(KernelTask.binary(negative: 3, positive: 5), binaryLabels), (.multiclass(classes: 3), classLabels)] {
            for ridge in [0.0, 0.5] {
                let predictor = try KernelRegression.fit(kernel: kernel, inputs: x, labels: labels, task: task, ridge: ridge)
                let expected = try naivePrediction(task, labels: labels, ridge: ridge)
                XCTAssertLessThan(maxRelativeDifference(try predictor.outputs(test).values, expected.values), 1e-9, "\(task) ridge \(ridge)")
                XCTAssertEqual(predictor.weights.columns, task.outputs)
                let pivot = try XCTUnwrap(predictor.smallestPivot)
                XCTAssertGreaterThan(pivot.value, 0)
            }
            // Without a ridge the predictor interpolates its training set.
            let fitted = try KernelRegression.fit(kernel: kernel, inputs: x, labels: labels, task: task)
            XCTAssertLessThan(maxRelativeDifference(try fitted.outputs(x).values, try task.targets(for: labels).values), 1e-8)
            XCTAssertEqual(try fitted.accuracy(x, labels: labels), 1)
        }
    }

    func testBinaryTargetsAndPredictionsFollowTheClassOrder() throws {
        let task = try KernelTask.binary(classes: [5, 3])
        XCTAssertEqual(try task.targets(for: [5, 3, 3]).values, [-1, 1, 1])
        let scores = try Float64Matrix(rows: 3, columns: 1, values: [0.2, -0.1, 0])
        XCTAssertEqual(task.predictions(from: scores), [3, 5, 5])
        XCTAssertEqual(try KernelTask.multiclass(classes: 3).targets(for: [2, 0]).values, [0, 0, 1, 1, 0, 0])
    }

    func testANonPositiveDefiniteGramMatrixIsRefusedNamingItsPivot() throws {
        // [[1, 2], [2, 1]]: the second pivot is 1 − 2² = −3.
        assertPredictorError(try CholeskySolver.solve(try Float64Matrix(rows: 2, columns: 2, values: [1, 2, 2, 1]),
                                                      Float64Matrix(rows: 2, columns: 1, repeating: 1)),
                             mentions: ["pivot 1", "-3.000e+00"]) {
            $0 == .notPositiveDefinite(index: 1, pivot: -3, threshold: 2 * Double.ulpOfOne, ridge: 0)
        }
        // A repeated training input makes Θ(X, X) singular: refused at the repeat, accepted with a ridge.
        var rows = x.scalars
        rows.replaceSubrange(42..<48, with: rows[6..<12])
        let repeated = Tensor(shape: x.shape, scalars: rows)
        assertPredictorError(try KernelRegression.fit(kernel: kernel, inputs: repeated, labels: binaryLabels,
                                                      task: .binary(negative: 3, positive: 5)),
                             mentions: ["pivot 7", "training sample 7", "ridge"]) {
            if case .notPositiveDefinite(index: 7, _, _, ridge: 0) = $0 { return true } else { return false }
        }
        XCTAssertNoThrow(try KernelRegression.fit(kernel: kernel, inputs: repeated, labels: binaryLabels,
                                                  task: .binary(negative: 3, positive: 5), ridge: 1e-6))
    }

    func testBadTasksLabelsAndSettingsAreRefused() throws {
        assertPredictorError(try KernelTask.binary(classes: [0, 1, 2]), mentions: ["exactly two", "[0, 1, 2]"]) {
            $0 == .binaryTaskClassCount([0, 1, 2])
        }
        assertPredictorError(try KernelTask.binary(classes: [4, 4])) { $0 == .binaryTaskRepeatsClass(4) }
        assertPredictorError(try KernelTask.multiclass(classes: 1 << 40).validate()) { $0 == .multiclassCount(1 << 40) }
        assertPredictorError(try KernelTask.multiclass(classes: 1).targets(for: [0])) { $0 == .multiclassCount(1) }
        assertPredictorError(try KernelRegression.fit(kernel: kernel, inputs: x, labels: classLabels,
                                                      task: .binary(negative: 0, positive: 1)),
                             mentions: ["label 2 of sample 2"]) {
            $0 == .labelOutsideTask(index: 2, label: 2, task: "binary 0 (−1) vs 1 (+1)")
        }
        assertPredictorError(try KernelRegression.fit(kernel: kernel, inputs: x, labels: [0, 1], task: .multiclass(classes: 3))) {
            $0 == .labelCount(labels: 2, samples: 10)
        }
        assertPredictorError(try KernelRegression.fit(kernel: kernel, inputs: x, labels: classLabels,
                                                      task: .multiclass(classes: 3), ridge: -1)) {
            $0 == .invalidSetting(name: "ridge", value: -1, requirement: "finite and not negative")
        }
        assertPredictorError(try KernelRegression.gradientFlow(kernel: kernel, inputs: x, labels: classLabels,
                                                               task: .multiclass(classes: 3), learningRate: 0)) {
            if case .invalidSetting(name: "learning rate", _, _) = $0 { return true } else { return false }
        }
        let predictor = try KernelRegression.fit(kernel: kernel, inputs: x, labels: classLabels, task: .multiclass(classes: 3))
        assertThrows(.incompatibleShapes(first: [2, 5], second: [10, 6]), try predictor.outputs(randomTensor([2, 5], seed: 3)))
    }

    func testAKernelTooLargeForTheBudgetIsRefusedBeforeAnyWork() throws {
        let counting = CountingKernel(kernel)
        let needed = KernelRegression.requiredBytes(samples: 10, features: 6, outputs: 1, method: .cholesky)
        XCTAssertEqual(needed, 8 * 100 + 8 * (2 * 60 + 3 * 10))
        assertPredictorError(try KernelRegression.fit(kernel: counting, inputs: x, labels: binaryLabels,
                                                      task: .binary(negative: 3, positive: 5), memoryBudgetBytes: needed - 1),
                             mentions: ["10 training inputs", "0.0 MB"]) {
            $0 == .exceedsMemoryBudget(neededBytes: needed, budgetBytes: needed - 1,
                                       detail: "kernel regression on 10 training inputs (Gram matrix and Cholesky factor)")
        }
        XCTAssertEqual(counting.matrixCalls, 0)
        let flowNeed = KernelRegression.requiredBytes(samples: 10, features: 6, outputs: 1, method: .eigendecomposition)
        XCTAssertEqual(flowNeed, needed + 3 * 800)
        assertPredictorError(try KernelRegression.gradientFlow(kernel: counting, inputs: x, labels: binaryLabels,
                                                               task: .binary(negative: 3, positive: 5), memoryBudgetBytes: flowNeed - 1)) {
            if case .exceedsMemoryBudget(neededBytes: flowNeed, _, _) = $0 { return true } else { return false }
        }
        XCTAssertEqual(counting.matrixCalls, 0)
        // Sizes too large to count saturate (and are refused) instead of overflowing.
        XCTAssertEqual(KernelRegression.requiredBytes(samples: Int.max / 2, features: 10, outputs: 1, method: .cholesky), Int.max)
        // 10,000 CIFAR images: the Gram matrix alone is 800 MB.
        XCTAssertGreaterThan(KernelRegression.requiredBytes(samples: 10_000, features: 3072, outputs: 1, method: .cholesky), 800_000_000)
    }

    func testGradientFlowStartsAtZeroAndConvergesToTheCholeskyFit() throws {
        for (task, labels) in [(KernelTask.binary(negative: 3, positive: 5), binaryLabels), (.multiclass(classes: 3), classLabels)] {
            let flow = try KernelRegression.gradientFlow(kernel: kernel, inputs: x, labels: labels, task: task,
                                                         ridge: 0.01, learningRate: 0.5)
            let fit = try KernelRegression.fit(kernel: kernel, inputs: x, labels: labels, task: task, ridge: 0.01)
            XCTAssertTrue(try flow.predictor(atTime: 0).outputs(test).values.allSatisfy { $0 == 0 })
            XCTAssertTrue(try flow.trainingOutputs(atTime: 0).values.allSatisfy { $0 == 0 })
            let slowest = try XCTUnwrap(flow.eigenvalues.last)
            let late = 60 / (0.5 * slowest)  // e^{−60} of the slowest direction left
            let expected = try fit.outputs(test).values
            XCTAssertLessThan(maxRelativeDifference(try flow.predictor(atTime: late).outputs(test).values, expected), 1e-9)
            XCTAssertLessThan(maxRelativeDifference(try flow.predictor(atTime: .infinity).outputs(test).values, expected), 1e-9)
            XCTAssertLessThan(maxRelativeDifference(try flow.trainingOutputs(atTime: .infinity).values,
                                                    try task.targets(for: labels).values), 1e-12)
        }
    }

    func testGradientFlowWeightsMatchARungeKuttaIntegration() throws {
        let task = KernelTask.multiclass(classes: 3), eta = 0.3, ridge = 0.1
        let flow = try KernelRegression.gradientFlow(kernel: kernel, inputs: x, labels: classLabels, task: task,
                                                     ridge: ridge, learningRate: eta)
        var gram = try kernel.matrix(x, x)
        for i in 0..<gram.rows { gram[i, i] += ridge }
        let y = try task.targets(for: classLabels)
        // dA/dt = η (Y − Θ A), A(0) = 0, by classical RK4 with a step far below 1/(η λ_max).
        func slope(_ a: Float64Matrix) -> Float64Matrix {
            var s = naiveProduct(gram, a)
            for k in s.values.indices { s.values[k] = eta * (y.values[k] - s.values[k]) }
            return s
        }
        func step(_ a: Float64Matrix, _ d: Float64Matrix, _ h: Double) -> Float64Matrix {
            var out = a
            for k in out.values.indices { out.values[k] += h * d.values[k] }
            return out
        }
        var a = Float64Matrix(rows: 10, columns: 3)
        let h = 0.002, steps = 1500
        for _ in 0..<steps {
            let k1 = slope(a), k2 = slope(step(a, k1, h / 2)), k3 = slope(step(a, k2, h / 2)), k4 = slope(step(a, k3, h))
            for k in a.values.indices {
                a.values[k] += h / 6 * (k1.values[k] + 2 * k2.values[k] + 2 * k3.values[k] + k4.values[k])
            }
        }
        let t = h * Double(steps)
        XCTAssertLessThan(maxRelativeDifference(try flow.weights(atTime: t).values, a.values), 1e-8)
        // The training outputs along the flow are Θ A_t.
        XCTAssertLessThan(maxRelativeDifference(try flow.trainingOutputs(atTime: t).values, naiveProduct(gram, a).values), 1e-8)
        assertPredictorError(try flow.weights(atTime: -1)) {
            if case .invalidSetting(name: "time", _, _) = $0 { return true } else { return false }
        }
    }

    func testGradientFlowRefusesAnIndefiniteKernelAndASingularInfiniteTime() throws {
        let indices = Tensor(shape: [3, 1], scalars: [0, 1, 2])
        let indefinite = FixedMatrixKernel(values: [[1, 2, 0], [2, 1, 0], [0, 0, 1]])
        assertPredictorError(try KernelRegression.gradientFlow(kernel: indefinite, inputs: indices, labels: [0, 1, 0],
                                                               task: .binary(negative: 0, positive: 1)),
                             mentions: ["eigenvalue -1.000e+00"]) {
            if case .notPositiveSemidefinite(eigenvalue: let e, _, _) = $0 { return abs(e + 1) < 1e-12 } else { return false }
        }
        // Rank one: fine at finite times, refused at t = ∞ (and by Cholesky).
        let singular = FixedMatrixKernel(values: [[1, 1, 1], [1, 1, 1], [1, 1, 1]])
        let flow = try KernelRegression.gradientFlow(kernel: singular, inputs: indices, labels: [0, 1, 0],
                                                     task: .binary(negative: 0, positive: 1))
        XCTAssertNoThrow(try flow.predictor(atTime: 10))
        assertPredictorError(try flow.predictor(atTime: .infinity), mentions: ["ridge", "finite time"]) {
            if case .singularAtInfiniteTime = $0 { return true } else { return false }
        }
        assertPredictorError(try KernelRegression.fit(kernel: singular, inputs: indices, labels: [0, 1, 0],
                                                      task: .binary(negative: 0, positive: 1))) {
            if case .notPositiveDefinite(index: 1, _, _, _) = $0 { return true } else { return false }
        }
    }
}
