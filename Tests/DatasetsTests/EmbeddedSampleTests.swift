import Datasets
import XCTest

final class EmbeddedSampleTests: XCTestCase {
    func testEmbeddedSampleLoads() throws {
        let sample = try MNISTLoader.embeddedSample()
        XCTAssertEqual(sample.train.count, 5_000)
        XCTAssertEqual(sample.test.count, 1_000)
        XCTAssertEqual(MNISTLoader.embeddedSampleCounts.train, 5_000)
        XCTAssertEqual(sample.train.channels, 1)
        XCTAssertEqual(sample.train.height, 28)
        XCTAssertEqual(sample.train.width, 28)
        XCTAssertEqual(sample.train.name, "mnist-sample-train")
        // Label counts of the first 5,000 / 1,000 official images (see the sample's README).
        XCTAssertEqual(sample.train.classCounts(), [479, 563, 488, 493, 535, 434, 501, 550, 462, 495])
        XCTAssertEqual(sample.test.classCounts(), [85, 126, 116, 107, 110, 87, 87, 99, 89, 94])
        XCTAssertEqual(sample.train.labels.prefix(5), [5, 0, 4, 1, 9])
        XCTAssertEqual(sample.test.labels.prefix(5), [7, 2, 1, 0, 4])
        XCTAssertEqual(sample.train.images.max(), 1)
        XCTAssertEqual(sample.train.images.min(), 0)
    }
}
