import Datasets
import Foundation
import XCTest

final class MD5Tests: XCTestCase {
    /// The test suite of RFC 1321, appendix A.5.
    func testRFC1321Vectors() {
        let vectors: [(String, String)] = [
            ("", "d41d8cd98f00b204e9800998ecf8427e"),
            ("a", "0cc175b9c0f1b6a831c399e269772661"),
            ("abc", "900150983cd24fb0d6963f7d28e17f72"),
            ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
            ("abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"),
            ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"),
            ("12345678901234567890123456789012345678901234567890123456789012345678901234567890",
             "57edf4a22be3c955ac49da2e2107b67a"),
        ]
        for (input, expected) in vectors {
            XCTAssertEqual(MD5.hexDigest(of: Array(input.utf8)), expected, "MD5(\"\(input)\")")
        }
        XCTAssertEqual(MD5.hexDigest(of: Array("The quick brown fox jumps over the lazy dog".utf8)),
                       "9e107d9d372bb6826bd81d3542a419d6")
    }

    func testIncrementalUpdatesMatchOneShotAtEveryBoundary() {
        let data = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let whole = MD5.hexDigest(of: data)
        for split in [0, 1, 55, 56, 63, 64, 65, 119, 128, 200, 300] {
            var md5 = MD5()
            md5.update(data[0..<split])
            md5.update(data[split...])
            XCTAssertEqual(md5.hexDigest(), whole, "split at \(split)")
        }
        // Lengths around the padding boundary.
        for length in 54...66 {
            var byteByByte = MD5()
            for byte in data[0..<length] { byteByByte.update([byte]) }
            XCTAssertEqual(byteByByte.hexDigest(), MD5.hexDigest(of: data[0..<length]), "length \(length)")
        }
    }

    func testFileDigestAndMissingFile() throws {
        let directory = try TestFiles.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/abc"
        try TestFiles.write(Array("abc".utf8), to: path)
        XCTAssertEqual(try MD5.hexDigest(ofFileAt: path), "900150983cd24fb0d6963f7d28e17f72")
        assertDatasetError(try MD5.hexDigest(ofFileAt: directory + "/nope"), mentions: directory + "/nope")
    }
}
