import Datasets
import Foundation
import XCTest

/// Checks against the real data in `../shared/data` when it is present (it is not on users' machines).
final class RealDataTests: XCTestCase {
    func testOfficialMNIST() throws {
        let directory = TestFiles.sharedDataDirectory + "/mnist"
        guard FileManager.default.fileExists(atPath: directory) else {
            throw XCTSkip("../shared/data/mnist not present")
        }
        let splits = try MNISTLoader.load(directory: directory)
        XCTAssertEqual(splits.train.count, 60_000)
        XCTAssertEqual(splits.test.count, 10_000)
        XCTAssertEqual(splits.train.height, 28)
        XCTAssertEqual(splits.train.width, 28)
        XCTAssertEqual(splits.train.images.count, 60_000 * 784)
        // Label counts published in ../shared/data/README.md.
        XCTAssertEqual(splits.train.classCounts(), [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])
        XCTAssertEqual(splits.test.classCounts(), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
        XCTAssertEqual(splits.train.labels.prefix(5), [5, 0, 4, 1, 9])

        // The published checksums match the files.
        for file in DatasetDownloader.publishedFiles(for: .mnist) {
            XCTAssertEqual(try MD5.hexDigest(ofFileAt: directory + "/" + file.name), file.md5, file.name)
        }

        // The embedded sample is exactly the first 5,000 / 1,000 images of the official files.
        let sample = try MNISTLoader.embeddedSample()
        XCTAssertEqual(sample.train, { var d = splits.train.firstSubset(5_000); d.name = sample.train.name; return d }())
        XCTAssertEqual(sample.test, { var d = splits.test.firstSubset(1_000); d.name = sample.test.name; return d }())
    }

    /// Fashion-MNIST as installed by Debian's `dataset-fashion-mnist` package (recompressed by Debian, so
    /// the .gz checksums differ from Zalando's published ones, but the IDX contents are the originals).
    func testFashionMNISTFromDebianPackage() throws {
        let directory = "/usr/share/datasets/fashion-mnist"
        guard FileManager.default.fileExists(atPath: directory) else {
            throw XCTSkip("\(directory) not present (apt-get install dataset-fashion-mnist provides it)")
        }
        let splits = try MNISTLoader.load(directory: directory, variant: .fashionMNIST)
        XCTAssertEqual(splits.train.count, 60_000)
        XCTAssertEqual(splits.test.count, 10_000)
        XCTAssertEqual(splits.train.classCounts(), [Int](repeating: 6_000, count: 10))
        XCTAssertEqual(splits.test.classCounts(), [Int](repeating: 1_000, count: 10))
        XCTAssertEqual(splits.train.labels.prefix(5), [9, 0, 0, 3, 0])
        XCTAssertEqual(splits.test.labels.prefix(5), [9, 2, 1, 1, 6])
        XCTAssertEqual(splits.train.classNames[9], "Ankle boot")
    }

    func testReconstructedCIFAR10Archive() throws {
        let archive = TestFiles.sharedDataDirectory + "/cifar10/cifar-10-binary-from-jpeg.tar.gz"
        guard FileManager.default.fileExists(atPath: archive) else {
            throw XCTSkip("../shared/data/cifar10/cifar-10-binary-from-jpeg.tar.gz not present")
        }
        let splits = try CIFAR10Loader.load(from: archive)
        XCTAssertEqual(splits.train.count, 50_000)
        XCTAssertEqual(splits.test.count, 10_000)
        XCTAssertEqual(splits.train.classCounts(), [Int](repeating: 5_000, count: 10))
        XCTAssertEqual(splits.test.classCounts(), [Int](repeating: 1_000, count: 10))
        XCTAssertEqual(splits.train.images.count, 50_000 * 3072)

        let binary = splits.train.filteredBinary(negativeClass: 0, positiveClass: 1)
        XCTAssertEqual(binary.count, 10_000)
        XCTAssertEqual(binary.classNames, ["airplane", "automobile"])
        XCTAssertEqual(binary.signedTargets.filter { $0 == 1 }.count, 5_000)
    }
}
