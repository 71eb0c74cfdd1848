import Autodiff
import Kernels
import KernelMachines
import NN
import NTK
import XCTest

/// The empirical NTK as a kernel: its matrix against the brute-force Jacobian, its JVP products and
/// their reverse-over-forward input gradients against the materialised kernel and central differences.
final class EmpiricalKernelTests: XCTestCase {
    /// Θ(X₁, X₂) = (1/C) Σ_c J_c(X₁) J_c(X₂)ᵀ from the explicit Jacobian.
    func bruteForce(_ model: Module, _ x1: Tensor, _ x2: Tensor) throws -> [Double] {
        let n1 = x1.shape[0], n2 = x2.shape[0]
        let both = try concatenate([x1, x2], alongAxis: 0)
        let traced = try EmpiricalNTK.bruteForce(model, inputs: both, kind: .traced)
        let classes = Double(try model(x1).shape[1])
        var out = [Double]()
        for i in 0..<n1 { for j in 0..<n2 { out.append(Double(traced.values[i * (n1 + n2) + n1 + j]) / classes) } }
        return out
    }

    func testMatrixIsTheClassMeanOfTheBruteForceKernel() throws {
        for (model, x1, x2) in [(tanhNetwork(features: 5, outputs: 3, seed: 1) as Module, randomTensor([4, 5], seed: 2), randomTensor([3, 5], seed: 3)),
                                (convNetwork(outputs: 2, seed: 4), uniformInputs([3, 1, 4, 4], seed: 5), uniformInputs([2, 1, 4, 4], seed: 6))] {
            let kernel = try EmpiricalNTKKernel(model: model)
            XCTAssertLessThan(maxRelativeDifference(try kernel.matrix(x1, x2).values, try bruteForce(model, x1, x2)), 1e-5)
            // One batch against itself takes the engine's symmetric path; a copy takes the cross path.
            let gram = try kernel.matrix(x1, x1).values
            XCTAssertLessThan(maxRelativeDifference(gram, try bruteForce(model, x1, x1)), 1e-5)
            XCTAssertLessThan(maxRelativeDifference(gram, try kernel.matrix(x1, Tensor(shape: x1.shape, scalars: x1.scalars)).values), 1e-6)
        }
    }

    /// A budget too small for the whole batch splits it into blocks of samples (diagonal blocks by the
    /// symmetric path, the others by cross kernels, mirrored for a Gram matrix): the same matrix.
    func testBlocksUnderATightBudgetGiveTheSameMatrix() throws {
        let model = convNetwork(outputs: 2, seed: 40)
        let x1 = uniformInputs([7, 1, 4, 4], seed: 41), x2 = uniformInputs([5, 1, 4, 4], seed: 42)
        let whole = try EmpiricalNTKKernel(model: model)
        let options = EmpiricalNTK.Options(kind: .traced)
        let single = try EmpiricalNTK.largestBlock(model, inputs: x1, options: options)
        XCTAssertEqual(single, 7)
        // The smallest budget that still fits blocks of two samples.
        var budget = 1 << 20
        while (try? EmpiricalNTK.largestBlock(model, inputs: x1, options: .init(kind: .traced, memoryBudgetBytes: budget / 2))) ?? 0 >= 2 {
            budget /= 2
        }
        XCTAssertLessThan(try EmpiricalNTK.largestBlock(model, inputs: x1, options: .init(kind: .traced, memoryBudgetBytes: budget)), 7)
        let blocked = try EmpiricalNTKKernel(model: model, memoryBudgetBytes: budget)
        for (a, b) in [(x1, x1), (x1, x2), (x2, x1)] {
            let reference = try whole.matrix(a, b).values
            XCTAssertLessThan(maxRelativeDifference(try blocked.matrix(a, b).values, reference), 1e-6)
        }
        let gram = try blocked.matrix(x1, x1)
        for i in 0..<7 { for j in 0..<7 { XCTAssertEqual(gram[i, j], gram[j, i]) } }
        XCTAssertThrowsError(try EmpiricalNTK.largestBlock(model, inputs: x1, options: .init(kind: .traced, memoryBudgetBytes: 100))) {
            XCTAssertTrue("\($0)".contains("one sample"), "\($0)")
        }
    }

    func testProductByJVPsEqualsTheMaterialisedKernelTimesWeights() throws {
        for (model, x1, x2) in [(tanhNetwork(features: 5, outputs: 3, seed: 7) as Module, randomTensor([4, 5], seed: 8), randomTensor([6, 5], seed: 9)),
                                (convNetwork(outputs: 2, seed: 10), uniformInputs([3, 1, 4, 4], seed: 11), uniformInputs([5, 1, 4, 4], seed: 12))] {
            // Small batches force the X₂ fold and the JVPs at X₁ through several chunks.
            let kernel = try EmpiricalNTKKernel(model: model, batchSize: 2)
            let w = randomMatrix(rows: x2.shape[0], columns: 2, seed: 13)
            let viaJVP = try kernel.product(x1, x2, weights: w)
            let materialised = naiveProduct(try kernel.matrix(x1, x2), w)
            XCTAssertLessThan(maxRelativeDifference(viaJVP.values, materialised.values), 1e-5)
        }
    }

    func testProductInputGradientAgainstTheMaterialisedPathAndCentralDifferences() throws {
        let model = tanhNetwork(features: 4, outputs: 3, seed: 14)
        let kernel = try EmpiricalNTKKernel(model: model, batchSize: 3)
        let x1 = randomTensor([3, 4], seed: 15), x2 = randomTensor([5, 4], seed: 16)
        let w = randomMatrix(rows: 5, columns: 2, seed: 17), g = randomMatrix(rows: 3, columns: 2, seed: 18)
        let reverseOverForward = try kernel.productInputGradient(x1, x2, weights: w, cotangent: g).scalars.map(Double.init)
        // The materialised path: the kernel's own input gradient with the cotangent G Wᵀ.
        let materialised = try kernel.inputGradient(x1, x2, cotangent: naiveProduct(g, w.transposed)).scalars.map(Double.init)
        XCTAssertLessThan(maxRelativeDifference(reverseOverForward, materialised), 1e-5)
        // Central differences of Σ G ∘ (Θ(x, X) W) through the NTK engine's matrix (Float32 network:
        // a step of 1/64 balances truncation and rounding).
        let numeric = try centralDifferences(kernel, x1, x2, naiveProduct(g, w.transposed), h: 1.0 / 64)
        XCTAssertLessThan(maxRelativeDifference(reverseOverForward, numeric), 2e-3)
        XCTAssertGreaterThan(numeric.map(abs).max() ?? 0, 1e-3)
    }

    func testConvolutionalProductGradientMatchesTheMaterialisedPath() throws {
        let model = convNetwork(outputs: 2, seed: 19)
        let kernel = try EmpiricalNTKKernel(model: model)
        let x1 = uniformInputs([2, 1, 4, 4], seed: 20), x2 = uniformInputs([3, 1, 4, 4], seed: 21)
        let w = randomMatrix(rows: 3, columns: 1, seed: 22), g = randomMatrix(rows: 2, columns: 1, seed: 23)
        let a = try kernel.productInputGradient(x1, x2, weights: w, cotangent: g).scalars.map(Double.init)
        let b = try kernel.inputGradient(x1, x2, cotangent: naiveProduct(g, w.transposed)).scalars.map(Double.init)
        XCTAssertLessThan(maxRelativeDifference(a, b), 1e-5)
        XCTAssertGreaterThan(a.map(abs).max() ?? 0, 0)
    }

    func testKernelIsTakenAtItsSnapshotAndALinearizedModelGivesItsAnchorKernel() throws {
        let model = tanhNetwork(features: 3, outputs: 2, seed: 24)
        let x = randomTensor([3, 3], seed: 25)
        let kernel = try EmpiricalNTKKernel(model: model)
        let before = try kernel.matrix(x, x)
        let linearized = LinearizedModel(network: model)
        // Move the live parameters: the kernel keeps its snapshot and the network gets its values back.
        for p in model.trainableParameters { p.parameter.value = p.parameter.value.scaled(by: 1.5) }
        let live = model.parameterValues()
        XCTAssertEqual(try kernel.matrix(x, x), before)
        XCTAssertEqual(try linearizedKernel(linearized).matrix(x, x), before)
        for (name, value) in model.parameterValues() { XCTAssertEqual(value.scalars, live[name]!.scalars) }
        XCTAssertNotEqual(try EmpiricalNTKKernel(model: model).matrix(x, x), before)
    }

    func linearizedKernel(_ model: LinearizedModel) throws -> EmpiricalNTKKernel { try EmpiricalNTKKernel(model: model) }

    func testBadInputsAreRefusedNamingTheShapes() throws {
        let kernel = try EmpiricalNTKKernel(model: tanhNetwork(features: 4, outputs: 2, seed: 26))
        let x1 = randomTensor([2, 4], seed: 27), x2 = randomTensor([3, 5], seed: 28)
        assertThrows(.incompatibleShapes(first: [2, 4], second: [3, 5]), mentions: ["[2, 4]", "[3, 5]"],
                     try kernel.product(x1, x2, weights: randomMatrix(rows: 3, columns: 1, seed: 29)))
        assertThrows(.incompatibleShapes(first: [2, 4], second: [3, 5]), try kernel.matrix(x1, x2))
        assertThrows(.matrixShape(argument: "weights", expected: [2, 1], got: [3, 1]),
                     try kernel.product(x1, x1, weights: randomMatrix(rows: 3, columns: 1, seed: 30)))
        XCTAssertThrowsError(try EmpiricalNTKKernel(model: tanhNetwork(features: 4, outputs: 2, seed: 26), parameters: [:]))
        assertPredictorError(try EmpiricalNTKKernel(model: tanhNetwork(features: 4, outputs: 2, seed: 26), batchSize: 0)) {
            if case .invalidSetting(name: "batch size", _, _) = $0 { return true } else { return false }
        }
    }

    func testTheParameterSpaceVectorsRespectTheMemoryBudget() throws {
        let model = tanhNetwork(features: 4, outputs: 3, seed: 31)
        // 4·(35 + 56 + 24) = 460 bytes per vector; 2 columns × 3 classes need 2,760.
        let kernel = try EmpiricalNTKKernel(model: model, memoryBudgetBytes: 2_000)
        let x = randomTensor([2, 4], seed: 32)
        assertPredictorError(try kernel.product(x, x, weights: randomMatrix(rows: 2, columns: 2, seed: 33)),
                             mentions: ["parameter-space vectors", "MB"]) {
            if case .exceedsMemoryBudget(neededBytes: 2_760, budgetBytes: 2_000, _) = $0 { return true } else { return false }
        }
    }

    /// Rank-r dual weights given as factors and coefficients give the predictor of their product, by the
    /// cheaper path (r columns folded into the parameter-space vectors) — outputs and input gradients alike.
    func testFactoredWeightsGiveThePredictorOfTheirProduct() throws {
        let model = tanhNetwork(features: 4, outputs: 3, seed: 19)
        let task = KernelTask.multiclass(classes: 3)
        let x = randomTensor([5, 4], seed: 20), queries = randomTensor([4, 4], seed: 21)
        let analytic = try FullyConnectedReLUKernel(depth: 1, weightStd: 1.5, biasStd: 0.1)
        for kernel in [try EmpiricalNTKKernel(model: model, batchSize: 2) as KernelFunction, analytic] {
            for rank in [1, 2, 3] {
                let factors = randomMatrix(rows: 5, columns: rank, seed: 22 + UInt64(rank))
                let coefficients = randomMatrix(rows: rank, columns: 3, seed: 30 + UInt64(rank))
                let factored = try KernelPredictor(kernel: kernel, trainingInputs: x, factors: factors,
                                                   coefficients: coefficients, task: task)
                let plain = try KernelPredictor(kernel: kernel, trainingInputs: x,
                                                weights: naiveProduct(factors, coefficients), task: task)
                XCTAssertLessThan(maxRelativeDifference(factored.weights.values, plain.weights.values), 1e-12)
                XCTAssertLessThan(maxRelativeDifference(try factored.outputs(queries).values, try plain.outputs(queries).values), 1e-5)
                let g = randomMatrix(rows: 4, columns: 3, seed: 40 + UInt64(rank))
                let a = try factored.outputsInputGradient(queries, cotangent: g).scalars.map(Double.init)
                let b = try plain.outputsInputGradient(queries, cotangent: g).scalars.map(Double.init)
                XCTAssertLessThan(maxRelativeDifference(a, b), 1e-5)
                XCTAssertGreaterThan(b.map(abs).max() ?? 0, 1e-4)
            }
        }
        assertPredictorError(try KernelPredictor(kernel: analytic, trainingInputs: x, factors: randomMatrix(rows: 5, columns: 1, seed: 1),
                                                 coefficients: randomMatrix(rows: 2, columns: 3, seed: 2), task: task),
                             mentions: ["2", "3"]) {
            if case .weightsShape = $0 { return true }
            return false
        }
    }
}
