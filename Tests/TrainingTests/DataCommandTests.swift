import Foundation
import XCTest

/// `tangent data download` refuses options it cannot use before it creates anything.
final class DataCommandTests: XCTestCase {
    func testBadOptionsAreRefusedBeforeTheFolderIsCreated() throws {
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
}
