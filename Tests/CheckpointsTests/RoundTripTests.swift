import Checkpoints
import XCTest

final class RoundTripTests: XCTestCase {
    func testEveryDTypeRoundTripsThroughThePayloadCodec() throws {
        let original = try sampleCheckpoint()
        let decoded = try SafeTensorsCodec.decode(SafeTensorsCodec.encode(original))
        XCTAssertEqual(decoded, original)
        XCTAssertEqual(decoded.names, original.names, "tensor order is preserved")
        XCTAssertEqual(decoded.metadata, original.metadata, "format keys are managed by the codec")
    }

    func testEveryDTypeRoundTripsThroughAFile() throws {
        let directory = try makeTemporaryDirectory(self)
        let path = directory + "/model.safetensors.zst"
        let original = try sampleCheckpoint()
        try CheckpointFile.write(original, to: path)
        let decoded = try CheckpointFile.read(path: path)
        XCTAssertEqual(decoded, original)

        XCTAssertEqual(try decoded.tensor(named: "model.conv1.weight").floats(), (0 ..< 24).map { Float($0) * 0.5 - 3 })
        let special = try decoded.tensor(named: "special.floats").floats()
        XCTAssertTrue(special[0].isNaN)
        XCTAssertEqual(special[3].sign, .minus)
        XCTAssertEqual(special[4], .leastNonzeroMagnitude)
        XCTAssertEqual(try decoded.tensor(named: "f64").doubles(), [Double.pi, -1e300, 5e-324, 0])
        XCTAssertEqual(try decoded.tensor(named: "i32").int32s(), [Int32.min, -1, 0, 1, Int32.max])
        XCTAssertEqual(try decoded.tensor(named: "i64").int64s(), [Int64.min, Int64.max, 12_345_678_901])
        XCTAssertEqual(try decoded.tensor(named: "u64.rng.state").uint64s(), [UInt64.max, 0, 0x0123_4567_89AB_CDEF, 42])
        XCTAssertEqual(try decoded.tensor(named: "u8").uint8s(), [UInt8](0 ... 255))
        XCTAssertEqual(try decoded.tensor(named: "scalar").doubles(), [7.25])
        XCTAssertEqual(decoded["scalar"]?.shape, [])
        XCTAssertEqual(try decoded.tensor(named: "empty.f32").floats(), [])
        XCTAssertEqual(decoded["empty.matrix"]?.shape, [3, 0])
        XCTAssertEqual(decoded.metadata["config"], "{\"lr\": 0.1, \"name\": \"r\u{e9}sum\u{e9}\"}\n")
    }

    func testEmptyCheckpointRoundTrips() throws {
        let empty = Checkpoint(metadata: ["note": "nothing here"])
        XCTAssertEqual(try SafeTensorsCodec.decode(SafeTensorsCodec.encode(empty)), empty)
        XCTAssertEqual(try CheckpointFile.decode(fileBytes: CheckpointFile.encode(empty)), empty)
    }

    func testEncodingIsDeterministicAndByteExact() throws {
        let first = try sampleCheckpoint()
        // Same content built again, metadata inserted in another order.
        var second = try Checkpoint(tensors: first.tensors)
        for key in first.metadata.keys.sorted().reversed() { second.metadata[key] = first.metadata[key] }
        XCTAssertEqual(SafeTensorsCodec.encode(first), SafeTensorsCodec.encode(second))
        XCTAssertEqual(try CheckpointFile.encode(first), try CheckpointFile.encode(second))

        let small = try Checkpoint(tensors: [StoredTensor(name: "a", values: [Float(1), 2], shape: [2])],
                                   metadata: ["step": "3"])
        let payload = SafeTensorsCodec.encode(small)
        let json = #"{"__metadata__":{"format":"tangent-checkpoint","format_version":"1","step":"3"},"#
            + #""a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        var header = Array(json.utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        XCTAssertEqual(payload, handmadePayload(json: String(decoding: header, as: UTF8.self), data: [0, 0, 0x80, 0x3F, 0, 0, 0, 0x40]))
    }

    func testHeaderIsPaddedSoDataIsEightByteAligned() throws {
        for count in 0 ..< 9 {
            let checkpoint = try Checkpoint(tensors: [StoredTensor(name: String(repeating: "x", count: count + 1), values: [UInt8](arrayLiteral: 1))])
            let payload = SafeTensorsCodec.encode(checkpoint)
            let headerLength = payload[0 ..< 8].reversed().reduce(0) { $0 << 8 | Int($1) }
            XCTAssertEqual(headerLength % 8, 0)
        }
    }

    func testFileIsOneChecksummedZstdFrameWithContentSize() throws {
        let bytes = try CheckpointFile.encode(sampleCheckpoint())
        XCTAssertEqual(Array(bytes[0 ..< 4]), [0x28, 0xB5, 0x2F, 0xFD])
        let descriptor = bytes[4]
        XCTAssertNotEqual(descriptor & 0x04, 0, "content checksum flag")
        XCTAssertTrue(descriptor >> 6 != 0 || descriptor & 0x20 != 0, "content size field present")
    }

    func testConstructionErrors() throws {
        assertCheckpointError(try StoredTensor(name: "a", values: [Float(1), 2, 3], shape: [2, 2]),
                              kind: .invalidTensor, mentions: "needs 16 bytes")
        assertCheckpointError(try StoredTensor(name: "a", values: [Float](), shape: [-1, 0]), kind: .invalidTensor,
                              mentions: "negative")
        assertCheckpointError(try StoredTensor(name: "a", values: [Float](), shape: [Int.max, 2, 0]), kind: .invalidTensor,
                              mentions: "too many elements")
        let a = try StoredTensor(name: "a", values: [Int32(1)])
        assertCheckpointError(try Checkpoint(tensors: [a, a]), kind: .invalidTensor, mentions: "duplicate tensor name 'a'")
        assertCheckpointError(try Checkpoint(tensors: [a.renamed("__metadata__")]), kind: .invalidTensor, mentions: "reserved")
        assertCheckpointError(try a.floats(), kind: .invalidTensor, mentions: "is I32, not F32")
        assertCheckpointError(try Checkpoint().tensor(named: "missing"), kind: .missingTensor, mentions: "'missing'")
    }

    func testSetReplacesByName() throws {
        var checkpoint = try Checkpoint(tensors: [StoredTensor(name: "a", values: [Int32(1)]),
                                                  StoredTensor(name: "b", values: [Int32(2)])])
        try checkpoint.set(StoredTensor(name: "a", values: [Int32(5)]))
        try checkpoint.set(StoredTensor(name: "c", values: [Int32(6)]))
        XCTAssertEqual(checkpoint.names, ["a", "b", "c"])
        XCTAssertEqual(try checkpoint.tensor(named: "a").int32s(), [5])
        XCTAssertEqual(checkpoint.dataByteCount, 12)
    }

    func testDirectoryFileNames() {
        XCTAssertEqual(CheckpointDirectory.fileName(step: 1200), "step-00001200.safetensors.zst")
        XCTAssertEqual(CheckpointDirectory.fileName(step: 123_456_789_0), "step-1234567890.safetensors.zst")
        XCTAssertEqual(CheckpointDirectory.step(fromFileName: "step-00001200.safetensors.zst"), 1200)
        XCTAssertNil(CheckpointDirectory.step(fromFileName: "step-.safetensors.zst"))
        XCTAssertNil(CheckpointDirectory.step(fromFileName: "step-12a.safetensors.zst"))
        XCTAssertNil(CheckpointDirectory.step(fromFileName: ".step-00000001.safetensors.zst.tmp-12"))
    }
}
