import Datasets
import KernelMachines
import XCTest

/// Picking a task's images from a split: the first N of its classes, or the first N/k of each class.
final class KernelTaskSamplesTests: XCTestCase {
    /// Eight 1×1×1 images whose pixel is their index, labels 0 0 0 1 2 1 0 1 of classes a, b, c.
    let data = ImageDataset(name: "toy-train", classNames: ["a", "b", "c"], channels: 1, height: 1, width: 1,
                            images: (0..<8).map { Float($0) }, labels: [0, 0, 0, 1, 2, 1, 0, 1])

    func testFirstTakesTheTasksImagesInFileOrder() throws {
        let (x, y) = try KernelTask.binary(negative: 0, positive: 1).samples(from: data, count: 4, selection: .first)
        XCTAssertEqual(x.shape, [4, 1, 1, 1])
        XCTAssertEqual(x.scalars, [0, 1, 2, 3])
        XCTAssertEqual(y, [0, 0, 0, 1])
        let (_, reversed) = try KernelTask.binary(negative: 2, positive: 1).samples(from: data, count: 3, selection: .first)
        XCTAssertEqual(reversed, [1, 2, 1], "labels stay the data set's; the task maps them to ±1")
    }

    func testPerClassBalancesAndKeepsFileOrder() throws {
        let task = KernelTask.binary(negative: 0, positive: 1)
        let (x, y) = try task.samples(from: data, count: 4, selection: .perClass)
        XCTAssertEqual(x.scalars, [0, 1, 3, 5])
        XCTAssertEqual(y, [0, 0, 1, 1])
        let (odd, _) = try task.samples(from: data, count: 3, selection: .perClass)
        XCTAssertEqual(odd.scalars, [0, 1, 3], "the first N mod k classes get one more")
        let (all, labels) = try KernelTask.multiclass(classes: 3).samples(from: data, count: 3, selection: .perClass)
        XCTAssertEqual(all.scalars, [0, 3, 4])
        XCTAssertEqual(labels, [0, 1, 2])
    }

    func testTooFewImagesOrAClassTheDataSetLacksAreRefused() {
        let task = KernelTask.binary(negative: 0, positive: 1)
        XCTAssertThrowsError(try task.samples(from: data, count: 8, selection: .first)) {
            XCTAssertEqual($0 as? KernelSampleError, .notEnoughImages(split: "toy-train", classes: "a and b", requested: 8, available: 7))
        }
        XCTAssertThrowsError(try task.samples(from: data, count: 8, selection: .perClass)) {
            XCTAssertEqual($0 as? KernelSampleError, .notEnoughImages(split: "toy-train", classes: "b", requested: 4, available: 3))
            XCTAssertEqual("\($0)", "toy-train holds 3 images of b; 4 were asked for")
        }
        XCTAssertThrowsError(try KernelTask.multiclass(classes: 4).samples(from: data, count: 2, selection: .first)) {
            XCTAssertEqual($0 as? KernelSampleError, .classOutsideDataset(split: "toy-train", label: 3, classCount: 3))
        }
        XCTAssertThrowsError(try KernelTask.binary(negative: 1, positive: 1).samples(from: data, count: 2, selection: .first))
    }
}
