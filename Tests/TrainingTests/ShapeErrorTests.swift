import XCTest
import Tangent

/// A shape problem inside a run (here: a batch transform that returns inputs the model cannot take)
/// ends `fit` with the `ShapeError`, naming the layer, before any update is applied.
final class ShapeErrorTests: XCTestCase {
    /// Crops every image to its top-left 20×20 corner: the MNIST CNN's first dense layer then gets
    /// 64·5·5 features instead of 3136.
    final class Crop: BatchTransform {
        func transform(_ inputs: Tensor, labels: [Int32], model: Module, loss: Loss, rng: inout Xoshiro256) throws -> Tensor {
            let n = inputs.shape[0]
            let all = inputs.scalars
            var cropped: [Float] = []
            for i in 0..<n { for r in 0..<20 { cropped += all[(i * 784 + r * 28)..<(i * 784 + r * 28 + 20)] } }
            return Tensor(shape: [n, 1, 20, 20], scalars: cropped)
        }
    }

    func testAShapeErrorInTheLoopEndsTheRunNamingTheLayer() throws {
        let dir = TestRuns.folder(for: self, prefix: "tangent-shape")
        let run = try TestRuns.mnistCNN(TestRuns.settings(epochs: 1), train: 100, test: 20)
        let loop = try TrainingSession.start(run, runDirectory: dir, callbacks: TestRuns.callbacks())
        loop.batchTransform = Crop()
        let before = loop.network.parameterValues().mapValues(\.scalars)
        XCTAssertThrowsError(try loop.fit()) { error in
            XCTAssertEqual((error as? ShapeError)?.modulePath, ["fc1"], "\(error)")
        }
        XCTAssertEqual(loop.step, 0)
        XCTAssertEqual(loop.network.parameterValues().mapValues(\.scalars), before)
        XCTAssertFalse(loop.network.namedParameters.contains { $0.parameter.value.requiresGradient })
    }
}
