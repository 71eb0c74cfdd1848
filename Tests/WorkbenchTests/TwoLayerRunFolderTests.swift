import Checkpoints
import Datasets
import Robustness
import Foundation
import Training
import Workbench
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// A two-layer run stopped by an `Interruption` (mid-epoch or between epochs) resumes bit-exactly from
/// its checkpoint, and its run folder reports its progress as `RunProgress` does for `tangent train`.
final class TwoLayerRunFolderTests: XCTestCase {
    override func tearDown() {
        Interruption.reset()
        super.tearDown()
    }

    private func experiment(trainSize: Int?, batchSize: Int?, epochs: Int) -> TwoLayerExperiment {
        let attack = RegressionTrainingSettings.Attack(pgd: PGDConfiguration(epsilon: 0.1, stepSize: 0.04, steps: 2, randomStart: true), norm: .linf)
        return TwoLayerExperiment(dimension: 5, teacher: .linear, noiseStd: 0.1, trainSize: trainSize, testSize: 16, width: 12,
                                  activation: .tanh, regime: .full(), learningRate: 0.1, momentum: 0.5,
                                  training: RegressionTrainingSettings(epochs: epochs, batchSize: batchSize,
                                                                       samplesPerEpoch: trainSize == nil ? 20 : 0, seed: 4,
                                                                       adversarialTraining: attack, evaluationAttack: attack))
    }

    /// Stops after the first step of epoch 2 (mid-epoch with minibatches or a stream; at its end with
    /// full batches), saves, restores into a fresh trainer and finishes: parameters,
    /// optimiser state, measures and step count equal those of an uninterrupted run.
    func testAStopMidEpochOrBetweenEpochsResumesBitExactly() throws {
        for (trainSize, batchSize) in [(23, 5), (nil, 6), (18, nil)] as [(Int?, Int?)] {
            let label = "train size \(trainSize.map(String.init) ?? "online"), batch \(batchSize.map(String.init) ?? "full")"
            let e = experiment(trainSize: trainSize, batchSize: batchSize, epochs: 3)
            let (_, straight) = try e.makeTrainer()
            try straight.fit()

            let (_, stopped) = try e.makeTrainer()
            try stopped.trainEpoch()
            Interruption.request(signal: SIGTERM)
            XCTAssertThrowsError(try stopped.fit(), label) { error in
                guard let stop = error as? TrainingInterrupted else { return XCTFail("\(label): \(error)") }
                XCTAssertEqual(stop.signal, SIGTERM, label)
                // With minibatches or a stream the stop comes after epoch 2's first step; with full
                // batches (one step per epoch) after epoch 2.
                XCTAssertEqual(stop.epoch, batchSize == nil ? 2 : 1, label)
                XCTAssertEqual(stop.step, batchSize == nil ? 2 : straight.step / 3 + 1, label)
            }
            Interruption.reset()
            let saved = try CheckpointFile.decode(fileBytes: try CheckpointFile.encode(try stopped.checkpoint()))
            XCTAssertEqual(saved.metadata["workbench.epoch_progress"] != nil, batchSize != nil, label)
            let (_, resumed) = try e.makeTrainer()
            try resumed.restore(from: saved)
            try resumed.fit()
            XCTAssertEqual(resumed.step, straight.step, label)
            XCTAssertEqual(resumed.history, straight.history, label)
            XCTAssertEqual(resumed.optimizer.state.mapValues(\.scalars), straight.optimizer.state.mapValues(\.scalars), label)
            for (a, b) in zip(straight.network.namedParameters, resumed.network.namedParameters) {
                XCTAssertEqual(a.parameter.value.scalars, b.parameter.value.scalars, "\(label) \(a.name)")
            }
        }
    }

    /// A saved mid-epoch progress that does not fit the saved batch order is refused by name.
    func testAnEpochProgressThatDoesNotFitIsRefused() throws {
        let e = experiment(trainSize: 23, batchSize: 5, epochs: 2)
        let (_, stopped) = try e.makeTrainer()
        Interruption.request(signal: SIGTERM)
        XCTAssertThrowsError(try stopped.trainEpoch())
        Interruption.reset()
        var saved = try stopped.checkpoint()
        let progress = try XCTUnwrap(saved.metadata["workbench.epoch_progress"])
        saved.metadata["workbench.epoch_progress"] = progress.replacingOccurrences(of: "\"batches\":1", with: "\"batches\":2")
        let (_, other) = try e.makeTrainer()
        XCTAssertThrowsError(try other.restore(from: saved)) {
            XCTAssertTrue("\($0)".contains("'workbench.epoch_progress' (2 steps, 5 samples into the epoch) does not fit"), "\($0)")
        }
        XCTAssertEqual(other.step, 0)
    }

    func testTheFolderReportsItsProgress() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("two-layer-folder-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let folder = TwoLayerRunFolder(path: root + "/run")
        XCTAssertEqual(try folder.progress().state, .notStarted)
        try FileManager.default.createDirectory(atPath: folder.path, withIntermediateDirectories: true)
        try "x".write(toFile: folder.path + "/notes.txt", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try folder.progress()) { XCTAssertTrue("\($0)".contains("run/experiment.json does not exist"), "\($0)") }

        let e = experiment(trainSize: 10, batchSize: nil, epochs: 3)
        try folder.store(e)
        XCTAssertEqual(try folder.storedExperiment(), e)
        let started = try folder.progress()
        XCTAssertEqual([started.state.rawValue, "\(started.epochs ?? -1)", "\(started.epoch)"], ["started", "3", "0"])
        let (_, trainer) = try e.makeTrainer()
        try trainer.trainEpoch()
        try trainer.trainEpoch()
        try folder.save(trainer)
        let unfinished = try folder.progress()
        XCTAssertEqual(unfinished.summary, "unfinished (epoch 2/3, step 2)")
        XCTAssertEqual(try folder.progress(targetEpochs: 2).state, .finished)
        do {
            let lock = try RunLock(runDirectory: folder.path)
            XCTAssertEqual(try folder.progress().lockHolder, getpid())
            withExtendedLifetime(lock) {}
        }
        XCTAssertNil(try folder.progress().lockHolder)

        try "{\"dimension\": 5}".write(toFile: folder.experimentPath, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try folder.progress()) { XCTAssertTrue("\($0)".contains("experiment.json is not a two-layer experiment"), "\($0)") }
        try folder.store(e)
        try Data("not a checkpoint".utf8).write(to: URL(fileURLWithPath: folder.checkpointPath))
        XCTAssertThrowsError(try folder.progress()) { XCTAssertTrue("\($0)".contains("cannot read \(folder.checkpointPath)"), "\($0)") }
    }
}
