import Datasets
import Kernels
import KernelMachines
import XCTest

/// Picking a task's images from a split: the first N of its classes, the first N/k of each class, or a
/// seeded shuffle; and disjoint parts (test and validation) of one split.
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

    func testShuffledIsTheSeededShuffleOfTheTasksImages() throws {
        let task = KernelTask.binary(negative: 0, positive: 1)
        let candidates = [0, 1, 2, 3, 5, 6, 7]          // the images of classes a and b, in file order
        for seed: UInt64 in [0, 2022] {
            var rng = Xoshiro256(seed: seed)
            var order = Array(candidates.indices)
            order.shuffle(using: &rng)
            let (x, y) = try task.samples(from: data, count: 5, selection: .shuffled, seed: seed)
            XCTAssertEqual(x.scalars, order.prefix(5).map { Float(candidates[$0]) })
            XCTAssertEqual(y, order.prefix(5).map { data.labels[candidates[$0]] })
        }
        let again = try task.samples(from: data, count: 7, selection: .shuffled, seed: 5)
        XCTAssertEqual(again.inputs.scalars.sorted(), candidates.map(Float.init), "all seven, each once")
        XCTAssertEqual(try task.samples(from: data, count: 7, selection: .shuffled, seed: 5).inputs.scalars, again.inputs.scalars)
        XCTAssertNotEqual(try task.samples(from: data, count: 7, selection: .shuffled, seed: 6).inputs.scalars, again.inputs.scalars)
    }

    func testPartsAreDisjointAndCutFromOneSelection() throws {
        let task = KernelTask.binary(negative: 0, positive: 1)
        // first: consecutive pieces of the file-order list.
        let first = try task.samples(from: data, counts: [3, 2], selection: .first)
        XCTAssertEqual(first.map(\.inputs.scalars), [[0, 1, 2], [3, 5]])
        // per-class: each part balanced on its own, the second taking the next images of each class.
        let balanced = try task.samples(from: data, counts: [2, 2], selection: .perClass)
        XCTAssertEqual(balanced.map(\.inputs.scalars), [[0, 3], [1, 5]])
        XCTAssertEqual(balanced.map(\.labels), [[0, 1], [0, 1]])
        // shuffled: the pieces of the one shuffle a single request of 6 returns.
        let whole = try task.samples(from: data, count: 6, selection: .shuffled, seed: 9)
        let parts = try task.samples(from: data, counts: [4, 2], selection: .shuffled, seed: 9)
        XCTAssertEqual(parts.map(\.inputs.scalars), [Array(whole.inputs.scalars[0..<4]), Array(whole.inputs.scalars[4..<6])])
        XCTAssertEqual(parts[1].inputs.shape, [2, 1, 1, 1])
        // An empty part is allowed; the sizes of all parts count against the split.
        XCTAssertEqual(try task.samples(from: data, counts: [0, 1], selection: .first)[0].inputs.shape, [0, 1, 1, 1])
        XCTAssertThrowsError(try task.samples(from: data, counts: [4, 4], selection: .shuffled)) {
            XCTAssertEqual($0 as? KernelSampleError, .notEnoughImages(split: "toy-train", classes: "a and b", requested: 8, available: 7))
        }
        XCTAssertThrowsError(try task.samples(from: data, counts: [4, 4], selection: .perClass)) {
            XCTAssertEqual($0 as? KernelSampleError, .notEnoughImages(split: "toy-train", classes: "b", requested: 4, available: 3))
        }
        XCTAssertThrowsError(try task.samples(from: data, counts: [2, -1], selection: .first)) {
            XCTAssertEqual($0 as? KernelSampleError, .negativeCount(-1))
            XCTAssertEqual("\($0)", "-1 images were asked for; the number of images cannot be negative")
        }
    }
}
