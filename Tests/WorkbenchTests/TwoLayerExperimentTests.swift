import Datasets
import Foundation
import Robustness
import Workbench
import XCTest

final class TwoLayerExperimentTests: XCTestCase {
    private func experiment(trainSize: Int?, signTargets: Bool) -> TwoLayerExperiment {
        TwoLayerExperiment(dimension: 6, teacher: .linear, signTargets: signTargets, trainSize: trainSize, testSize: 20, width: 16,
                           regime: .full(), learningRate: 0.1,
                           training: RegressionTrainingSettings(epochs: 2, batchSize: 8, samplesPerEpoch: trainSize == nil ? 24 : 0, seed: 3))
    }

    func testEqualExperimentsGiveEqualRunsAndSurviveJSON() throws {
        let e = experiment(trainSize: 30, signTargets: false)
        let decoded = try JSONDecoder().decode(TwoLayerExperiment.self, from: JSONEncoder().encode(e))
        XCTAssertEqual(decoded, e)
        let (_, a) = try e.makeTrainer(), (_, b) = try decoded.makeTrainer()
        try a.fit(); try b.fit()
        XCTAssertEqual(a.history, b.history)
    }

    func testSignTargetsTrainOnPlusMinusOne() throws {
        for size in [30, nil] as [Int?] {
            let (_, trainer) = try experiment(trainSize: size, signTargets: true).makeTrainer()
            XCTAssertEqual(Set(trainer.test.targets), [-1, 1])
            if case .fixed(let train) = trainer.data { XCTAssertEqual(train.targets, train.signedTargets) }
            XCTAssertEqual(trainer.signTargets, true)
            try trainer.fit()
            XCTAssertLessThan(trainer.history.last!.testRisk, 1.5)
        }
    }

    func testBadExperimentsAreRefused() throws {
        var e = experiment(trainSize: 30, signTargets: false)
        e.teacher = .quadratic(spectrum: [1, 2])
        XCTAssertThrowsError(try e.makeTrainer()) { XCTAssertEqual($0 as? SyntheticDataError, .teacherDimension(teacher: 2, inputs: 6)) }
        e = experiment(trainSize: 0, signTargets: false)
        XCTAssertThrowsError(try e.makeTrainer()) { XCTAssertTrue("\($0)".contains("training set size"), "\($0)") }
        e = experiment(trainSize: 30, signTargets: false)
        e.regime.alpha = -1
        XCTAssertThrowsError(try e.makeTrainer()) { XCTAssertTrue("\($0)".contains("alpha"), "\($0)") }
    }
}
