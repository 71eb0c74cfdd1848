import Datasets
import XCTest

final class DatasetErrorTests: XCTestCase {
    func testEveryCaseNamesItsPath() {
        let errors: [DatasetError] = [
            .fileNotFound(path: "/d/a.gz", detail: "no such file"),
            .unreadable(path: "/d/a.gz", reason: "Permission denied"),
            .truncated(path: "/d/a.gz", detail: "10 labels need 10 bytes but only 3 remain"),
            .corruptCompressedData(path: "/d/a.gz", detail: "CRC-32 mismatch"),
            .wrongMagic(path: "/d/a.gz", expected: 0x803, found: 0x801),
            .malformed(path: "/d/a.gz", detail: "label 12 at index 0 is not below 10"),
            .mismatchedFiles(path: "/d/a.gz", otherPath: "/d/b.gz", detail: "5 labels for 6 images"),
            .checksumMismatch(path: "/d/a.gz", expectedMD5: "0", actualMD5: "1"),
            .downloadFailed(url: "http://h/a.gz", path: "/d/a.gz", detail: "HTTP status 404"),
            .tooLarge(path: "/d/a.gz", detail: "60000 images would take 188 MB, over the limit"),
        ]
        for error in errors {
            XCTAssertEqual(error.path, "/d/a.gz")
            XCTAssertTrue(error.description.hasPrefix("/d/a.gz"), error.description)
        }
        XCTAssertEqual(errors[4].description, "/d/a.gz: wrong magic number 0x00000801, expected 0x00000803")
        XCTAssertEqual(errors[6].description, "/d/a.gz does not match /d/b.gz: 5 labels for 6 images")
    }
}
