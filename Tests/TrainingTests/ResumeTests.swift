import XCTest
import Tangent

/// Resuming from a checkpoint continues exactly the run that would have happened: parameters equal
/// byte for byte and identical metric lines. Runs: the paper's MNIST CNN on 200 sample images, batch 50
/// (four steps an epoch), seed 7, robust evaluation on 20 images.
final class ResumeTests: XCTestCase {
    func settings(epochs: Int, adversarial: Bool = false) -> TrainingSettings {
        var s = TestRuns.settings(epochs: epochs, robustEvalSubset: 20)
        if adversarial { s.adversarial = .pgd(TestRuns.cheapPGD) }
        return s
    }

    /// Runs straight, then as interrupted + resumed, and compares.
    func checkResume(adversarial: Bool, stopAfterStep: Int?, checkpointEvery: Int?, linearizeAtEpoch: Int? = nil,
                     trackKernels: Bool = false, file: StaticString = #filePath, line: UInt = #line) throws {
        var settings = settings(epochs: 2, adversarial: adversarial)
        settings.checkpointEverySteps = checkpointEvery
        settings.linearizeAtEpoch = linearizeAtEpoch
        if trackKernels { settings.kernelTracking = KernelTrackingConfiguration(everySteps: 3, everyEpoch: true, probeSize: 8) }
        let straightDir = TestRuns.folder(for: self)
        let straight = try TrainingSession.start(try TestRuns.mnistCNN(settings), runDirectory: straightDir, callbacks: TestRuns.callbacks())
        try straight.fit()

        let splitDir = TestRuns.folder(for: self)
        var first = settings
        if stopAfterStep == nil { first.epochs = 1 }
        let part = try TrainingSession.start(try TestRuns.mnistCNN(first), runDirectory: splitDir,
                                             callbacks: TestRuns.callbacks(stopAfterStep: stopAfterStep))
        if stopAfterStep != nil { TestRuns.fitUntilStopped(part, file: file, line: line) } else { try part.fit() }
        // A new process would build the same components from scratch; the checkpoint then restores the state.
        let (resumed, _) = try TrainingSession.resume(from: splitDir, components: { _ in try TestRuns.mnistCNN(settings) },
                                                      callbacks: TestRuns.callbacks())
        try resumed.fit()

        XCTAssertEqual(TestRuns.parameters(resumed.network), TestRuns.parameters(straight.network), "parameters differ after resume",
                       file: file, line: line)
        XCTAssertEqual(try TestRuns.deterministicMetricLines(splitDir), try TestRuns.deterministicMetricLines(straightDir),
                       "metric lines differ after resume", file: file, line: line)
        XCTAssertEqual(resumed.step, straight.step, file: file, line: line)
    }

    func testResumeAtEpochBoundaryIsBitExact() throws {
        try checkResume(adversarial: false, stopAfterStep: nil, checkpointEvery: nil)
    }

    func testResumeMidEpochIsBitExact() throws {
        try checkResume(adversarial: false, stopAfterStep: 6, checkpointEvery: 3)
    }

    func testResumeWithAdversarialTrainingIsBitExact() throws {
        try checkResume(adversarial: true, stopAfterStep: 2, checkpointEvery: 2)
    }

    func testResumeWithLinearizationAndKernelTrackingIsBitExact() throws {
        // Linearized from epoch 1, stopped mid-way through it, adversarial training and kernel tracking on.
        try checkResume(adversarial: true, stopAfterStep: 6, checkpointEvery: 3, linearizeAtEpoch: 1, trackKernels: true)
    }

    func testLinearizingAtEpochZeroFreezesTheTrackedKernel() throws {
        var settings = settings(epochs: 2)
        settings.linearizeAtEpoch = 0
        settings.kernelTracking = KernelTrackingConfiguration(everyEpoch: true, probeSize: 6)
        let dir = TestRuns.folder(for: self)
        let loop = try TrainingSession.start(try TestRuns.mnistCNN(settings), runDirectory: dir, callbacks: TestRuns.callbacks())
        try loop.fit()
        let linearized = try XCTUnwrap(loop.trainee as? LinearizedModel)
        XCTAssertTrue(linearized.network === loop.network)
        let distances = try TestRuns.values(dir, "ntk_distance_to_initial")
        XCTAssertEqual(distances.count, 3)
        XCTAssertTrue(distances.allSatisfy { abs($0) < 1e-6 }, "f_lin's kernel must not move: \(distances)")
        XCTAssertEqual(try TestRuns.rows(dir, "linearized").count, 1)
    }

    func testLinearizingAtAnEpochThatIsAlreadyPastIsRefused() throws {
        let dir = TestRuns.folder(for: self)
        let loop = try TrainingSession.start(try TestRuns.mnistCNN(settings(epochs: 2)), runDirectory: dir, callbacks: TestRuns.callbacks())
        try loop.fit()
        var later = settings(epochs: 3)
        later.linearizeAtEpoch = 1
        let (resumed, _) = try TrainingSession.resume(from: dir, into: TestRuns.folder(for: self),
                                                      components: { _ in try TestRuns.mnistCNN(later) }, callbacks: TestRuns.callbacks())
        XCTAssertThrowsError(try resumed.fit()) { XCTAssertTrue("\($0)".contains("already at epoch 2"), "\($0)") }
    }

    func testSameSeedSameRunDifferentSeedDifferentRun() throws {
        func trained(seed: UInt64) throws -> [String: [Float]] {
            var s = settings(epochs: 1)
            s.seed = seed
            let loop = try TrainingSession.start(try TestRuns.mnistCNN(s), runDirectory: TestRuns.folder(for: self), callbacks: TestRuns.callbacks())
            try loop.fit()
            return TestRuns.parameters(loop.network)
        }
        let a = try trained(seed: 7)
        XCTAssertEqual(a, try trained(seed: 7))
        XCTAssertNotEqual(a, try trained(seed: 8))
    }

    func testCheckpointWithWrongShapesOrMissingTensorsIsRejectedClearly() throws {
        let dir = TestRuns.folder(for: self)
        let loop = try TrainingSession.start(try TestRuns.mnistCNN(settings(epochs: 1)), runDirectory: dir, callbacks: TestRuns.callbacks())
        try loop.fit()
        var (path, checkpoint) = try TestRuns.latestCheckpoint(dir)
        // A loop of another model (the two-layer network): its parameters do not match the stored MNIST CNN tensors.
        var rng = Xoshiro256(seed: 7)
        let otherDir = TestRuns.folder(for: self)
        try RunDirectory.create(otherDir)
        let other = try TrainingLoop(model: PaperModels.twoLayer(inputs: 784, width: 16, outputs: 10, rng: &rng), optimizer: try SGD(),
                                     data: loop.data, settings: loop.settings, log: try MetricsLog(directory: otherDir))
        XCTAssertThrowsError(try TrainingCheckpoint.restore(other, from: checkpoint, path: path)) { error in
            XCTAssertTrue("\(error)".contains(path) && "\(error)".contains("hidden.weight"), "\(error)")
        }
        checkpoint.metadata["epoch"] = nil
        XCTAssertThrowsError(try TrainingCheckpoint.restore(loop, from: checkpoint, path: path)) { error in
            XCTAssertTrue("\(error)".contains("epoch"), "\(error)")
        }
    }
}
