import Foundation
import XCTest
import Tangent

/// What the open loop refuses, and when: values that cannot train together are refused before a run
/// folder exists; a checkpoint is refused by a loop whose model, optimiser or trajectory settings differ
/// from the run that wrote it, with the differences named.
final class CompatibilityTests: XCTestCase {
    // MARK: Refused before any run folder is created

    /// Starts `make()` in a new folder and returns the error; fails the test if the run started or if the
    /// folder exists afterwards.
    func startError(_ make: () throws -> RunComponents, file: StaticString = #filePath, line: UInt = #line) -> Error? {
        let dir = TestRuns.folder(for: self)
        defer { XCTAssertFalse(TestRuns.exists(dir), "the refused run created its folder", file: file, line: line) }
        do {
            _ = try TrainingSession.start(try make(), runDirectory: dir, callbacks: TestRuns.callbacks())
        } catch {
            return error
        }
        XCTFail("the run started", file: file, line: line)
        return nil
    }

    /// An MLP with `outputs` outputs on the MNIST sample.
    func mlp(outputs: Int, loss: Loss, settings: TrainingSettings = TestRuns.settings(epochs: 1)) throws -> RunComponents {
        var rng = Xoshiro256(seed: 1)
        return RunComponents(model: Architectures.mlp(inputs: 784, hidden: [16], outputs: outputs, rng: &rng), optimizer: try SGD(),
                             loss: loss, data: try TestRuns.mnist(), settings: settings)
    }

    func testAModelWhoseOutputsDoNotFitTheLossOrLabelsIsRefusedBeforeTheRunFolder() throws {
        // Three outputs for ten classes: cross-entropy and the squared loss both refuse the labels.
        for loss in [Loss.crossEntropy, .meanSquared(), .meanSquared(plusMinusOne: true)] {
            let error = startError { try mlp(outputs: 3, loss: loss) }
            let text = "\(error.map { "\($0)" } ?? "")"
            XCTAssertTrue(error is TrainingError, text)
            XCTAssertTrue(text.contains("'\(loss.name)'") && text.contains("[1, 3]") && text.contains("10 classes"), text)
        }
        // One output: binary cross-entropy takes labels 0 and 1 only, and MNIST has ten.
        let binary = startError { try mlp(outputs: 1, loss: .binaryCrossEntropy) }
        XCTAssertTrue("\(binary.map { "\($0)" } ?? "")".contains("'bce'"), "\(String(describing: binary))")
        // Ten outputs are ten independent binary decisions against one-hot targets: fine.
        let dir = TestRuns.folder(for: self)
        XCTAssertNoThrow(try TrainingSession.start(try mlp(outputs: 10, loss: .binaryCrossEntropy), runDirectory: dir,
                                                   callbacks: TestRuns.callbacks()))
        XCTAssertTrue(TestRuns.exists(dir + "/config.json"))
    }

    func testAModelThatDoesNotTakeTheImagesIsRefusedBeforeTheRunFolder() throws {
        // A CIFAR ResNet expects three input channels; MNIST has one.
        let error = startError {
            var rng = Xoshiro256(seed: 1)
            return RunComponents(model: try Architectures.cifarResNet(depth: 8, rng: &rng), optimizer: try SGD(),
                                 data: try TestRuns.mnist(), settings: TestRuns.settings(epochs: 1))
        }
        let text = "\(error.map { "\($0)" } ?? "")"
        XCTAssertTrue(text.contains("does not take the training images") && text.contains("[1, 1, 28, 28]"), text)
        XCTAssertTrue(text.contains("stem"), "the error should name the layer: \(text)")
    }

    func testInvalidLearningRatesAreRefusedByTheOptimisersBeforeTheRunFolder() throws {
        for rate: Float in [-1, .nan, .infinity, -.infinity] {
            for make in [{ try SGD(learningRate: rate) as any Optimizer }, { try Adam(learningRate: rate) as any Optimizer },
                         { try Adam.adamW(learningRate: rate) as any Optimizer }] {
                let error = startError { try TestRuns.mnistCNN(TestRuns.settings(epochs: 1), optimizer: try make()) }
                guard case .invalidSetting(let name, _, _)? = error as? OptimizerError else {
                    XCTFail("expected an invalid learning rate, got \(String(describing: error))"); continue
                }
                XCTAssertEqual(name, "learning rate")
                XCTAssertTrue("\(error!)".contains("learning rate"), "\(error!)")
            }
        }
        XCTAssertNoThrow(try SGD(learningRate: 0))
        XCTAssertThrowsError(try CosineSchedule(rate: 0.1, totalSteps: 0))
    }

    func testAnAugmentationThatCannotApplyIsRefusedBeforeTheRunFolder() throws {
        for padding in [28, 40] {
            var settings = TestRuns.settings(epochs: 1)
            settings.augmentation = try Augmentation(cropPadding: padding)
            let error = startError { try TestRuns.mnistCNN(settings) }
            XCTAssertTrue(error is AugmentationError, "\(String(describing: error))")
            XCTAssertTrue("\(error.map { "\($0)" } ?? "")".contains("crop padding \(padding)"), "\(String(describing: error))")
        }
        XCTAssertThrowsError(try Augmentation(cropPadding: -1))
        // The largest padding that fits starts.
        var settings = TestRuns.settings(epochs: 1)
        settings.augmentation = try Augmentation(cropPadding: 27, horizontalFlip: true)
        XCTAssertNoThrow(try TrainingLoop.checkCompatibility(model: try TestRuns.mnistCNN(settings).model, loss: .crossEntropy,
                                                             data: try TestRuns.mnist(), settings: settings))
    }

    func testInvalidSettingsAreRefusedBeforeTheRunFolder() throws {
        var settings = TestRuns.settings(epochs: 1)
        settings.batchSize = 0
        let error = startError { try TestRuns.mnistCNN(settings) }
        XCTAssertTrue("\(error.map { "\($0)" } ?? "")".contains("batch size"), "\(String(describing: error))")
    }

    // MARK: Checkpoints that do not fit the loop

    /// A finished one-epoch run of the MNIST CNN (SGD, cross-entropy, batch 50, seed 7) and its folder.
    func trainedRun() throws -> String {
        let dir = TestRuns.folder(for: self)
        try TrainingSession.start(try TestRuns.mnistCNN(TestRuns.settings(epochs: 1)), runDirectory: dir, callbacks: TestRuns.callbacks()).fit()
        return dir
    }

    /// Resumes `dir` with `components` (to 2 epochs) and returns the error message; fails if it resumed.
    func resumeError(_ dir: String, file: StaticString = #filePath, line: UInt = #line,
                     _ components: @escaping () throws -> RunComponents) -> String {
        do {
            _ = try TrainingSession.resume(from: dir, components: { _ in try components() }, callbacks: TestRuns.callbacks())
            XCTFail("the checkpoint was accepted", file: file, line: line)
            return ""
        } catch {
            return "\(error)"
        }
    }

    func testACheckpointOfAnotherModelIsRefusedWithTheMismatchingNamesAndShapes() throws {
        let dir = try trainedRun()
        let (path, _) = try TestRuns.latestCheckpoint(dir)
        var rng = Xoshiro256(seed: 7)
        let mlp = Architectures.mlp(inputs: 784, hidden: [64], outputs: 10, rng: &rng)
        let untouched = TestRuns.parameters(mlp)
        let message = resumeError(dir) {
            RunComponents(model: mlp, optimizer: try SGD(), data: try TestRuns.mnist(), settings: TestRuns.settings(epochs: 2))
        }
        XCTAssertTrue(message.contains(path), message)
        // Same names, other shapes:
        XCTAssertTrue(message.contains("'fc1.weight' has shape [256, 3136], the model expects [64, 784]"), message)
        XCTAssertTrue(message.contains("'fc2.weight' has shape [10, 256], the model expects [10, 64]"), message)
        // Tensors the model does not have:
        XCTAssertTrue(message.contains("'conv1.weight' [32, 1, 3, 3] is not a parameter of the model"), message)
        XCTAssertEqual(TestRuns.parameters(mlp), untouched, "a refused checkpoint must change nothing")
    }

    func testACheckpointOfAnotherModelIsRefusedWhenTheOptimiserHasState() throws {
        // Adam's moments are per parameter, so they do not fit a mismatching model either; the parameters
        // are checked first, so the refusal lists every mismatching parameter, as for an optimiser without state.
        let dir = TestRuns.folder(for: self)
        try TrainingSession.start(try TestRuns.mnistCNN(TestRuns.settings(epochs: 1), optimizer: try Adam()), runDirectory: dir,
                                  callbacks: TestRuns.callbacks()).fit()
        let (path, _) = try TestRuns.latestCheckpoint(dir)
        var rng = Xoshiro256(seed: 7)
        let mlp = Architectures.mlp(inputs: 784, hidden: [64], outputs: 10, rng: &rng)
        let untouched = TestRuns.parameters(mlp)
        let message = resumeError(dir) {
            RunComponents(model: mlp, optimizer: try Adam(), data: try TestRuns.mnist(), settings: TestRuns.settings(epochs: 2))
        }
        XCTAssertTrue(message.contains(path) && message.contains("does not fit the model"), message)
        XCTAssertTrue(message.contains("'fc1.weight' has shape [256, 3136], the model expects [64, 784]"), message)
        XCTAssertTrue(message.contains("'conv1.weight' [32, 1, 3, 3] is not a parameter of the model"), message)
        XCTAssertEqual(TestRuns.parameters(mlp), untouched, "a refused checkpoint must change no parameter")
    }

    func testARefusedResumeWritesNothing() throws {
        // Every check runs before a folder is created or a file written: neither the branch folder nor the
        // original run's config.json may change when the checkpoint does not fit.
        let dir = try trainedRun()
        let config = try String(contentsOfFile: dir + "/config.json", encoding: .utf8)
        let branch = TestRuns.folder(for: self) + "-branch"
        var rng = Xoshiro256(seed: 7)
        let mlp = Architectures.mlp(inputs: 784, hidden: [64], outputs: 10, rng: &rng)
        for target in [branch, nil] {
            XCTAssertThrowsError(try TrainingSession.resume(from: dir, into: target, components: { _ in
                RunComponents(model: mlp, optimizer: try SGD(learningRate: 0.01), data: try TestRuns.mnist(),
                              settings: TestRuns.settings(epochs: 2), description: Data(#"{"who": "refused"}"#.utf8))
            }, callbacks: TestRuns.callbacks()))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: branch), "a refused branch must not be created")
        XCTAssertEqual(try String(contentsOfFile: dir + "/config.json", encoding: .utf8), config)
    }

    func testEveryLabelOfTheDataMustFitTheModelsOutputs() throws {
        // The first images' labels fit a 3-output model, a later one does not: refused before any folder exists.
        let data = try TestRuns.mnist()
        let order = data.train.labels.indices.sorted { data.train.labels[$0] < data.train.labels[$1] }
        let sorted = TrainingData(train: data.train.subset(indices: order), test: data.test.subset(indices:
            data.test.labels.indices.sorted { data.test.labels[$0] < data.test.labels[$1] }), source: "sorted sample")
        XCTAssertEqual(sorted.train.labels.first, 0)
        var rng = Xoshiro256(seed: 7)
        let three = Architectures.mlp(inputs: 784, hidden: [16], outputs: 3, rng: &rng)
        let dir = TestRuns.folder(for: self)
        XCTAssertThrowsError(try TrainingSession.start(RunComponents(model: three, optimizer: try SGD(learningRate: 0.01),
                                                                     data: sorted, settings: TestRuns.settings(epochs: 1)),
                                                       runDirectory: dir, callbacks: TestRuns.callbacks())) { error in
            XCTAssertTrue("\(error)".contains("label 9"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir))
    }

    func testAnSGDCheckpointIsRefusedByAnAdamLoop() throws {
        let dir = try trainedRun()
        let message = resumeError(dir) { try TestRuns.mnistCNN(TestRuns.settings(epochs: 2), optimizer: try Adam()) }
        XCTAssertTrue(message.contains("holds SGD state") && message.contains("Adam"), message)
        // And the other way round, and for another loss.
        let adamDir = TestRuns.folder(for: self)
        try TrainingSession.start(try TestRuns.mnistCNN(TestRuns.settings(epochs: 1), optimizer: try Adam()), runDirectory: adamDir,
                                  callbacks: TestRuns.callbacks()).fit()
        let back = resumeError(adamDir) { try TestRuns.mnistCNN(TestRuns.settings(epochs: 2)) }
        XCTAssertTrue(back.contains("holds Adam state") && back.contains("SGD"), back)
        let loss = resumeError(dir) { try TestRuns.mnistCNN(TestRuns.settings(epochs: 2), loss: .meanSquared()) }
        XCTAssertTrue(loss.contains("'ce'") && loss.contains("'mse'"), loss)
    }

    func testChangedBatchSizeOrSeedOnResumeIsRefused() throws {
        let dir = try trainedRun()
        var smaller = TestRuns.settings(epochs: 2)
        smaller.batchSize = 25
        let batch = resumeError(dir) { try TestRuns.mnistCNN(smaller) }
        XCTAssertTrue(batch.contains("batch size 50 → 25"), batch)
        let seed = resumeError(dir) { try TestRuns.mnistCNN(TestRuns.settings(epochs: 2, seed: 8)) }
        XCTAssertTrue(seed.contains("seed 7 → 8"), seed)
        var augmented = TestRuns.settings(epochs: 2)
        augmented.augmentation = try Augmentation(horizontalFlip: true)
        let augmentation = resumeError(dir) { try TestRuns.mnistCNN(augmented) }
        XCTAssertTrue(augmentation.contains("augmentation changed"), augmentation)
        // What may change: the number of epochs, evaluation and checkpoint cadence.
        var longer = TestRuns.settings(epochs: 3)
        longer.evalEvery = 2
        longer.keepLast = 5
        let (resumed, _) = try TrainingSession.resume(from: dir, components: { _ in try TestRuns.mnistCNN(longer) },
                                                      callbacks: TestRuns.callbacks())
        XCTAssertEqual(resumed.epoch, 1)
    }
}
