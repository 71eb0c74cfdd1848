import Foundation
import Tangent
import XCTest

/// `tangent kernel gram` through the real process on the embedded MNIST sample: parts computed as array
/// tasks would compute them, the rest by a final run, and the out-of-core eigenpairs and solve giving
/// the in-memory figures; bad parts and another kernel's store refused.
final class KernelGramCommandTests: XCTestCase {
    let problem = ["--kernel", "fc:2", "--train", "120", "--test", "40", "--ridge", "0.001"]

    func testPartsThenTheRestThenEigenpairsAndSolveMatchTheDenseFit() throws {
        let root = TangentProcess.temporaryFolder(for: self, prefix: "tangent-kernel-gram")
        let store = root + "/store"
        // 120 images in tiles of 32: four blocks per side, ten tiles; two of three parts as array tasks.
        for part in ["0/3", "2/3"] {
            let run = try TangentProcess.run(["kernel", "gram"] + problem + ["--tile-size", "32", "--store", store, "--part", part, "--out", root + "/out"])
            XCTAssertEqual(run.status, 0, run.output)
            XCTAssertTrue(run.output.contains("part \(part.prefix(1))/3: \(part == "0/3" ? 4 : 3) tiles computed, 0 already present"), run.output)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/out/gram.json"))
        let final = try TangentProcess.run(["kernel", "gram"] + problem + ["--tile-size", "32", "--store", store, "--top", "5", "--solve",
                                                                         "--tolerance", "1e-10", "--out", root + "/out"])
        XCTAssertEqual(final.status, 0, final.output)
        XCTAssertTrue(final.output.contains("part 0/1: 3 tiles computed, 7 already present"), final.output)
        XCTAssertTrue(final.output.contains("10 of 10 tiles present and verified"), final.output)
        let gram = try KernelCommandTests.json(root + "/out/gram.json")

        // The in-memory twin: the Cholesky fit of `tangent kernel fit` and the dense eigenvalues.
        let fit = try TangentProcess.run(["kernel", "fit"] + problem + ["--out", root + "/fit"])
        XCTAssertEqual(fit.status, 0, fit.output)
        let accuracy = try XCTUnwrap(try KernelCommandTests.json(root + "/fit/results.json")["cleanAccuracy"] as? Double)
        XCTAssertEqual(try XCTUnwrap(gram["testAccuracy"] as? Double), accuracy)
        XCTAssertGreaterThan(accuracy, 0.6)
        let data = try TrainingData.load(.mnist, directory: nil)
        let (x, _) = try KernelTask.multiclass(classes: 10).samples(from: data.train, count: 120, selection: .first)
        let dense = try FullyConnectedReLUKernel(depth: 2, weightStd: 2.0.squareRoot(), biasStd: 0.1).matrix(x, x)
        var regularised = dense.values
        for i in 0..<120 { regularised[i * 120 + i] += 0.001 }
        let expected = try SymmetricEigen.eigenvalues(regularised, dimension: 120).sorted(by: >).prefix(5)
        let values = try XCTUnwrap(gram["eigenvalues"] as? [Double])
        // The store holds Θ itself; the ridge only enters the solve.
        for (a, b) in zip(values, expected) { XCTAssertEqual(a, b - 0.001, accuracy: 1e-8 * b) }
        XCTAssertNotNil(gram["peakResidentMB"] as? Double)

        // A damaged tile is found and recomputed on the next run.
        let tile = store + "/tiles/r0001-c0002.npy.zst"
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: tile)))
        bytes[bytes.count / 2] ^= 0x10
        try Data(bytes).write(to: URL(fileURLWithPath: tile))
        let repaired = try TangentProcess.run(["kernel", "gram"] + problem + ["--tile-size", "32", "--store", store, "--out", root + "/out2"])
        XCTAssertEqual(repaired.status, 0, repaired.output)
        XCTAssertTrue(repaired.output.contains("replaced damaged tile (1, 2)"), repaired.output)
        XCTAssertTrue(repaired.output.contains("1 tiles computed, 9 already present"), repaired.output)
    }

    func testBadPartsAndAnotherKernelsStoreAreRefused() throws {
        let root = TangentProcess.temporaryFolder(for: self, prefix: "tangent-kernel-gram-refusals")
        let store = root + "/store"
        let first = try TangentProcess.run(["kernel", "gram"] + problem + ["--tile-size", "64", "--store", store, "--out", root + "/out"])
        XCTAssertEqual(first.status, 0, first.output)
        let cases: [([String], String)] = [
            (["--part", "3/3"], "--part takes I/N with 0 ≤ I < N"),
            (["--part", "x"], "--part takes I/N"),
            (["--part", "0/2", "--top", "3"], "--part computes one part of the tiles only"),
            (["--tile-size", "0"], "--tile-size must be positive"),
            (["--top", "500"], "--top must be in 0…--train (120)"),
            (["--tile-size", "32"], "its tileSize is 64, this one's is 32"),
            // 100 eigenpairs of 120 images: a basis of 120 vectors and their images, 1.4 MB, over a 1 MB budget.
            (["--top", "100", "--memory-budget", "1"], "--memory-budget 1 MB cannot hold the eigen search's working memory (1 MB for 120 images)"),
        ]
        for (extra, message) in cases {
            let run = try TangentProcess.run(["kernel", "gram"] + problem + ["--store", store, "--out", root + "/out"]
                                             + (extra.contains("--tile-size") ? [] : ["--tile-size", "64"]) + extra)
            XCTAssertNotEqual(run.status, 0, "\(extra): \(run.output)")
            XCTAssertTrue(run.output.contains(message), "\(extra): expected '\(message)' in \(run.output)")
        }
        let other = try TangentProcess.run(["kernel", "gram", "--kernel", "fc:3", "--train", "120", "--test", "40", "--tile-size", "64",
                                            "--store", store, "--out", root + "/out"])
        XCTAssertNotEqual(other.status, 0, other.output)
        XCTAssertTrue(other.output.contains("holds another matrix: its kernel is"), other.output)
    }
}
