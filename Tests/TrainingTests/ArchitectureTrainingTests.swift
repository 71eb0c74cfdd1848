import XCTest
import Tangent

/// The architectures beyond the paper's, built and trained by the same loop: parameter counts checked
/// by hand, and a short run on small data that learns. CIFAR-shaped models train on synthetic 3×32×32 data
/// (class colours under stripes and noise, see `TestRuns.synthetic`), so the tests never need a data folder.
final class ArchitectureTrainingTests: XCTestCase {
    /// Trains `model` on `data` for `epochs` epochs with Adam and checks that the epoch loss falls below
    /// `factor` × the first epoch's and that training accuracy ends above `accuracy`.
    func checkLearns(_ model: Module, on data: TrainingData, epochs: Int, batchSize: Int, learningRate: Float = 2e-3,
                     factor: Double = 0.5, accuracy: Double, file: StaticString = #filePath, line: UInt = #line) throws {
        var settings = TestRuns.settings(epochs: epochs, batchSize: batchSize)
        settings.evalEvery = epochs
        settings.checkpointEveryEpoch = false
        let run = RunComponents(model: model, optimizer: try Adam(learningRate: learningRate), data: data, settings: settings)
        let dir = TestRuns.folder(for: self)
        try TrainingSession.start(run, runDirectory: dir, callbacks: TestRuns.callbacks()).fit()
        let losses = try TestRuns.values(dir, "train_loss")
        XCTAssertEqual(losses.count, epochs, file: file, line: line)
        XCTAssertLessThan(losses.last!, factor * losses.first!, "epoch losses \(losses)", file: file, line: line)
        let trainAccuracy = try XCTUnwrap(try TestRuns.values(dir, "train_accuracy").last, file: file, line: line)
        XCTAssertGreaterThan(trainAccuracy, accuracy, "epoch losses \(losses)", file: file, line: line)
    }

    func testMLP() throws {
        var rng = Xoshiro256(seed: 1)
        let model = Architectures.mlp(inputs: 784, hidden: [64, 32], outputs: 10, rng: &rng)
        // fc1 784·64 + 64 = 50,240; fc2 64·32 + 32 = 2,080; fc3 32·10 + 10 = 330.
        XCTAssertEqual(model.parameterCount, 52_650)
        XCTAssertEqual(model.namedParameters.map(\.name), ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"])
        try checkLearns(model, on: try TestRuns.mnist(train: 1000, test: 100), epochs: 4, batchSize: 50, accuracy: 0.85)
    }

    func testCIFARResNet20() throws {
        var rng = Xoshiro256(seed: 1)
        let model = try Architectures.cifarResNet(depth: 20, classes: 4, rng: &rng)
        // Every conv 3×3 with a bias, 1×1 projections with a bias, no batch norm; n = 3 blocks a stage.
        //   stem 3→16:                                  16·3·9 + 16        =     448
        //   stage 1, 3 blocks × 2 convs 16→16:          6 × (16·16·9 + 16) =  13,920
        //   stage 2, block 1: 16→32, 32→32, 1×1 16→32:  4,640 + 9,248 + 544 = 14,432
        //            blocks 2, 3: 4 convs 32→32:        4 × 9,248           = 36,992
        //   stage 3, block 1: 32→64, 64→64, 1×1 32→64:  18,496 + 36,928 + 2,112 = 57,536
        //            blocks 2, 3: 4 convs 64→64:        4 × 36,928          = 147,712
        //   dense 64→10:                                640 + 10            =     650
        //   total 448 + 13,920 + 14,432 + 36,992 + 57,536 + 147,712 + 650 = 271,690 (with 10 classes).
        var ten = Xoshiro256(seed: 1)
        XCTAssertEqual(try Architectures.cifarResNet(depth: 20, rng: &ten).parameterCount, 271_690)
        XCTAssertEqual(model.parameterCount, 271_690 - 6 * 65)   // four classes: 6 fewer output rows of 64 + 1
        XCTAssertEqual(model.namedParameters.filter { $0.name.hasSuffix("shortcut.weight") }.map(\.name),
                       ["stage2.block1.residual.shortcut.weight", "stage3.block1.residual.shortcut.weight"])
        XCTAssertEqual(model.namedParameters.count, 2 * (1 + 18 + 2) + 2)   // stem, 18 block convs, 2 projections, dense
        try checkLearns(model, on: TestRuns.synthetic(classes: 4, train: 128, test: 32), epochs: 4, batchSize: 32, accuracy: 0.9)
    }

    func testMyrtle5() throws {
        var rng = Xoshiro256(seed: 1)
        let model = try Architectures.myrtle(depth: 5, width: 16, rng: &rng)
        // Four 3×3 convs with biases (3→16, then three 16→16) and a dense 16→10:
        // 16·3·9 + 16 = 448; 3 × (16·16·9 + 16) = 6,960; 16·10 + 10 = 170; total 7,578.
        XCTAssertEqual(model.parameterCount, 7_578)
        XCTAssertEqual(model.namedParameters.map(\.name).filter { $0.hasSuffix("weight") },
                       ["conv1.weight", "conv2.weight", "conv3.weight", "conv4.weight", "fc.weight"])
        try checkLearns(model, on: TestRuns.synthetic(classes: 10, train: 400, test: 100), epochs: 5, batchSize: 50,
                        learningRate: 5e-3, accuracy: 0.9)
    }
}
