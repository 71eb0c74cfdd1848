import Foundation
import Kernels
import KernelMachines
import XCTest

/// Spearman's rank correlation against its closed form without ties, a naive twin with ties, and the
/// robustness trend of feature evaluations.
final class RankCorrelationTests: XCTestCase {
    /// Pearson's correlation of the naive ranks: rank(v_i) = 1 + #{v_k < v_i} + (#{v_k = v_i} − 1)/2.
    func naiveSpearman(_ x: [Double], _ y: [Double]) -> Double {
        func ranks(_ v: [Double]) -> [Double] {
            v.map { a in 1 + Double(v.filter { $0 < a }.count) + Double(v.filter { $0 == a }.count - 1) / 2 }
        }
        let rx = ranks(x), ry = ranks(y), n = Double(x.count)
        let mx = rx.reduce(0, +) / n, my = ry.reduce(0, +) / n
        let c = zip(rx, ry).map { ($0 - mx) * ($1 - my) }.reduce(0, +)
        let vx = rx.map { ($0 - mx) * ($0 - mx) }.reduce(0, +), vy = ry.map { ($0 - my) * ($0 - my) }.reduce(0, +)
        return c / (vx * vy).squareRoot()
    }

    func testWithoutTiesItIsOneMinusSixSumOfSquaredRankDifferences() {
        var rng = Xoshiro256(seed: 4)
        for n in [2, 3, 10, 57] {
            let x = (0..<n).map { _ in Double.random(in: -1...1, using: &rng) }
            let y = (0..<n).map { _ in Double.random(in: -1...1, using: &rng) }
            let rx = RankCorrelation.ranks(x), ry = RankCorrelation.ranks(y)
            XCTAssertEqual(rx.sorted(), (1...n).map(Double.init))
            let d2 = zip(rx, ry).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
            let closed = 1 - 6 * d2 / Double(n * (n * n - 1))
            XCTAssertEqual(try XCTUnwrap(RankCorrelation.spearman(Array(zip(x, y)).map { (x: $0, y: $1) })), closed, accuracy: 1e-12)
        }
    }

    func testTiesShareTheirAverageRank() throws {
        XCTAssertEqual(RankCorrelation.ranks([0.5, 0.1, 0.5, 0.9, 0.1, 0.5]), [4, 1.5, 4, 6, 1.5, 4])
        var rng = Xoshiro256(seed: 5)
        for _ in 0..<20 {
            let x = (0..<40).map { _ in Double(Int.random(in: 0..<6, using: &rng)) }
            let y = (0..<40).map { _ in Double(Int.random(in: 0..<4, using: &rng)) / 4 }
            let pairs = zip(x, y).map { (x: $0, y: $1) }
            XCTAssertEqual(try XCTUnwrap(RankCorrelation.spearman(pairs)), naiveSpearman(x, y), accuracy: 1e-12)
        }
    }

    func testMonotoneRelationsAndUndefinedCases() {
        let increasing = (1...20).map { (x: Double($0), y: exp(Double($0) / 3)) }
        XCTAssertEqual(RankCorrelation.spearman(increasing), 1)
        XCTAssertEqual(RankCorrelation.spearman(increasing.map { (x: $0.x, y: -$0.y) }), -1)
        XCTAssertNil(RankCorrelation.spearman([(x: 1, y: 2)]), "one pair")
        XCTAssertNil(RankCorrelation.spearman([]))
        XCTAssertNil(RankCorrelation.spearman([(x: 1, y: 2), (x: 2, y: 2), (x: 3, y: 2)]), "constant y")
        XCTAssertNil(RankCorrelation.spearman([(x: 1, y: 2), (x: .nan, y: 3)]), "not finite")
        XCTAssertNil(RankCorrelation.spearman([(x: 1, y: 2), (x: .infinity, y: 3)]))
    }

    func testRobustnessTrendUsesTheRequestedFeaturesAndAttack() throws {
        let train = uniformInputs([24, 5], seed: 41), test = uniformInputs([30, 5], seed: 42)
        let features = try EigenFeatures.decompose(kernel: FullyConnectedReLUKernel.notebook, inputs: train,
                                                   labels: (0..<24).map { Int32($0 % 2) }, task: .binary(negative: 0, positive: 1))
        var rng = Xoshiro256(seed: 6)
        let evaluations = try features.evaluate(features: 1...24, images: test, labels: (0..<30).map { Int32($0 % 3 == 0 ? 1 : 0) },
                                                attacks: [.fgsm(epsilon: 0.02), .fgsm(epsilon: 0.3)], rng: &rng)
        for (range, attack) in [(1...24, 0), (3...17, 0), (1...24, 1)] {
            let chosen = evaluations.filter { range.contains($0.feature) }
            let expected = naiveSpearman(chosen.map { Double($0.feature) }, chosen.map { $0.reports[attack].robustAccuracy })
            XCTAssertEqual(try XCTUnwrap(FeatureEvaluation.robustnessTrend(evaluations, features: range, attackIndex: attack)),
                           expected, accuracy: 1e-12, "features \(range), attack \(attack)")
        }
        XCTAssertNil(FeatureEvaluation.robustnessTrend(evaluations, features: 1...24, attackIndex: 2), "no such attack")
        XCTAssertNil(FeatureEvaluation.robustnessTrend(evaluations, features: 24...30), "one feature")
    }
}
