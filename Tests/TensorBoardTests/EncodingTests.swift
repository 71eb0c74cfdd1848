import Foundation
import TensorBoard
import XCTest

/// CRC-32C against published check values, TFRecord framing and Event protocol buffers against
/// encodings computed by hand from the wire format.
final class EncodingTests: XCTestCase {
    func testCRC32CMatchesPublishedCheckValues() {
        // The CRC catalogue's check value, and the four vectors of RFC 3720 Appendix B.4.
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)), 0x62A8_AB43)
        XCTAssertEqual(CRC32C.checksum((0..<32).map(UInt8.init)), 0x46DD_794E)
        XCTAssertEqual(CRC32C.checksum((0..<32).reversed().map(UInt8.init)), 0x113F_DB5C)
        XCTAssertEqual(CRC32C.checksum([UInt8]()), 0)
    }

    func testMaskRotatesRightBy15AndAddsTheConstant() {
        // 0xE3069283 rotated right by 15 is 0x2507C60D; + 0xA282EAD8 = 0xC78AB0E5 (TensorBoard's
        // masked_crc32c of "123456789" gives the same).
        XCTAssertEqual(CRC32C.masked(0xE306_9283), 0xC78A_B0E5)
        XCTAssertEqual(CRC32C.maskedChecksum(Array("123456789".utf8)), 0xC78A_B0E5)
        XCTAssertEqual(CRC32C.masked(0), 0xA282_EAD8)
        // The carry out of bit 31 is dropped: 0xFFFFFFFF rotates to itself, + the constant wraps.
        XCTAssertEqual(CRC32C.masked(0xFFFF_FFFF), 0xA282_EAD7)
    }

    func testRecordFraming() throws {
        let payload: [UInt8] = Array("123456789".utf8)
        let record = TFRecord.frame(payload)
        XCTAssertEqual(record.count, payload.count + TFRecord.overhead)
        XCTAssertEqual(Array(record[0..<8]), [9, 0, 0, 0, 0, 0, 0, 0])
        let lengthCRC = CRC32C.maskedChecksum([9, 0, 0, 0, 0, 0, 0, 0] as [UInt8])
        XCTAssertEqual(Array(record[8..<12]), (0..<4).map { UInt8(truncatingIfNeeded: lengthCRC >> ($0 * 8)) })
        XCTAssertEqual(Array(record[12..<21]), payload)
        XCTAssertEqual(Array(record[21..<25]), [0xE5, 0xB0, 0x8A, 0xC7])  // 0xC78AB0E5, little-endian
        XCTAssertEqual(try TFRecord.payloads(in: record + TFRecord.frame([]), source: "test"), [payload, []])
    }

    func testScalarEventBytes() {
        let event = TensorBoardEvent(wallTime: 1.5, step: 3, payload: .summary([TensorBoardSummaryValue(tag: "a", .scalar(0.5))]))
        XCTAssertEqual(event.encoded(), [
            0x09, 0, 0, 0, 0, 0, 0, 0xF8, 0x3F,   // wall_time (1, fixed64) = 1.5
            0x10, 0x03,                           // step (2, varint) = 3
            0x2A, 0x0A,                           // summary (5, length-delimited), 10 bytes
            0x0A, 0x08,                           //   value (1), 8 bytes
            0x0A, 0x01, 0x61,                     //     tag (1) = "a"
            0x15, 0, 0, 0, 0x3F,                  //     simple_value (2, fixed32) = 0.5
        ])
    }

    func testFileVersionAndSessionLogBytes() {
        let version = TensorBoardEvent(wallTime: 2, step: 0, payload: .fileVersion("brain.Event:2"))
        XCTAssertEqual(version.encoded(), [0x09, 0, 0, 0, 0, 0, 0, 0, 0x40, 0x10, 0x00, 0x1A, 0x0D] + Array("brain.Event:2".utf8))
        let start = TensorBoardEvent(wallTime: 2, step: 300, payload: .sessionLog(.start))
        // step 300 = 0b10_0101100 → varint AC 02; session_log (7) holds status (1) = START (1).
        XCTAssertEqual(start.encoded(), [0x09, 0, 0, 0, 0, 0, 0, 0, 0x40, 0x10, 0xAC, 0x02, 0x3A, 0x02, 0x08, 0x01])
    }

    func testNegativeStepIsATenByteVarint() {
        let event = TensorBoardEvent(wallTime: 0, step: -1, payload: .summary([]))
        XCTAssertEqual(Array(event.encoded()[9..<20]), [0x10] + [UInt8](repeating: 0xFF, count: 9) + [0x01])
    }

    func testHistogramBytes() {
        let histogram = TensorBoardHistogram(minimum: 1, maximum: 2, count: 2, sum: 3, sumOfSquares: 5,
                                             bucketLimits: [1.5, 2], bucketCounts: [1, 1])
        let event = TensorBoardEvent(wallTime: 0, step: 1, payload: .summary([TensorBoardSummaryValue(tag: "h", .histogram(histogram))]))
        func d(_ x: Double) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: x.bitPattern >> ($0 * 8)) } }
        let histo: [UInt8] = [0x09] + d(1) + [0x11] + d(2) + [0x19] + d(2) + [0x21] + d(3) + [0x29] + d(5)
            + [0x32, 0x10] + d(1.5) + d(2) + [0x3A, 0x10] + d(1) + d(1)
        XCTAssertEqual(histo.count, 81)
        let value: [UInt8] = [0x0A, 0x01, 0x68, 0x2A, UInt8(histo.count)] + histo
        let summary: [UInt8] = [0x0A, UInt8(value.count)] + value
        XCTAssertEqual(event.encoded(), [0x09] + d(0) + [0x10, 0x01, 0x2A, UInt8(summary.count)] + summary)
    }

    func testImageBytes() {
        let image = TensorBoardImage(height: 2, width: 3, colorspace: 1, encoded: [0xAB, 0xCD])
        let event = TensorBoardEvent(wallTime: 0, step: 1, payload: .summary([TensorBoardSummaryValue(tag: "i", .image(image))]))
        // image (4): height (1) = 2, width (2) = 3, colorspace (3) = 1, encoded_image_string (4) = AB CD.
        let value: [UInt8] = [0x0A, 0x01, 0x69, 0x22, 0x0A, 0x08, 0x02, 0x10, 0x03, 0x18, 0x01, 0x22, 0x02, 0xAB, 0xCD]
        XCTAssertEqual(Array(event.encoded()[11...]), [0x2A, UInt8(value.count + 2), 0x0A, UInt8(value.count)] + value)
    }

    func testDecodingInvertsEncoding() throws {
        let histogram = try TensorBoardHistogram(values: [0, 1, 2, 3, 4], bucketCount: 4)
        let events = [
            TensorBoardEvent(wallTime: 1_700_000_000.25, step: 0, payload: .fileVersion("brain.Event:2")),
            TensorBoardEvent(wallTime: 1_700_000_001, step: 12_345_678_901, payload: .summary([
                TensorBoardSummaryValue(tag: "train/loss", .scalar(-0.125)),
                TensorBoardSummaryValue(tag: "ntk/eigenvalues", .histogram(histogram)),
                TensorBoardSummaryValue(tag: "image", .image(TensorBoardImage(height: 1, width: 1, colorspace: 3, encoded: [1, 2, 3]))),
            ])),
            TensorBoardEvent(wallTime: 5, step: 7, payload: .sessionLog(.start)),
        ]
        for event in events { XCTAssertEqual(try TensorBoardEvent(decoding: event.encoded()), event) }
    }

    func testHistogramBuckets() throws {
        // Bucket i holds (limit[i-1], limit[i]]: 0 and 1 in the first, then one each.
        let h = try TensorBoardHistogram(values: [3, 0, 4, 1, 2], bucketCount: 4)
        XCTAssertEqual(h.bucketLimits, [1, 2, 3, 4])
        XCTAssertEqual(h.bucketCounts, [2, 1, 1, 1])
        XCTAssertEqual([h.minimum, h.maximum, h.count, h.sum, h.sumOfSquares], [0, 4, 5, 10, 30])
        let constant = try TensorBoardHistogram(values: [2, 2, 2])
        XCTAssertEqual(constant.bucketLimits, [2])
        XCTAssertEqual(constant.bucketCounts, [3])
        XCTAssertThrowsError(try TensorBoardHistogram(values: []))
        XCTAssertThrowsError(try TensorBoardHistogram(values: [1, .nan]))
        XCTAssertThrowsError(try TensorBoardHistogram(values: [1, .infinity]))
        XCTAssertThrowsError(try TensorBoardHistogram(values: [1], bucketCount: 0))
    }
}
