import Foundation
import XCTest

/// `tangent kernel transfer` through the real process on the embedded MNIST sample: what it writes, that a
/// second run with the same settings reuses the saved (width, seed) runs, and that bad options are refused.
final class KernelTransferCommandTests: XCTestCase {
    private func json(_ path: String) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
    }

    func testStudyWritesResultsAndReusesFinishedRuns() throws {
        let out = TangentProcess.temporaryFolder(for: self, prefix: "tangent-kernel-transfer") + "/study"
        let arguments = ["kernel", "transfer", "--task", "binary:3,5", "--train", "40", "--test", "20", "--widths", "64,256",
                         "--seeds", "0,1", "--epochs", "6", "--rate", "1e-4", "--eps", "0.1", "--pgd-steps", "3",
                         "--measure-every", "3", "--out", out]
        let first = try TangentProcess.run(arguments)
        XCTAssertEqual(first.status, 0, first.output)
        XCTAssertTrue(first.output.contains("η·λ_max"), first.output)
        for file in ["results.json", "results.csv", "similarity.svg", "robustness.svg"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/" + file), "\(file) missing")
        }
        let runs = try FileManager.default.contentsOfDirectory(atPath: out + "/runs").sorted()
        XCTAssertEqual(runs, ["width-256-seed-0.json", "width-256-seed-1.json", "width-64-seed-0.json", "width-64-seed-1.json"])
        let run = try json(out + "/runs/width-256-seed-1.json")
        let epochs = try XCTUnwrap(run["epochs"] as? [[String: Any]])
        XCTAssertEqual(epochs.compactMap { $0["epoch"] as? Int }, [0, 3, 6], "measured at the first, every 3rd and the last epoch")
        for record in epochs.dropFirst() {
            let similarity = try XCTUnwrap(record["gradientSimilarity"] as? Double)
            XCTAssertTrue((-1...1).contains(similarity), "a cosine: \(similarity)")
            let clean = try XCTUnwrap(record["networkAccuracy"] as? Double)
            XCTAssertLessThanOrEqual(try XCTUnwrap(record["ownPGDAccuracy"] as? Double), clean + 1e-12, "an attack never helps")
        }
        let csv = try String(contentsOfFile: out + "/results.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(csv.count, 1 + 4 * 3, "a header and one row per (width, seed, measured epoch)")

        let second = try TangentProcess.run(arguments)
        XCTAssertEqual(second.status, 0, second.output)
        XCTAssertEqual(second.output.components(separatedBy: "already done").count - 1, 4, second.output)

        let more = try TangentProcess.run(arguments.map { $0 == "6" ? "9" : $0 })
        XCTAssertEqual(more.status, 0, more.output)
        XCTAssertFalse(more.output.contains("already done"), "other settings are not reused: \(more.output)")
    }

    func testBadOptionsAreRefused() throws {
        let out = TangentProcess.temporaryFolder(for: self, prefix: "tangent-kernel-transfer-bad")
        for (arguments, expected) in [
            (["--task", "all"], "needs a binary task"),
            (["--widths", "64,x"], "--widths takes"),
            (["--seeds", "1,x"], "--seeds takes"),
            (["--rate", "0"], "--rate must be finite and positive"),
            (["--eps", "2"], "--eps must be in [0, 1]"),
            (["--train", "40", "--test", "20", "--widths", "64", "--seeds", "0", "--epochs", "2", "--rate", "10"], "gradient descent diverges"),
        ] {
            let run = try TangentProcess.run(["kernel", "transfer", "--out", out + "/o"] + arguments)
            XCTAssertNotEqual(run.status, 0, "\(arguments): \(run.output)")
            XCTAssertTrue(run.output.contains(expected), "\(arguments): expected '\(expected)' in \(run.output)")
        }
    }
}
