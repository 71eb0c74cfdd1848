import XCTest
import Tangent

/// A model the library has never heard of, written as a plain class (its module tree found by reflection):
/// a strided conv, a conv, a 2×2 average pool and a dense head. Parameters `features.weight`,
/// `features.bias`, `mixer.weight`, `mixer.bias`, `head.weight`, `head.bias`.
final class TinyConvNet: Module {
    let features: Conv2D
    let mixer: Conv2D
    let head: Dense

    /// The same seed gives the same initial parameters (what a resumed run rebuilds before restoring).
    init(seed: UInt64) {
        var rng = Xoshiro256(seed: seed)
        features = Conv2D(inChannels: 1, outChannels: 6, stride: 2, padding: 1, rng: &rng)   // 28² → 14²
        mixer = Conv2D(inChannels: 6, outChannels: 8, rng: &rng)
        head = Dense(inputs: 8 * 7 * 7, outputs: 10, rng: &rng)
    }

    func callAsFunction(_ x: Tensor) throws -> Tensor {
        let h = try callChild("features", features, x).relu()
        let m = try avgPool2d(try callChild("mixer", mixer, h).relu(), window: 2)             // 14² → 7²
        return try callChild("head", head, try m.flattenedBatch())
    }

    static let parameterNames: Set<String> = ["features.weight", "features.bias", "mixer.weight", "mixer.bias",
                                              "head.weight", "head.bias"]
}

/// Issue 11: the loop trains any module with any optimiser, loss, schedule and augmentation; kernel
/// tracking, checkpoints, linearization and resume all follow the model that was passed in.
final class OpenLoopTests: XCTestCase {
    /// A user's model trained by the standard session: kernel tracking measures that model (its kernel
    /// moves, and the last saved kernel is the trained model's kernel, recomputed), and the checkpoint
    /// holds exactly its parameters, under its own names, with its trained values.
    func testACustomModelIsTrainedTrackedAndCheckpointedUnderItsOwnNames() throws {
        var settings = TestRuns.settings(epochs: 2)
        settings.kernelTracking = KernelTrackingConfiguration(everyEpoch: true, probeSize: 8)
        let model = TinyConvNet(seed: settings.seed)
        let run = RunComponents(model: model, optimizer: try Adam(learningRate: 3e-3), data: try TestRuns.mnist(), settings: settings)
        let dir = TestRuns.folder(for: self)
        let loop = try TrainingSession.start(run, runDirectory: dir, callbacks: TestRuns.callbacks())
        XCTAssertTrue(loop.network === model && loop.trainee === model)
        try loop.fit()

        let distances = try TestRuns.values(dir, "ntk_distance_to_initial")
        XCTAssertEqual(distances.count, 3)
        XCTAssertEqual(distances.first, 0)
        XCTAssertGreaterThan(distances.last ?? 0, 0, "the tracked kernel did not move: was the model trained and tracked?")

        let index = try XCTUnwrap(try KernelSnapshotStore.readIndex(runDirectory: dir))
        let saved = try KernelSnapshotStore(runDirectory: dir, index: index).load(try XCTUnwrap(index.snapshots.last))
        let (probe, _) = BatchAssembly.batch(loop.data.train, indices: 0..<8)
        let recomputed = try EmpiricalNTK.compute(model, inputs: probe)
        XCTAssertEqual(saved.n, 80)
        XCTAssertLessThan(try KernelMetrics.differenceNorm(saved, recomputed) / recomputed.frobeniusNorm, 1e-6)

        let (_, checkpoint) = try TestRuns.latestCheckpoint(dir)
        XCTAssertEqual(TestRuns.parameterNames(in: checkpoint), TinyConvNet.parameterNames)
        XCTAssertEqual(Set(model.namedParameters.map(\.name)), TinyConvNet.parameterNames)
        for (name, p) in model.namedParameters {
            XCTAssertEqual(try checkpoint.tensor(named: name).shape, p.value.shape, name)
            XCTAssertEqual(try checkpoint.tensor(named: name).floats(), p.value.scalars, name)
            // Adam's state is saved per parameter, under the same names.
            XCTAssertNotNil(checkpoint["optimizer.m.\(name)"], name)
        }
        let accuracy = try XCTUnwrap(try TestRuns.values(dir, "train_accuracy").last)
        XCTAssertGreaterThan(accuracy, 0.5, "the custom model should learn the sample")
    }

    /// `trainee` is the network until `linearize()`, then the `LinearizedModel` wrapping that same network
    /// (sharing its parameters); training then moves θ but not the anchor.
    ///
    /// `trainee` and `network` cannot be replaced from outside: `loop.trainee = other` does not compile
    /// (`trainee` is a get-only computed property) and neither does `loop.network = other` (a `let`), so
    /// that is documented here rather than tested.
    func testTraineeIsTheNetworkUntilLinearizedThenItsLinearization() throws {
        var settings = TestRuns.settings(epochs: 1)
        settings.checkpointEveryEpoch = false
        let model = TinyConvNet(seed: 3)
        let run = RunComponents(model: model, optimizer: try SGD(learningRate: 0.05), data: try TestRuns.mnist(), settings: settings)
        let loop = try TestRuns.loop(run, in: TestRuns.folder(for: self))
        XCTAssertTrue(loop.network === model)
        XCTAssertTrue(loop.trainee === model)
        XCTAssertNil(loop.linearization)

        let before = TestRuns.parameters(model)
        try loop.linearize()
        let linearized = try XCTUnwrap(loop.trainee as? LinearizedModel)
        XCTAssertTrue(linearized === loop.linearization)
        XCTAssertTrue(linearized.network === model, "the linearization must wrap the network passed in")
        XCTAssertTrue(loop.network === model)
        XCTAssertEqual(linearized.anchor.mapValues(\.scalars), before)
        XCTAssertEqual(Set(linearized.namedParameters.map(\.name)), TinyConvNet.parameterNames)

        try loop.fit()
        XCTAssertNotEqual(TestRuns.parameters(model), before, "training the linearization must move the shared θ")
        XCTAssertEqual(linearized.anchor.mapValues(\.scalars), before, "the anchor θ₀ must stay put")
        XCTAssertTrue(loop.trainee === linearized)
        // What is trained is f_lin, not the network: their outputs now differ.
        let (x, _) = BatchAssembly.batch(loop.data.test, indices: 0..<4)
        XCTAssertNotEqual(try linearized(x).scalars, try model(x).scalars)
    }

    /// The open loop's resume promise on a user's model: Adam, a cosine schedule, crops and flips, PGD
    /// adversarial training, robust evaluation and kernel tracking, interrupted mid-epoch and resumed
    /// from its checkpoint with freshly built components, ends exactly where a straight run ends.
    func testCustomModelResumesBitExactlyWithAdamCosineAugmentationAndPGD() throws {
        var settings = TestRuns.settings(epochs: 2, robustEvalSubset: 20)   // 200 images, batch 50: 4 steps an epoch
        settings.adversarial = .pgd(TestRuns.cheapPGD)
        settings.augmentation = try Augmentation(cropPadding: 2, horizontalFlip: true)
        settings.checkpointEverySteps = 3
        settings.kernelTracking = KernelTrackingConfiguration(everySteps: 5, everyEpoch: true, probeSize: 6)
        let data = try TestRuns.mnist()
        func components() throws -> RunComponents {
            RunComponents(model: TinyConvNet(seed: settings.seed), optimizer: try Adam(learningRate: 2e-3),
                          schedule: try CosineSchedule(rate: 2e-3, totalSteps: 8, minimum: 1e-4), data: data, settings: settings)
        }

        let straightDir = TestRuns.folder(for: self)
        let straight = try TrainingSession.start(try components(), runDirectory: straightDir, callbacks: TestRuns.callbacks())
        try straight.fit()

        let splitDir = TestRuns.folder(for: self)
        let part = try TrainingSession.start(try components(), runDirectory: splitDir, callbacks: TestRuns.callbacks(stopAfterStep: 6))
        TestRuns.fitUntilStopped(part)
        let (resumed, path) = try TrainingSession.resume(from: splitDir, components: { _ in try components() }, callbacks: TestRuns.callbacks())
        XCTAssertTrue(path.hasSuffix(CheckpointDirectory.fileName(step: 6)), path)
        XCTAssertEqual(resumed.step, 6)
        XCTAssertEqual(resumed.epoch, 1)
        XCTAssertEqual(resumed.batchOrder.position, 100, "the resumed run must continue mid-epoch")
        try resumed.fit()

        XCTAssertEqual(resumed.step, 8)
        XCTAssertEqual(TestRuns.parameters(resumed.network), TestRuns.parameters(straight.network), "parameters differ after resume")
        XCTAssertEqual(resumed.optimizer.state.mapValues(\.scalars), straight.optimizer.state.mapValues(\.scalars), "Adam's state differs")
        XCTAssertEqual(resumed.transformGenerator, straight.transformGenerator)
        XCTAssertEqual(try TestRuns.deterministicMetricLines(splitDir), try TestRuns.deterministicMetricLines(straightDir),
                       "metric lines differ after resume")
        XCTAssertEqual(try TestRuns.rows(splitDir, "ntk_distance_to_initial").map(\.step), [0, 4, 5, 8])
    }
}
