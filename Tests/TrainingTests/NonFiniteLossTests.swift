import XCTest
import Tangent

/// A diverging run stops with a clear error and leaves parameters and checkpoints intact.
final class NonFiniteLossTests: XCTestCase {
    func testDivergingRunStopsWithAClearErrorAndKeepsTheLastCheckpoint() throws {
        let dir = NSTemporaryDirectory() + "tangent-nan-\(UUID().uuidString)"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        var config = TrainingConfiguration.paperDefaults(model: .mnistCNN)
        config.epochs = 3
        config.batchSize = 50
        config.trainSubset = 100
        config.testSubset = 20
        config.robustEvalSubset = 0
        config.learningRate = 1e30  // weights reach ~1e28 after one step; activations then overflow
        config.checkpointEverySteps = 1
        let loop = try TrainingSession.start(config, runDirectory: dir) { c, d in
            TrainingSession.standardCallbacks(c, runDirectory: d, progress: false)
        }
        XCTAssertThrowsError(try loop.fit()) { error in
            XCTAssertTrue("\(error)".contains("became non-finite") || "\(error)".contains("training loss became"), "\(error)")
        }
        for (_, p) in loop.network.namedParameters {
            XCTAssertTrue(p.value.scalars.allSatisfy(\.isFinite), "a non-finite update was applied")
        }
        let latest = try XCTUnwrap(try CheckpointDirectory(path: dir + "/checkpoints").loadLatestValid())
        XCTAssertEqual(latest.skipped.count, 0)
        XCTAssertEqual(latest.entry.step, loop.step)
    }
}
