import XCTest
import Tangent

/// Resuming from a checkpoint continues exactly the run that would have happened: parameters equal
/// byte for byte and identical metric lines.
final class ResumeTests: XCTestCase {
    func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "tangent-resume-\(UUID().uuidString)"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    func configuration(epochs: Int, adversarial: Bool = false) -> TrainingConfiguration {
        var c = TrainingConfiguration.paperDefaults(model: .mnistCNN)
        c.epochs = epochs
        c.batchSize = 50
        c.trainSubset = 200
        c.testSubset = 50
        c.evalTrainSubset = 100
        c.robustEvalSubset = 20
        c.robustEvaluationAttack = PGDConfiguration(epsilon: 0.1, stepSize: 0.05, steps: 2, randomStart: true)
        c.seed = 7
        if adversarial { c.adversarial = .pgd(PGDConfiguration(epsilon: 0.1, stepSize: 0.05, steps: 2, randomStart: true)) }
        return c
    }

    static func callbacks(_ stopAfterStep: Int?) -> (TrainingConfiguration, String) -> [TrainingCallback] {
        { config, dir in
            var list = TrainingSession.standardCallbacks(config, runDirectory: dir, progress: false)
            if let n = stopAfterStep { list.append(StopAfter(step: n)) }
            return list
        }
    }

    /// Stops the run (after the checkpoint of that step has been written).
    final class StopAfter: TrainingCallback {
        let step: Int
        init(step: Int) { self.step = step }
        func batchEnd(_ loop: TrainingLoop) throws { if loop.step == step { throw StopTraining("test stop") } }
    }

    func parameterBytes(_ loop: TrainingLoop) -> [String: [Float]] {
        Dictionary(uniqueKeysWithValues: loop.network.namedParameters.map { ($0.name, $0.parameter.value.scalars) })
    }

    func metricLines(_ dir: String) throws -> String { try String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8) }

    /// Runs straight, then as interrupted + resumed, and compares.
    func checkResume(adversarial: Bool, stopAfterStep: Int?, checkpointEvery: Int?, linearizeAtEpoch: Int? = nil,
                     trackKernels: Bool = false, file: StaticString = #filePath, line: UInt = #line) throws {
        var config = configuration(epochs: 2, adversarial: adversarial)
        config.checkpointEverySteps = checkpointEvery
        config.linearizeAtEpoch = linearizeAtEpoch
        if trackKernels { config.kernelTracking = KernelTrackingConfiguration(everySteps: 3, everyEpoch: true, probeSize: 8) }
        let straightDir = temporaryDirectory()
        let straight = try TrainingSession.start(config, runDirectory: straightDir, callbacks: Self.callbacks(nil))
        try straight.fit()

        let splitDir = temporaryDirectory()
        var first = config
        if stopAfterStep == nil { first.epochs = 1 }
        let part = try TrainingSession.start(first, runDirectory: splitDir, callbacks: Self.callbacks(stopAfterStep))
        if stopAfterStep != nil {
            XCTAssertThrowsError(try part.fit(), file: file, line: line) { XCTAssert($0 is StopTraining) }
        } else {
            try part.fit()
        }
        let (resumed, _) = try TrainingSession.resume(from: splitDir, adjust: { $0.epochs = 2 }, callbacks: Self.callbacks(nil))
        try resumed.fit()

        XCTAssertEqual(parameterBytes(resumed), parameterBytes(straight), "parameters differ after resume", file: file, line: line)
        // Timing lines (ntk_seconds) legitimately differ between runs.
        func deterministicLines(_ dir: String) throws -> [Substring] {
            try metricLines(dir).split(separator: "\n").filter { !$0.contains("_seconds") }
        }
        XCTAssertEqual(try deterministicLines(splitDir), try deterministicLines(straightDir), "metric lines differ after resume", file: file, line: line)
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
        var config = configuration(epochs: 2)
        config.linearizeAtEpoch = 0
        config.kernelTracking = KernelTrackingConfiguration(everyEpoch: true, probeSize: 6)
        let dir = temporaryDirectory()
        let loop = try TrainingSession.start(config, runDirectory: dir, callbacks: Self.callbacks(nil))
        try loop.fit()
        XCTAssertTrue(loop.trainee is LinearizedModel)
        let rows = try MetricRow.read(path: dir + "/metrics.jsonl")
        let distances = rows.filter { $0.name == "ntk_distance_to_initial" }.compactMap(\.value)
        XCTAssertEqual(distances.count, 3)
        XCTAssertTrue(distances.allSatisfy { abs($0) < 1e-6 }, "f_lin's kernel must not move: \(distances)")
        XCTAssertEqual(rows.filter { $0.name == "linearized" }.count, 1)
    }

    func testLinearizingAtAnEpochThatIsAlreadyPastIsRefused() throws {
        let dir = temporaryDirectory()
        let loop = try TrainingSession.start(configuration(epochs: 2), runDirectory: dir, callbacks: Self.callbacks(nil))
        try loop.fit()
        let (resumed, _) = try TrainingSession.resume(from: dir, into: temporaryDirectory(),
                                                      adjust: { $0.epochs = 3; $0.linearizeAtEpoch = 1 }, callbacks: Self.callbacks(nil))
        XCTAssertThrowsError(try resumed.fit()) { XCTAssertTrue("\($0)".contains("already at epoch 2"), "\($0)") }
    }

    func testSameSeedSameRunDifferentSeedDifferentRun() throws {
        let a = try TrainingSession.start(configuration(epochs: 1), runDirectory: temporaryDirectory(), callbacks: Self.callbacks(nil))
        let b = try TrainingSession.start(configuration(epochs: 1), runDirectory: temporaryDirectory(), callbacks: Self.callbacks(nil))
        var other = configuration(epochs: 1)
        other.seed = 8
        let c = try TrainingSession.start(other, runDirectory: temporaryDirectory(), callbacks: Self.callbacks(nil))
        try a.fit(); try b.fit(); try c.fit()
        XCTAssertEqual(parameterBytes(a), parameterBytes(b))
        XCTAssertNotEqual(parameterBytes(a), parameterBytes(c))
    }

    func testCheckpointWithWrongShapesOrMissingTensorsIsRejectedClearly() throws {
        let dir = temporaryDirectory()
        let loop = try TrainingSession.start(configuration(epochs: 1), runDirectory: dir, callbacks: Self.callbacks(nil))
        try loop.fit()
        let path = try CheckpointDirectory(path: dir + "/checkpoints").latest()!.path
        var checkpoint = try CheckpointFile.read(path: path)
        // Declare the run a CIFAR model: its parameters do not match the stored MNIST tensors.
        var config = try TrainingCheckpoint.configuration(of: checkpoint, path: path)
        config.model = .twoLayer
        config.twoLayerWidth = 16
        checkpoint.metadata["config"] = String(decoding: try config.jsonData(), as: UTF8.self)
        let otherDir = temporaryDirectory()
        try RunDirectory.create(otherDir)
        let other = try TrainingLoop(configuration: config, data: loop.data, log: try MetricsLog(directory: otherDir))
        XCTAssertThrowsError(try TrainingCheckpoint.restore(other, from: checkpoint, path: path)) { error in
            XCTAssertTrue("\(error)".contains(path) && "\(error)".contains("hidden.weight"), "\(error)")
        }
        checkpoint.metadata["epoch"] = nil
        XCTAssertThrowsError(try TrainingCheckpoint.restore(loop, from: checkpoint, path: path)) { error in
            XCTAssertTrue("\(error)".contains("epoch"), "\(error)")
        }
    }
}

/// Stored configurations written before a setting existed still load, with that setting's default.
final class ConfigurationDecodingTests: XCTestCase {
    func testMissingSettingsTakeTheirDefaults() throws {
        let old = #"{"model": "cifar-cnn", "dataset": "cifar10", "epochs": 7, "batchSize": 250, "learningRate": 0.02, "seed": 3}"#
        let c = try TrainingConfiguration.decode(Data(old.utf8))
        XCTAssertEqual(c.model, .cifarCNN)
        XCTAssertEqual(c.epochs, 7)
        XCTAssertEqual(c.learningRate, 0.02)
        XCTAssertEqual(c.keepLast, TrainingConfiguration().keepLast)
        XCTAssertNil(c.linearizeAtEpoch)
        XCTAssertThrowsError(try TrainingConfiguration.decode(Data("[1, 2]".utf8)))
        XCTAssertThrowsError(try TrainingConfiguration.decode(Data(#"{"epochs": "many"}"#.utf8)))
    }
}
