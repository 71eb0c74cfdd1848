import Autodiff
import Checkpoints
import Datasets
import Foundation
import Kernels
import NN
import Robustness
import Training
import Workbench
import XCTest

final class RegressionTrainerTests: XCTestCase {
    private func task(d: Int = 5) throws -> SyntheticTask {
        var rng = Xoshiro256(seed: 21)
        let teacher = try SyntheticTeacher.randomQuadratic(spectrum: (0..<d).map { Double(d) / Double($0 + 1) }, rng: &rng)
        return try SyntheticTask(dimension: d, inputs: .sphere, teacher: teacher, noiseStd: 0.05)
    }

    private let attack = RegressionTrainingSettings.Attack(pgd: PGDConfiguration(epsilon: 0.1, stepSize: 0.05, steps: 3, randomStart: true), norm: .l2)

    /// A fresh run: the same seeds always build the same model, data and optimiser.
    private func makeRun(regime: TwoLayerRegime, online: Bool, epochs: Int, batchSize: Int?, adversarial: Bool,
                         log: MetricsLog? = nil) throws -> RegressionTrainer {
        let task = try task()
        var dataRng = Xoshiro256(seed: 31)
        let test = task.sample(count: 20, rng: &dataRng)
        let data: RegressionTrainingData = online ? .online(SyntheticStream(task: task, generator: Xoshiro256(seed: 32)))
                                                  : .fixed(task.sample(count: 30, rng: &dataRng))
        var modelRng = Xoshiro256(seed: 33)
        let model = try TwoLayerModel(inputs: 5, width: 12, activation: .softplus, regime: regime, rng: &modelRng)
        let settings = RegressionTrainingSettings(epochs: epochs, batchSize: batchSize, samplesPerEpoch: online ? 24 : 0, seed: 7,
                                                  adversarialTraining: adversarial ? attack : nil, evaluationAttack: attack)
        return try RegressionTrainer(network: model.network, trainee: model.trainee, optimizer: try SGD(learningRate: 0.2, momentum: 0.9),
                                     data: data, test: test, settings: settings, log: log)
    }

    /// Trains 4 epochs straight, and 2 epochs then a checkpoint (through the file codec) restored into a
    /// fresh run that trains 2 more: parameters, optimiser, stream and measures must be bit-identical.
    func testResumedRunsAreBitExact() throws {
        let cases: [(TwoLayerRegime, online: Bool, batch: Int?, adversarial: Bool)] = [
            (.full(), true, 8, true), (.lazy(alpha: 3, centred: true), true, 5, false),
            (.randomFeatures(), false, 7, true), (.full(alpha: 2), false, nil, true),
        ]
        for (regime, online, batch, adversarial) in cases {
            let label = "\(regime.label) online=\(online) batch=\(batch.map(String.init) ?? "full")"
            let straight = try makeRun(regime: regime, online: online, epochs: 4, batchSize: batch, adversarial: adversarial)
            try straight.fit()

            let first = try makeRun(regime: regime, online: online, epochs: 2, batchSize: batch, adversarial: adversarial)
            try first.fit()
            let bytes = try CheckpointFile.encode(try first.checkpoint())
            let resumed = try makeRun(regime: regime, online: online, epochs: 4, batchSize: batch, adversarial: adversarial)
            try resumed.restore(from: try CheckpointFile.decode(fileBytes: bytes))
            XCTAssertEqual(resumed.epoch, 2, label)
            try resumed.fit()

            XCTAssertEqual(resumed.step, straight.step, label)
            XCTAssertEqual(resumed.history, straight.history, label)
            for (a, b) in zip(straight.network.namedParameters, resumed.network.namedParameters) {
                XCTAssertEqual(a.parameter.value.scalars, b.parameter.value.scalars, "\(label) \(a.name)")
            }
            if case .online(let s) = straight.data, case .online(let r) = resumed.data {
                XCTAssertEqual(s.state, r.state, label)
                XCTAssertEqual(r.drawn, 4 * 24, label)
            }
            XCTAssertGreaterThan(straight.history.last!.parameterDistance, 0, label)
        }
    }

    func testRestoreRefusesAnotherRun() throws {
        let run = try makeRun(regime: .full(), online: true, epochs: 1, batchSize: 8, adversarial: false)
        try run.fit()
        let saved = try run.checkpoint()
        let otherSettings = try makeRun(regime: .full(), online: true, epochs: 1, batchSize: 4, adversarial: false)
        XCTAssertThrowsError(try otherSettings.restore(from: saved)) { XCTAssertTrue("\($0)".contains("other settings"), "\($0)") }
        let fixed = try makeRun(regime: .full(), online: false, epochs: 1, batchSize: 8, adversarial: false)
        XCTAssertThrowsError(try fixed.restore(from: saved))
        let lazy = try makeRun(regime: .lazy(alpha: 1, centred: false), online: true, epochs: 1, batchSize: 8, adversarial: false)
        XCTAssertThrowsError(try lazy.restore(from: saved)) { XCTAssertTrue("\($0)".contains("anchor"), "\($0)") }
        XCTAssertEqual(lazy.epoch, 0)
    }

    func testBadSettingsAreRefused() throws {
        XCTAssertThrowsError(try makeRun(regime: .full(), online: true, epochs: 1, batchSize: nil, adversarial: false)) {
            XCTAssertTrue("\($0)".contains("batch size"), "\($0)")
        }
        XCTAssertThrowsError(try makeRun(regime: .full(), online: false, epochs: -1, batchSize: nil, adversarial: false)) {
            XCTAssertTrue("\($0)".contains("epochs = -1"), "\($0)")
        }
        XCTAssertThrowsError(try makeRun(regime: .full(), online: false, epochs: 1, batchSize: 0, adversarial: false))
    }

    /// Training reduces the risk; the adversarial risk is never below the clean one; measures are logged.
    func testMeasuresAreConsistentAndLogged() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("workbench-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let run = try makeRun(regime: .full(), online: false, epochs: 6, batchSize: nil, adversarial: true, log: try MetricsLog(directory: folder))
        try run.fit()
        for m in run.history {
            XCTAssertGreaterThanOrEqual(m.trainAdversarialRisk!, m.trainRisk!)
            XCTAssertGreaterThanOrEqual(m.testAdversarialRisk!, m.testRisk)
            XCTAssertGreaterThan(m.inputGradientNorm, 0)
        }
        XCTAssertLessThan(run.history.last!.trainAdversarialRisk!, run.history.first!.trainAdversarialRisk!)
        let rows = try MetricRow.read(path: (folder as NSString).appendingPathComponent("metrics.jsonl"))
        let distances = rows.filter { $0.name == "parameter_distance" }
        XCTAssertEqual(distances.count, 6)
        XCTAssertEqual(distances.last?.value ?? .nan, run.history.last!.parameterDistance, accuracy: 1e-12)
        XCTAssertEqual(Set(rows.map(\.name)), Set(run.history[0].metrics.map(\.0)))
    }
}
