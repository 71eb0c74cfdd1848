import XCTest
import Autodiff
import Kernels

/// Seeded test inputs.
struct TestInputs {
    var rng: Xoshiro256

    init(seed: UInt64) { rng = Xoshiro256(seed: seed) }

    /// Standard normal values times `scale`, kept at least `margin` away from zero (so the
    /// finite-difference step never crosses the kink of ReLU or sign).
    mutating func normal(_ shape: [Int], scale: Float = 1, margin: Float = 0) -> Tensor {
        let values = (0..<shape.reduce(1, *)).map { _ -> Float in
            var x = Float(rng.nextNormal()) * scale
            while abs(x) < margin { x = Float(rng.nextNormal()) * scale }
            return x
        }
        return Tensor(shape: shape, scalars: values)
    }

    /// Uniform values in [low, high).
    mutating func uniform(_ shape: [Int], _ low: Float, _ high: Float) -> Tensor {
        Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in low + (high - low) * rng.nextUniformFloat() })
    }

    /// A random arrangement of distinct values `spacing` apart, centred on zero (max-pool windows
    /// then never have two entries closer than `spacing`).
    mutating func separated(_ shape: [Int], spacing: Float = 0.1) -> Tensor {
        let n = shape.reduce(1, *)
        return Tensor(shape: shape, scalars: rng.permutation(n).map { (Float($0) - Float(n) / 2) * spacing })
    }
}

/// The names of the primitives recorded in the reverse-mode graph that reaches `output`.
func recordedPrimitives(_ output: Tensor) -> Set<String> {
    var names = Set<String>()
    var seen = Set<ObjectIdentifier>()
    var stack = output.graphNode.map { [$0] } ?? []
    while let node = stack.popLast() {
        guard seen.insert(ObjectIdentifier(node)).inserted else { continue }
        if !node.isLeaf { names.insert(node.primitive.name) }
        stack.append(contentsOf: node.parents.compactMap { $0 })
    }
    return names
}

/// Fails the test with the report's failed checks unless every check passed.
func assertPasses(_ report: RuleCheckReport, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertFalse(report.checks.isEmpty, "\(report.name): no checks made", file: file, line: line)
    if !report.passed { XCTFail(report.description, file: file, line: line) }
}

/// Largest |a − b| / max(1, |b|) over two arrays.
func maxRelativeDifference(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1) / max(1, abs($1.1))) }
}
