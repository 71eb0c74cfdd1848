import Foundation
import XCTest
import Autodiff
import Kernels
import NN
import NTK

/// The structured engine against the brute-force J Jᵀ, tiling, symmetry, PSD, traced vs full.
final class EmpiricalNTKTests: XCTestCase {
    /// A small conv net with every layer type: conv (SAME and strided), ReLU, max and average pooling,
    /// flatten, dense with and without bias, a fixed scale, and a frozen layer.
    func smallNet(_ rng: inout Xoshiro256) -> Sequential {
        Sequential([
            ("conv1", Conv2D(inChannels: 2, outChannels: 3, rng: &rng)), ("relu1", ReLU()), ("pool1", MaxPool2D()),
            ("conv2", Conv2D(weight: Initializers.normal([4, 3, 3, 3], std: 0.3, rng: &rng),
                             bias: Initializers.normal([4], std: 0.1, rng: &rng), stride: 2, padding: 1)),
            ("relu2", ReLU()), ("pool2", AvgPool2D()), ("flatten", Flatten()),
            // A positive bias keeps these units alive, so every layer contributes.
            ("fc1", Dense(weight: Initializers.normal([5, 4], std: 0.5, rng: &rng), bias: Tensor(repeating: 1, shape: [5]))),
            ("relu3", ReLU()),
            ("fc2", Dense(weight: Initializers.normal([5, 5], std: 0.5, rng: &rng), bias: nil)),
            ("frozen", Dense(weight: Initializers.normal([3, 5], std: 0.5, rng: &rng), bias: nil, trainable: false)),
            ("scale", Scale(0.7)),
        ])
    }

    func relativeError(_ a: KernelMatrix, _ b: KernelMatrix) -> Double {
        XCTAssertGreaterThan(b.frobeniusNorm, 0, "reference kernel is zero: the test network is dead")
        var diff = 0.0
        for (x, y) in zip(a.values, b.values) { diff += Double(x - y) * Double(x - y) }
        return diff.squareRoot() / b.frobeniusNorm
    }

    func testStructuredEngineEqualsBruteForceJacobian() throws {
        var rng = Xoshiro256(seed: 1)
        let model = smallNet(&rng)
        let x = Initializers.normal([4, 2, 8, 8], rng: &rng)
        for kind in KernelKind.allCases {
            let engine = try EmpiricalNTK.compute(model, inputs: x, options: .init(kind: kind))
            let brute = try EmpiricalNTK.bruteForce(model, inputs: x, kind: kind)
            XCTAssertEqual(engine.n, kind == .full ? 12 : 4)
            XCTAssertLessThan(relativeError(engine, brute), 1e-5, "\(kind)")
        }
    }

    func testPaperStyleCNNAgainstBruteForce() throws {
        // The MNIST CNN's layer sequence at a reduced size (brute force needs N·C reverse passes). Its conv1
        // takes the gradient-rows path (G smaller than the cotangents) and conv2 the stored-cotangent path.
        var rng = Xoshiro256(seed: 2)
        let model = Sequential([
            ("conv1", Conv2D(inChannels: 1, outChannels: 4, rng: &rng)), ("relu1", ReLU()), ("pool1", AvgPool2D()),
            ("conv2", Conv2D(inChannels: 4, outChannels: 6, rng: &rng)), ("relu2", ReLU()), ("pool2", AvgPool2D()),
            ("flatten", Flatten()), ("fc1", Dense(inputs: 6 * 3 * 3, outputs: 16, rng: &rng)), ("relu3", ReLU()),
            ("fc2", Dense(inputs: 16, outputs: 10, rng: &rng)),
        ])
        let x = Initializers.normal([3, 1, 12, 12], rng: &rng).adding(0.5)
        let engine = try EmpiricalNTK.compute(model, inputs: x)
        XCTAssertLessThan(relativeError(engine, try EmpiricalNTK.bruteForce(model, inputs: x)), 1e-5)
    }

    func testTiledEqualsUntiledAndTracedIsTheTraceOverLogits() throws {
        var rng = Xoshiro256(seed: 3)
        let model = smallNet(&rng)
        let x = Initializers.normal([5, 2, 8, 8], rng: &rng)
        let untiled = try EmpiricalNTK.compute(model, inputs: x)
        let tiled = try EmpiricalNTK.compute(model, inputs: x, options: .init(channelTile: 1))
        XCTAssertLessThan(relativeError(tiled, untiled), 1e-6)
        let traced = try EmpiricalNTK.compute(model, inputs: x, options: .init(kind: .traced))
        let tracedTiled = try EmpiricalNTK.compute(model, inputs: x, options: .init(kind: .traced, channelTile: 2))
        XCTAssertLessThan(relativeError(tracedTiled, traced), 1e-6)
        let classes = 3
        for i in 0..<5 {
            for j in 0..<5 {
                let sum = (0..<classes).reduce(0.0) { $0 + Double(untiled[sample: i, class: $1, sample: j, class: $1]) }
                XCTAssertEqual(Double(traced[i, j]), sum, accuracy: 1e-5 * max(1, abs(sum)))
            }
        }
    }

    func testKernelIsSymmetricAndPositiveSemidefinite() throws {
        var rng = Xoshiro256(seed: 4)
        let model = smallNet(&rng)
        let k = try EmpiricalNTK.compute(model, inputs: Initializers.normal([6, 2, 8, 8], rng: &rng))
        XCTAssertEqual(k.relativeAsymmetry, 0)
        let eigen = try SymmetricEigen.eigenvalues(k.values, dimension: k.n)
        XCTAssertGreaterThan(eigen.min()!, -1e-5 * eigen.max()!)
    }

    /// A budget too small for every layer's cotangents at once splits the layers into groups, each with
    /// its own reverse passes: the same kernel (up to summation order) down to the smallest budget that
    /// still holds the largest layer, and a clear error below it.
    func testLayerGroupsUnderATightBudgetGiveTheSameKernel() throws {
        var rng = Xoshiro256(seed: 8)
        let model = smallNet(&rng)
        let x = Initializers.normal([4, 2, 8, 8], rng: &rng)
        let whole = try EmpiricalNTK.compute(model, inputs: x)
        XCTAssertEqual(try EmpiricalNTK.layerGroupCount(model, inputs: x), 1)
        var counts: Set<Int> = []
        var budget = 64_000
        while budget > 0 {
            let options = EmpiricalNTK.Options(memoryBudgetBytes: budget)
            guard let count = try? EmpiricalNTK.layerGroupCount(model, inputs: x, options: options) else {
                XCTAssertThrowsError(try EmpiricalNTK.compute(model, inputs: x, options: options)) { error in
                    XCTAssertTrue("\(error)".contains("memory budget"), "\(error)")
                }
                break
            }
            counts.insert(count)
            XCTAssertLessThan(relativeError(try EmpiricalNTK.compute(model, inputs: x, options: options), whole), 1e-6, "budget \(budget)")
            budget -= 500
        }
        XCTAssertGreaterThan(budget, 0, "some budget must be too small")
        XCTAssertTrue(counts.contains(1) && counts.contains { $0 >= 2 }, "group counts seen: \(counts.sorted())")
    }

    /// A cross kernel's right side is dropped, not released, when the kernel is done: its stored
    /// cotangents must go with it (they once stayed, 16 MB a call here).
    func testRepeatedCrossKernelsKeepNoMemory() throws {
        guard let before = Self.residentBytes() else { throw XCTSkip("no /proc/self/status here") }
        var rng = Xoshiro256(seed: 17)
        let model = Sequential([("fc1", Dense(inputs: 100, outputs: 2000, rng: &rng)), ("relu", ReLU()),
                                ("fc2", Dense(inputs: 2000, outputs: 10, rng: &rng))])
        let x1 = Initializers.normal([20, 100], rng: &rng), x2 = Initializers.normal([200, 100], rng: &rng)
        let options = EmpiricalNTK.Options(kind: .traced)
        _ = try EmpiricalNTK.cross(model, x1, x2, options: options)
        let first = Self.residentBytes() ?? before
        for _ in 0..<20 { _ = try EmpiricalNTK.cross(model, x1, x2, options: options) }
        let growth = (Self.residentBytes() ?? first) - first
        XCTAssertLessThan(growth, 100 << 20, "resident memory grew by \(growth >> 20) MB over 20 cross kernels")
    }

    static func residentBytes() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kB = Int(line.filter(\.isNumber)) else { return nil }
        return kB * 1024
    }

    func testMemoryBudgetTooSmallGivesAClearError() {
        var rng = Xoshiro256(seed: 5)
        let model = smallNet(&rng)
        let x = Initializers.normal([4, 2, 8, 8], rng: &rng)
        XCTAssertThrowsError(try EmpiricalNTK.compute(model, inputs: x, options: .init(memoryBudgetBytes: 1000))) { error in
            XCTAssertTrue("\(error)".contains("memory budget"), "\(error)")
        }
    }

    func testTwoLayerNetworkMatchesItsAnalyticKernelAtLargeWidth() throws {
        // Training w only, w ~ N(0, I): Θ(x, x') = (x·x')(π − arccos u)/(2π), u = cos angle (PAPER.md §3),
        // for the (1/√m) Σ a_r relu(w_r·x) network with one output (a_r² = 1).
        var rng = Xoshiro256(seed: 6)
        let model = PaperModels.twoLayer(inputs: 5, width: 20_000, outputs: 1, rng: &rng)
        let x = Initializers.normal([3, 5], rng: &rng)
        let k = try EmpiricalNTK.compute(model, inputs: x)
        let v = x.scalars
        for i in 0..<3 {
            for j in 0..<3 {
                let a = Array(v[i * 5..<(i + 1) * 5]), b = Array(v[j * 5..<(j + 1) * 5])
                let dot = zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
                let na = a.reduce(0.0) { $0 + Double($1 * $1) }.squareRoot(), nb = b.reduce(0.0) { $0 + Double($1 * $1) }.squareRoot()
                let u = max(-1, min(1, dot / (na * nb)))
                let analytic = dot * (Double.pi - acos(u)) / (2 * Double.pi)
                XCTAssertEqual(Double(k[i, j]), analytic, accuracy: 0.03 * max(1, abs(analytic)), "(\(i), \(j))")
            }
        }
    }
}
