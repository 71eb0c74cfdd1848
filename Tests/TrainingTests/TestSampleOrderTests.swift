import Foundation
import Tangent
import XCTest

/// CIFAR-10's test file is grouped by class, so a robust evaluation of "the first N test images" would
/// see one class; the training data hands out a seeded sample instead (and file order elsewhere).
final class TestSampleOrderTests: XCTestCase {
    /// A CIFAR-10 binary folder: five training batches of two records, a test batch of `perClass`
    /// records of each class in turn (airplanes first, as the reconstructed file).
    func writeGroupedCIFAR(perClass: Int) throws -> String {
        let folder = TangentProcess.temporaryFolder(for: self, prefix: "tangent-grouped-cifar")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        func records(_ labels: [UInt8]) -> Data {
            var bytes: [UInt8] = []
            for (i, label) in labels.enumerated() { bytes += [label] + [UInt8](repeating: UInt8(i % 251), count: 3072) }
            return Data(bytes)
        }
        for batch in 1...5 { try records([0, 1]).write(to: URL(fileURLWithPath: folder + "/data_batch_\(batch).bin")) }
        let grouped = (0..<10).flatMap { [UInt8](repeating: UInt8($0), count: perClass) }
        try records(grouped).write(to: URL(fileURLWithPath: folder + "/test_batch.bin"))
        return folder
    }

    func testARobustEvaluationSampleOfGroupedCIFARTestImagesSpansTheClasses() throws {
        let folder = try writeGroupedCIFAR(perClass: 20)
        let data = try TrainingData.load(.cifar10, directory: folder)
        XCTAssertEqual(data.test.firstSubset(20).labels, [Int32](repeating: 0, count: 20), "the file is grouped")
        let sample = data.testSample(20)
        XCTAssertEqual(sample.count, 20)
        XCTAssertGreaterThanOrEqual(Set(sample.labels).count, 6, "\(sample.labels)")
        XCTAssertEqual(try XCTUnwrap(data.testSampleOrder).sorted(), Array(0..<200), "a permutation of the test set")
        XCTAssertEqual(data.testSample(500).count, 200)
        // The same order in every load (a seeded sample), so runs and resumes evaluate the same images.
        XCTAssertEqual(try TrainingData.load(.cifar10, directory: folder).testSampleOrder, data.testSampleOrder)
    }

    func testOtherDataSetsKeepFileOrder() throws {
        let data = try TrainingData.load(.mnist, directory: nil)
        XCTAssertNil(data.testSampleOrder)
        XCTAssertEqual(data.testSample(7).labels, data.test.firstSubset(7).labels)
    }
}
