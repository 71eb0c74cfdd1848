import Checkpoints
import XCTest

/// Every malformed payload must be rejected with a `CheckpointError` naming the file, never a crash.
/// Each payload is wrapped in a valid zstd frame and written to disk so the file path is exercised too.
final class MalformedPayloadTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = try makeTemporaryDirectory(self)
    }

    /// Writes `payload` in a valid frame and asserts that reading it fails as described.
    private func assertRejected(_ payload: [UInt8], kind: CheckpointError.Kind, mentions phrase: String,
                                file: StaticString = #filePath, line: UInt = #line) throws {
        let path = directory + "/bad-\(line).safetensors.zst"
        try writeRaw(CheckpointFile.compress(payload: payload), to: path)
        assertCheckpointError(try CheckpointFile.read(path: path), kind: kind, path: path, mentions: phrase,
                              file: file, line: line)
        // The bare payload decoder agrees (without a path).
        let bare = assertCheckpointError(try SafeTensorsCodec.decode(payload), kind: kind, mentions: phrase,
                                         file: file, line: line)
        XCTAssertNil(bare?.path, file: file, line: line)
    }

    private func tensorJSON(_ body: String) -> String { "{\(formatMetadata),\(body)}" }

    func testHandmadeValidPayloadIsAccepted() throws {
        // Unpadded header, keys in any order, extra whitespace: all allowed by safetensors.
        let json = "{ \"b\" : {\"shape\":[1],\"data_offsets\":[4,8],\"dtype\":\"I32\"},\n \(formatMetadata), \"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]} }"
        let decoded = try SafeTensorsCodec.decode(handmadePayload(json: json, data: [0, 0, 0x80, 0x3F, 7, 0, 0, 0]))
        XCTAssertEqual(decoded.names, ["a", "b"], "ordered by data offset")
        XCTAssertEqual(try decoded.tensor(named: "a").floats(), [1])
        XCTAssertEqual(try decoded.tensor(named: "b").int32s(), [7])
    }

    func testShortAndOversizedHeaderLengths() throws {
        try assertRejected([1, 2, 3], kind: .header, mentions: "too short for the 8-byte header length")
        try assertRejected([], kind: .header, mentions: "too short")
        var length = [UInt8](repeating: 0, count: 8)
        length[0] = 200
        try assertRejected(length + Array("{}".utf8), kind: .header, mentions: "runs past the end")
        try assertRejected([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF] + Array("{}".utf8), kind: .header,
                           mentions: "exceeds the 100000000-byte limit")
        try assertRejected([0x01, 0xE1, 0xF5, 0x05, 0, 0, 0, 0], kind: .header, mentions: "limit") // 100 000 001
        try assertRejected(handmadePayload(json: ""), kind: .header, mentions: "does not start with '{'")
    }

    func testHeaderThatIsNotJSONOrNotAnObject() throws {
        try assertRejected(handmadePayload(json: "{not json}"), kind: .header, mentions: "not valid JSON")
        try assertRejected(handmadePayload(json: "{\"a\":1,}"), kind: .header, mentions: "not valid JSON")
        try assertRejected(handmadePayload(json: "{\"a\":\"\\x\"}"), kind: .header, mentions: "invalid escape")
        try assertRejected(handmadePayload(json: "{\"a\":\"\\ud800\"}"), kind: .header, mentions: "surrogate")
        try assertRejected(handmadePayload(json: "{\"a\":\"tab\there\"}"), kind: .header, mentions: "control character")
        try assertRejected(handmadePayload(json: "{} {}"), kind: .header, mentions: "unexpected text after")
        try assertRejected(handmadePayload(json: "{\"a\":" + String(repeating: "[", count: 100)), kind: .header, mentions: "nesting")
        try assertRejected(handmadePayload(json: "{\"a\":\"\u{0}\"}"), kind: .header, mentions: "control character")
        var invalidUTF8 = handmadePayload(json: "{\"\u{e9}\":1}")
        invalidUTF8[11] = 0xFF
        try assertRejected(invalidUTF8, kind: .header, mentions: "not valid UTF-8")
        try assertRejected(handmadePayload(json: "[1,2]"), kind: .header, mentions: "does not start with '{'")
        try assertRejected(handmadePayload(json: "{\"a\":[1,2]}"), kind: .header, mentions: "is described by an array")
    }

    func testMissingAndOddFields() throws {
        try assertRejected(handmadePayload(json: tensorJSON(#""a":{"shape":[1],"data_offsets":[0,1]}"#), data: [0]),
                           kind: .header, mentions: "has no dtype")
        try assertRejected(handmadePayload(json: tensorJSON(#""a":{"dtype":"U8","data_offsets":[0,1]}"#), data: [0]),
                           kind: .header, mentions: "has no shape")
        try assertRejected(handmadePayload(json: tensorJSON(#""a":{"dtype":"U8","shape":[1]}"#), data: [0]),
                           kind: .header, mentions: "has no data_offsets")
        try assertRejected(handmadePayload(json: tensorJSON(#""a":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"x":1}"#), data: [0]),
                           kind: .header, mentions: "unexpected field 'x'")
        try assertRejected(handmadePayload(json: tensorJSON(#""a":{"dtype":7,"shape":[1],"data_offsets":[0,1]}"#), data: [0]),
                           kind: .header, mentions: "dtype is a number")
        try assertRejected(handmadePayload(json: tensorJSON(#""a":{"dtype":"U8","shape":"1","data_offsets":[0,1]}"#), data: [0]),
                           kind: .header, mentions: "shape is a string")
        try assertRejected(handmadePayload(json: tensorJSON(#""a":{"dtype":"U8","shape":[1.5],"data_offsets":[0,1]}"#), data: [0]),
                           kind: .header, mentions: "not an integer")
        try assertRejected(handmadePayload(json: tensorJSON(#""a":{"dtype":"U8","shape":[1],"data_offsets":[0]}"#), data: [0]),
                           kind: .header, mentions: "expected [begin, end]")
        try assertRejected(handmadePayload(json: tensorJSON(#""a":{"dtype":"U8","shape":[1],"data_offsets":[0,1,2]}"#), data: [0]),
                           kind: .header, mentions: "expected [begin, end]")
        try assertRejected(handmadePayload(json: tensorJSON(#""a":{"dtype":"U8","shape":[null],"data_offsets":[0,1]}"#), data: [0]),
                           kind: .header, mentions: "holds null")
    }

    func testUnknownDType() throws {
        try assertRejected(handmadePayload(json: tensorJSON(#""a":{"dtype":"BF16","shape":[1],"data_offsets":[0,2]}"#), data: [0, 0]),
                           kind: .header, mentions: "unknown dtype 'BF16'")
    }

    func testNegativeAndOverflowingShapes() throws {
        try assertRejected(handmadePayload(json: tensorJSON(#""a":{"dtype":"U8","shape":[-1],"data_offsets":[0,0]}"#)),
                           kind: .layout, mentions: "negative")
        try assertRejected(handmadePayload(json: tensorJSON(#""a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}"#)),
                           kind: .layout, mentions: "too many elements")
        try assertRejected(handmadePayload(json: tensorJSON(#""a":{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,0]}"#)),
                           kind: .layout, mentions: "too large")
        try assertRejected(handmadePayload(json: tensorJSON(#""a":{"dtype":"U8","shape":[99999999999999999999],"data_offsets":[0,0]}"#)),
                           kind: .header, mentions: "fits in 64 bits")
    }

    func testOffsetProblems() throws {
        // Out of range.
        try assertRejected(handmadePayload(json: tensorJSON(#""a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}"#), data: [1, 2]),
                           kind: .layout, mentions: "past the 2-byte data section")
        try assertRejected(handmadePayload(json: tensorJSON(#""a":{"dtype":"U8","shape":[1],"data_offsets":[9223372036854775806,9223372036854775807]}"#), data: [1]),
                           kind: .layout, mentions: "leaves a gap")
        // Begin after end, negative.
        try assertRejected(handmadePayload(json: tensorJSON(#""a":{"dtype":"U8","shape":[0],"data_offsets":[2,1]}"#), data: [1, 2]),
                           kind: .layout, mentions: "is after end")
        try assertRejected(handmadePayload(json: tensorJSON(#""a":{"dtype":"U8","shape":[1],"data_offsets":[-1,0]}"#), data: [1]),
                           kind: .layout, mentions: "negative")
        // Span does not match dtype size x element count.
        try assertRejected(handmadePayload(json: tensorJSON(#""a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}"#), data: [0, 0, 0, 0]),
                           kind: .layout, mentions: "span 4 bytes but shape [2] of F32 needs 8")
        // Overlap.
        try assertRejected(handmadePayload(json: tensorJSON(#""a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}"#), data: [1, 2, 3]),
                           kind: .layout, mentions: "overlaps")
        // Gap.
        try assertRejected(handmadePayload(json: tensorJSON(#""a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"U8","shape":[1],"data_offsets":[2,3]}"#), data: [1, 2, 3]),
                           kind: .layout, mentions: "leaves a gap")
        // Not starting at zero.
        try assertRejected(handmadePayload(json: tensorJSON(#""a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}"#), data: [1, 2]),
                           kind: .layout, mentions: "leaves a gap")
    }

    func testDuplicateNamesAndTrailingGarbage() throws {
        try assertRejected(handmadePayload(json: tensorJSON(#""a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}"#), data: [1, 2]),
                           kind: .header, mentions: "key 'a' more than once")
        try assertRejected(handmadePayload(json: "{\(formatMetadata),\(formatMetadata)}"), kind: .header, mentions: "more than once")
        try assertRejected(handmadePayload(json: tensorJSON(#""a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}"#), data: [1, 99, 99]),
                           kind: .layout, mentions: "data section is 3 bytes but the tensors cover 1")
        try assertRejected(handmadePayload(json: "{\(formatMetadata)}", data: [0]), kind: .layout, mentions: "trailing")
    }

    func testFormatMetadata() throws {
        let tensor = #""a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}"#
        try assertRejected(handmadePayload(json: "{\(tensor)}", data: [1]), kind: .format, mentions: "not a Tangent checkpoint")
        try assertRejected(handmadePayload(json: #"{"__metadata__":{"format_version":"1"}}"#), kind: .format,
                           mentions: "no 'format' key")
        try assertRejected(handmadePayload(json: #"{"__metadata__":{"format":"pt","format_version":"1"}}"#), kind: .format,
                           mentions: "format is 'pt'")
        try assertRejected(handmadePayload(json: #"{"__metadata__":{"format":"tangent-checkpoint"}}"#), kind: .format,
                           mentions: "no 'format_version'")
        try assertRejected(handmadePayload(json: #"{"__metadata__":{"format":"tangent-checkpoint","format_version":"2"}}"#),
                           kind: .format, mentions: "unsupported format_version '2'")
        try assertRejected(handmadePayload(json: #"{"__metadata__":{"format":"tangent-checkpoint","format_version":1}}"#),
                           kind: .header, mentions: "not a string")
        try assertRejected(handmadePayload(json: #"{"__metadata__":[]}"#), kind: .header, mentions: "not an object of strings")
    }
}
