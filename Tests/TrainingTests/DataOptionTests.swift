import Foundation
import XCTest

/// The data options of the command line — `data download`'s timeouts and URL, `--max-data-bytes` —
/// are checked before anything is created.
final class DataOptionTests: XCTestCase {
    func testBadDownloadOptionsAreRefusedBeforeTheFolderIsCreated() throws {
        let root = TangentProcess.temporaryFolder(for: self, prefix: "tangent-cli-data")
        let folder = root + "/data"
        let cases: [([String], String)] = [
            (["--timeout", "nan"], "--timeout"),
            (["--timeout", "0"], "--timeout"),
            (["--timeout", "-5"], "--timeout"),
            (["--timeout", "inf"], "--timeout"),
            (["--idle-timeout", "nan"], "--idle-timeout"),
            (["--idle-timeout", "-1"], "--idle-timeout"),
            (["--base-url", "ftp://example.org/"], "not an http(s) URL"),
        ]
        for (options, fragment) in cases {
            let result = try TangentProcess.run(["data", "download", "mnist", "--into", folder] + options)
            XCTAssertNotEqual(result.status, 0, "\(options) was accepted")
            XCTAssertTrue(result.output.contains(fragment), "\(options): \(result.output)")
            XCTAssertFalse(result.output.contains("Fatal error"), result.output)
            XCTAssertFalse(FileManager.default.fileExists(atPath: folder), "\(options) created the folder")
        }
        let unknown = try TangentProcess.run(["data", "download", "imagenet", "--into", folder])
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.output.contains("unknown dataset 'imagenet'"), unknown.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder))
    }

    /// The embedded sample takes 6,000 × (784 × 4 + 4) = 18,840,000 bytes loaded: over 17 MiB, under 18 MiB.
    func testMaxDataBytesBoundsTheLoadedDataBeforeARunFolderExists() throws {
        let root = TangentProcess.temporaryFolder(for: self, prefix: "tangent-cli-max-data")
        let run = root + "/run"
        let small = ["--train-subset", "100", "--test-subset", "50", "--batch-size", "50", "--eval-train-subset", "50",
                     "--robust-eval-subset", "0", "--epochs", "1", "--run-dir", run]
        for bad in ["0", "-5", "lots", "12X", "99999999999T"] {
            let result = try TangentProcess.run(["train", "--max-data-bytes", bad] + small)
            XCTAssertEqual(result.status, 64, "--max-data-bytes \(bad): \(result.output)")
            XCTAssertTrue(result.output.contains("--max-data-bytes"), result.output)
            XCTAssertFalse(FileManager.default.fileExists(atPath: run))
        }
        let refused = try TangentProcess.run(["train", "--max-data-bytes", "17M"] + small)
        XCTAssertNotEqual(refused.status, 0, refused.output)
        XCTAssertTrue(refused.output.contains("too large") && refused.output.contains("limit of 17825792 bytes"), refused.output)
        XCTAssertFalse(refused.output.contains("Fatal error"), refused.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: run))

        let trained = try TangentProcess.run(["train", "--max-data-bytes", "18M"] + small)
        XCTAssertEqual(trained.status, 0, trained.output)
        // A resumed run takes the option too, and is refused before its folder is touched.
        let metrics = try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8)
        let tooSmall = try TangentProcess.run(["train", "--resume", run, "--epochs", "2", "--max-data-bytes", "17M"])
        XCTAssertNotEqual(tooSmall.status, 0, tooSmall.output)
        XCTAssertTrue(tooSmall.output.contains("limit of 17825792 bytes"), tooSmall.output)
        XCTAssertEqual(try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8), metrics)
        let resumed = try TangentProcess.run(["train", "--resume", run, "--epochs", "2", "--max-data-bytes", "18M"])
        XCTAssertEqual(resumed.status, 0, resumed.output)
        let evaluated = try TangentProcess.run(["eval", run, "--eps", "0.1", "--steps", "1", "--test-subset", "20",
                                                "--max-data-bytes", "1K"])
        XCTAssertNotEqual(evaluated.status, 0, evaluated.output)
        XCTAssertTrue(evaluated.output.contains("limit of 1024 bytes"), evaluated.output)
    }
}
