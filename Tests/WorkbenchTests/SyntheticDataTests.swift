import Foundation
import Datasets
import Kernels
import XCTest

final class SyntheticDataTests: XCTestCase {
    private func quadraticTask(d: Int = 6, noise: Double = 0, flip: Double = 0, seed: UInt64 = 3) throws -> SyntheticTask {
        var rng = Xoshiro256(seed: seed)
        let teacher = try SyntheticTeacher.randomQuadratic(spectrum: (0..<d).map { Double($0 + 1) }, rng: &rng)
        return try SyntheticTask(dimension: d, inputs: .gaussian, teacher: teacher, noiseStd: noise, labelFlipProbability: flip)
    }

    func testInputDistributionsHaveUnitScale() throws {
        var rng = Xoshiro256(seed: 1)
        let d = 50
        for distribution in SyntheticInputDistribution.allCases {
            let teacher = try SyntheticTeacher.randomLinear(dimension: d, rng: &rng)
            let samples = try SyntheticTask(dimension: d, inputs: distribution, teacher: teacher).sample(count: 2000, rng: &rng)
            let norms = (0..<samples.count).map { i in
                samples.inputs[(i * d)..<((i + 1) * d)].reduce(0.0) { $0 + Double($1) * Double($1) }
            }
            let mean = norms.reduce(0, +) / Double(norms.count)
            XCTAssertEqual(mean, 1, accuracy: 0.02, "\(distribution): E‖x‖² should be 1")
            if distribution == .sphere { for n in norms { XCTAssertEqual(n, 1, accuracy: 1e-5) } }
        }
    }

    func testTeachersComputeTheirFormulas() throws {
        let linear = try SyntheticTeacher(dimension: 3, kind: .linear(weights: [1, -2, 0.5]))
        XCTAssertEqual(linear([2, 1, 4]), 2 - 2 + 2)
        let quadratic = try SyntheticTeacher(dimension: 2, kind: .quadratic(matrix: [2, 1, 1, 3]))
        XCTAssertEqual(quadratic([1, 2]), 2 + 2 * 2 + 3 * 4)  // xᵀAx = 2·1 + 2·(1·1·2) + 3·4
        let network = try SyntheticTeacher(dimension: 2, kind: .network(hidden: [1, 0, 0, -1, 1, 1], output: [1, -1, 2], activation: .relu))
        // units at x = (3, −1): relu(x₁) = 3, relu(−x₂) = 1, relu(x₁ + x₂) = 2; (3 − 1 + 2·2)/√3
        XCTAssertEqual(network([3, -1]), 6 / 3.0.squareRoot(), accuracy: 1e-12)
    }

    func testQuadraticTeacherHasTheChosenSpectrum() throws {
        var rng = Xoshiro256(seed: 9)
        let spectrum = [5.0, 2, 0, -1]
        let teacher = try SyntheticTeacher.randomQuadratic(spectrum: spectrum, rng: &rng)
        guard case .quadratic(let a) = teacher.kind else { return XCTFail("not quadratic") }
        let trace = (0..<4).reduce(0.0) { $0 + a[$1 * 4 + $1] }
        let frobenius = a.reduce(0.0) { $0 + $1 * $1 }
        XCTAssertEqual(trace, spectrum.reduce(0, +), accuracy: 1e-10)
        XCTAssertEqual(frobenius, spectrum.reduce(0) { $0 + $1 * $1 }, accuracy: 1e-10)
        // tr(A³) = Σλ³ pins the spectrum further (with tr A and tr A² it fixes 3 of the 4 moments).
        var cube = 0.0
        for i in 0..<4 { for j in 0..<4 { for k in 0..<4 { cube += a[i * 4 + j] * a[j * 4 + k] * a[k * 4 + i] } } }
        XCTAssertEqual(cube, spectrum.reduce(0) { $0 + $1 * $1 * $1 }, accuracy: 1e-9)
    }

    func testBadSettingsAreRefusedByName() throws {
        var rng = Xoshiro256(seed: 2)
        let teacher = try SyntheticTeacher.randomLinear(dimension: 4, rng: &rng)
        XCTAssertThrowsError(try SyntheticTask(dimension: 5, inputs: .gaussian, teacher: teacher)) {
            XCTAssertEqual($0 as? SyntheticDataError, .teacherDimension(teacher: 4, inputs: 5))
            XCTAssertTrue("\($0)".contains("dimension 4"), "\($0)")
        }
        XCTAssertThrowsError(try SyntheticTask(dimension: 4, inputs: .gaussian, teacher: teacher, noiseStd: -1)) {
            XCTAssertTrue("\($0)".contains("noise"), "\($0)")
        }
        XCTAssertThrowsError(try SyntheticTask(dimension: 4, inputs: .gaussian, teacher: teacher, labelFlipProbability: 1.5))
        XCTAssertThrowsError(try SyntheticTeacher(dimension: 2, kind: .quadratic(matrix: [1, 2, 3, 4]))) {
            XCTAssertTrue("\($0)".contains("symmetric"), "\($0)")
        }
        XCTAssertThrowsError(try SyntheticTeacher(dimension: 3, kind: .linear(weights: [1, 2]))) {
            XCTAssertEqual($0 as? SyntheticDataError, .teacherDimension(teacher: 2, inputs: 3))
        }
        XCTAssertThrowsError(try TwoLayerActivation(name: "sigmoid")) { XCTAssertTrue("\($0)".contains("relu, softplus, tanh")) }
    }

    func testNoiseAndLabelFlips() throws {
        var rng = Xoshiro256(seed: 4)
        let clean = try quadraticTask().sample(count: 500, rng: &rng)
        XCTAssertEqual(clean.targets, clean.cleanTargets)
        XCTAssertEqual(clean.labels, clean.cleanTargets.map { $0 > 0 ? 1 : 0 })
        let noisy = try quadraticTask(noise: 0.5).sample(count: 4000, rng: &rng)
        let residuals = zip(noisy.targets, noisy.cleanTargets).map { Double($0 - $1) }
        let std = (residuals.reduce(0) { $0 + $1 * $1 } / Double(residuals.count)).squareRoot()
        XCTAssertEqual(std, 0.5, accuracy: 0.03)
        let flipped = try quadraticTask(flip: 1).sample(count: 100, rng: &rng)
        XCTAssertEqual(flipped.labels, flipped.cleanTargets.map { $0 > 0 ? 0 : 1 })
        XCTAssertEqual(flipped.signedTargets, flipped.labels.map { $0 == 1 ? 1 : -1 })
    }

    func testSamplesAreSeededAndStreamsResumeExactly() throws {
        let task = try quadraticTask(noise: 0.1, flip: 0.1)
        var a = Xoshiro256(seed: 11), b = Xoshiro256(seed: 11)
        XCTAssertEqual(task.sample(count: 30, rng: &a), task.sample(count: 30, rng: &b))

        var whole = SyntheticStream(task: task, generator: Xoshiro256(seed: 5))
        let all = whole.next(count: 12)
        var pieces = SyntheticStream(task: task, generator: Xoshiro256(seed: 5))
        let first = pieces.next(count: 5)
        let saved = try JSONDecoder().decode(SyntheticStream.State.self, from: JSONEncoder().encode(pieces.state))
        var resumed = try SyntheticStream(task: task, restoring: saved)
        let rest = resumed.next(count: 7)
        XCTAssertEqual(first.inputs + rest.inputs, all.inputs)
        XCTAssertEqual(first.targets + rest.targets, all.targets)
        XCTAssertEqual(first.labels + rest.labels, all.labels)
        XCTAssertEqual(resumed.drawn, 12)

        XCTAssertThrowsError(try SyntheticStream(task: task, restoring: .init(generatorState: [1, 2], drawn: 0))) {
            XCTAssertTrue("\($0)".contains("4 state words"), "\($0)")
        }
        XCTAssertThrowsError(try SyntheticStream(task: task, restoring: .init(generatorState: [0, 0, 0, 0], drawn: 0)))
        XCTAssertThrowsError(try SyntheticStream(task: task, restoring: .init(generatorState: [1, 2, 3, 4], drawn: -1)))
    }

    func testClassificationView() throws {
        var rng = Xoshiro256(seed: 6)
        let samples = try quadraticTask().sample(count: 10, rng: &rng)
        let dataset = samples.classificationDataset(name: "synthetic")
        XCTAssertEqual(dataset.count, 10)
        XCTAssertEqual(dataset.imageSize, 6)
        XCTAssertEqual(dataset.labels, samples.labels)
        XCTAssertEqual(dataset.images, samples.inputs)
    }
}
