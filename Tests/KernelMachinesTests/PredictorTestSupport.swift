import Autodiff
import Foundation
import Kernels
import KernelMachines
import NN
import XCTest

/// tanh as a layer: smooth, so central differences of network kernels converge.
final class Tanh: Module {
    func callAsFunction(_ input: Tensor) throws -> Tensor { input.tanh() }
}

/// A dense tanh network `features → hidden → hidden → outputs` with random weights and biases.
func tanhNetwork(features: Int, hidden: Int = 7, outputs: Int, seed: UInt64) -> Sequential {
    func dense(_ i: Int, _ o: Int, _ s: UInt64) -> Dense {
        Dense(weight: randomTensor([o, i], seed: s) { $0.nextNormal() / Double(i).squareRoot() },
              bias: randomTensor([o], seed: s + 100) { 0.3 * $0.nextNormal() })
    }
    return Sequential([("fc1", dense(features, hidden, seed)), ("act1", Tanh()),
                       ("fc2", dense(hidden, hidden, seed + 1)), ("act2", Tanh()),
                       ("fc3", dense(hidden, outputs, seed + 2))])
}

/// A small conv net on `[N, 1, 4, 4]` images: Conv 3×3 (2 channels) → tanh → flatten → dense.
func convNetwork(outputs: Int, seed: UInt64) -> Sequential {
    let conv = Conv2D(weight: randomTensor([2, 1, 3, 3], seed: seed) { $0.nextNormal() / 3 },
                      bias: randomTensor([2], seed: seed + 1) { 0.2 * $0.nextNormal() }, padding: 1)
    let dense = Dense(weight: randomTensor([outputs, 32], seed: seed + 2) { $0.nextNormal() / 32.0.squareRoot() },
                      bias: randomTensor([outputs], seed: seed + 3) { 0.2 * $0.nextNormal() })
    return Sequential([("conv", conv), ("act", Tanh()), ("flatten", Flatten()), ("fc", dense)])
}

/// A kernel given by a fixed matrix M: inputs are `[N, 1]` batches of indices into M.
struct FixedMatrixKernel: KernelFunction {
    let values: [[Double]]
    var description: String { "fixed \(values.count)×\(values.count) matrix" }

    func matrix(_ x1: Tensor, _ x2: Tensor) throws -> Float64Matrix {
        let a = x1.scalars.map { Int($0) }, b = x2.scalars.map { Int($0) }
        return try Float64Matrix(rows: a.count, columns: b.count, values: a.flatMap { i in b.map { values[i][$0] } })
    }

    func inputGradient(_ x1: Tensor, _ x2: Tensor, cotangent: Float64Matrix) throws -> Tensor { Tensor.zeros(x1.shape) }
}

/// Counts the kernel evaluations of a wrapped kernel (to show that a refusal came before any work).
final class CountingKernel: KernelFunction, @unchecked Sendable {
    let base: KernelFunction
    private(set) var matrixCalls = 0
    init(_ base: KernelFunction) { self.base = base }
    var description: String { "counting \(base)" }

    func matrix(_ x1: Tensor, _ x2: Tensor) throws -> Float64Matrix {
        matrixCalls += 1
        return try base.matrix(x1, x2)
    }

    func inputGradient(_ x1: Tensor, _ x2: Tensor, cotangent: Float64Matrix) throws -> Tensor {
        try base.inputGradient(x1, x2, cotangent: cotangent)
    }
}

/// The inverse of a small matrix by Gauss–Jordan elimination with partial pivoting (the naive twin of
/// the Cholesky solve).
func naiveInverse(_ m: Float64Matrix) -> Float64Matrix {
    let n = m.rows
    var a = (0..<n).map { i in Array(m.row(i)) + (0..<n).map { $0 == i ? 1.0 : 0.0 } }
    for col in 0..<n {
        let pivot = (col..<n).max { abs(a[$0][col]) < abs(a[$1][col]) }!
        a.swapAt(col, pivot)
        let p = a[col][col]
        for j in 0..<(2 * n) { a[col][j] /= p }
        for i in 0..<n where i != col {
            let f = a[i][col]
            for j in 0..<(2 * n) { a[i][j] -= f * a[col][j] }
        }
    }
    var out = Float64Matrix(rows: n, columns: n)
    for i in 0..<n { for j in 0..<n { out[i, j] = a[i][n + j] } }
    return out
}

/// The plain triple-loop product of two matrices.
func naiveProduct(_ a: Float64Matrix, _ b: Float64Matrix) -> Float64Matrix {
    var out = Float64Matrix(rows: a.rows, columns: b.columns)
    for i in 0..<a.rows { for j in 0..<b.columns { for k in 0..<a.columns { out[i, j] += a[i, k] * b[k, j] } } }
    return out
}

/// Asserts that `body` throws a `KernelPredictorError` matching `matches`, whose description contains
/// every string of `mentions`.
func assertPredictorError<T>(_ body: @autoclosure () throws -> T, mentions: [String] = [],
                             file: StaticString = #filePath, line: UInt = #line,
                             _ matches: (KernelPredictorError) -> Bool) {
    do {
        _ = try body()
        XCTFail("expected a KernelPredictorError", file: file, line: line)
    } catch let error as KernelPredictorError {
        XCTAssertTrue(matches(error), "unexpected \(error)", file: file, line: line)
        for m in mentions {
            XCTAssertTrue(error.description.contains(m), "'\(error.description)' does not mention '\(m)'", file: file, line: line)
        }
    } catch {
        XCTFail("unexpected error \(error)", file: file, line: line)
    }
}

/// Uniform [0, 1) inputs (images) of `shape`.
func uniformInputs(_ shape: [Int], seed: UInt64) -> Tensor {
    randomTensor(shape, seed: seed) { $0.nextUniformDouble() }
}
