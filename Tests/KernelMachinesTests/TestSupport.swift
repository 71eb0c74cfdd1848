import Autodiff
import Foundation
import Kernels
import KernelMachines
import XCTest

/// max_k |a_k − b_k| / max_k |b_k|.
func maxRelativeDifference(_ a: [Double], _ b: [Double]) -> Double {
    precondition(a.count == b.count)
    let scale = b.map { abs($0) }.max() ?? 0
    let diff = zip(a, b).map { abs($0 - $1) }.max() ?? 0
    return scale > 0 ? diff / scale : diff
}

/// A tensor of `shape` with entries drawn by `draw` from a seeded generator.
func randomTensor(_ shape: [Int], seed: UInt64, _ draw: (inout Xoshiro256) -> Double = { $0.nextNormal() }) -> Tensor {
    var rng = Xoshiro256(seed: seed)
    return Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in Float(draw(&rng)) })
}

/// A matrix with N(0, 1) entries from a seeded generator.
func randomMatrix(rows: Int, columns: Int, seed: UInt64) -> Float64Matrix {
    var rng = Xoshiro256(seed: seed)
    var matrix = Float64Matrix(rows: rows, columns: columns)
    for k in matrix.values.indices { matrix.values[k] = rng.nextNormal() }
    return matrix
}

/// Σ_ij G_ij Θ(X₁, X₂)_ij.
func contracted(_ kernel: KernelFunction, _ x1: Tensor, _ x2: Tensor, _ g: Float64Matrix) throws -> Double {
    zip(try kernel.matrix(x1, x2).values, g.values).reduce(0) { $0 + $1.0 * $1.1 }
}

/// The gradient of Σ_ij G_ij Θ(X₁, X₂)_ij in X₁ by central differences with step `h` (a power of two,
/// so that x ± h is exact in Float for the moderate inputs of the tests).
func centralDifferences(_ kernel: KernelFunction, _ x1: Tensor, _ x2: Tensor, _ g: Float64Matrix,
                        h: Float = 1.0 / 1024) throws -> [Double] {
    var out = [Double]()
    let base = x1.scalars
    for k in 0..<base.count {
        var plus = base, minus = base
        plus[k] += h
        minus[k] -= h
        let fp = try contracted(kernel, Tensor(shape: x1.shape, scalars: plus), x2, g)
        let fm = try contracted(kernel, Tensor(shape: x1.shape, scalars: minus), x2, g)
        out.append((fp - fm) / Double(plus[k] - minus[k]))
    }
    return out
}

/// Asserts that `body` throws a `KernelMachineError` equal to `expected` whose description contains
/// every string of `mentions`.
func assertThrows<T>(_ expected: KernelMachineError, mentions: [String] = [], _ body: @autoclosure () throws -> T,
                     file: StaticString = #filePath, line: UInt = #line) {
    do {
        _ = try body()
        XCTFail("expected \(expected)", file: file, line: line)
    } catch let error as KernelMachineError {
        XCTAssertEqual(error, expected, file: file, line: line)
        for m in mentions {
            XCTAssertTrue(error.description.contains(m), "'\(error.description)' does not mention '\(m)'", file: file, line: line)
        }
    } catch {
        XCTFail("unexpected error \(error)", file: file, line: line)
    }
}
