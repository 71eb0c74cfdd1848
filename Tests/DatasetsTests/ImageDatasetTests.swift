import Datasets
import XCTest

final class ImageDatasetTests: XCTestCase {
    /// Six 1×2×2 images; image k's pixels are k*10 + 0...3 (scaled), labels cycle 0,1,2.
    private func makeDataset() -> ImageDataset {
        let images = (0..<6).flatMap { k in (0..<4).map { Float(k * 10 + $0) } }
        return ImageDataset(name: "toy", classNames: ["a", "b", "c"], channels: 1, height: 2, width: 2,
                            images: images, labels: [0, 1, 2, 0, 1, 2])
    }

    func testFirstSubsetAndSubset() {
        let dataset = makeDataset()
        XCTAssertEqual(dataset.imageSize, 4)
        let first = dataset.firstSubset(2)
        XCTAssertEqual(first.count, 2)
        XCTAssertEqual(first.labels, [0, 1])
        XCTAssertEqual(first.images, [0, 1, 2, 3, 10, 11, 12, 13])
        XCTAssertEqual(dataset.firstSubset(100).count, 6)
        XCTAssertEqual(dataset.firstSubset(0).count, 0)

        let picked = dataset.subset(indices: [5, 0, 5])
        XCTAssertEqual(picked.count, 3)
        XCTAssertEqual(picked.labels, [2, 0, 2])
        XCTAssertEqual(picked.images, [50, 51, 52, 53, 0, 1, 2, 3, 50, 51, 52, 53])
        XCTAssertEqual(picked.classNames, ["a", "b", "c"])
    }

    func testFilteredBinaryRelabelsAndSignedTargets() {
        let binary = makeDataset().filteredBinary(negativeClass: 2, positiveClass: 0)
        XCTAssertEqual(binary.count, 4)
        XCTAssertEqual(binary.classNames, ["c", "a"])
        // Original order kept: images 0 (a), 2 (c), 3 (a), 5 (c).
        XCTAssertEqual(binary.labels, [1, 0, 1, 0])
        XCTAssertEqual(binary.signedTargets, [1, -1, 1, -1])
        XCTAssertEqual(Array(binary.images[4..<8]), [20, 21, 22, 23])
        XCTAssertEqual(binary.classCounts(), [2, 2])
    }

    func testGatherIntoBuffers() {
        let dataset = makeDataset()
        var images = [Float](repeating: -1, count: 3 * 4)
        var labels = [Int32](repeating: -1, count: 3)
        let order = [4, 1, 3, 2]
        images.withUnsafeMutableBufferPointer { imageBuffer in
            labels.withUnsafeMutableBufferPointer { labelBuffer in
                dataset.gather(indices: order[1...], into: imageBuffer.baseAddress!, labels: labelBuffer.baseAddress!)
            }
        }
        XCTAssertEqual(labels, [1, 0, 2])
        XCTAssertEqual(images, [10, 11, 12, 13, 30, 31, 32, 33, 20, 21, 22, 23])

        images.withUnsafeMutableBufferPointer { imageBuffer in
            labels.withUnsafeMutableBufferPointer { labelBuffer in
                dataset.gather(indices: [0], into: imageBuffer.baseAddress!, labels: labelBuffer.baseAddress!)
            }
        }
        XCTAssertEqual(labels[0], 0)
        XCTAssertEqual(Array(images[0..<4]), [0, 1, 2, 3])

        let batch = dataset.batch(indices: [3, 3])
        XCTAssertEqual(batch.labels, [0, 0])
        XCTAssertEqual(batch.images, [30, 31, 32, 33, 30, 31, 32, 33])
    }

    func testClassCounts() {
        XCTAssertEqual(makeDataset().classCounts(), [2, 2, 2])
    }
}
