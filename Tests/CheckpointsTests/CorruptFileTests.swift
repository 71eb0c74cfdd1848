import Checkpoints
import XCTest

/// Corrupt, truncated and foreign compressed files: always a `CheckpointError` naming the path, never a
/// crash, never silently different data.
final class CorruptFileTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = try makeTemporaryDirectory(self)
    }

    private func validFile() throws -> (path: String, bytes: [UInt8], checkpoint: Checkpoint) {
        let checkpoint = try sampleCheckpoint()
        let path = directory + "/good.safetensors.zst"
        try CheckpointFile.write(checkpoint, to: path)
        return (path, try CheckpointFile.encode(checkpoint), checkpoint)
    }

    private func assertFileRejected(_ bytes: [UInt8], mentions phrase: String,
                                    file: StaticString = #filePath, line: UInt = #line) throws {
        let path = directory + "/corrupt-\(line).safetensors.zst"
        try writeRaw(bytes, to: path)
        assertCheckpointError(try CheckpointFile.read(path: path), kind: .compression, path: path, mentions: phrase,
                              file: file, line: line)
    }

    func testWrongMagicIsNotAZstdFrame() throws {
        var bytes = try validFile().bytes
        bytes[0] ^= 0x01
        try assertFileRejected(bytes, mentions: "not a zstd frame (wrong magic number")
        // An uncompressed payload handed to the file reader.
        try assertFileRejected(SafeTensorsCodec.encode(sampleCheckpoint()), mentions: "wrong magic number")
        try assertFileRejected([], mentions: "too short to be a zstd frame")
        try assertFileRejected([0x28, 0xB5, 0x2F, 0xFD], mentions: "truncated")
    }

    func testTruncatedFramesAreRejected() throws {
        let bytes = try validFile().bytes
        for length in Set([5, 6, 8, 12, bytes.count / 2, bytes.count - 5, bytes.count - 4, bytes.count - 1]) {
            try assertFileRejected(Array(bytes[0 ..< length]), mentions: "zstd frame")
        }
    }

    func testChecksumMismatchIsReported() throws {
        var bytes = try validFile().bytes
        bytes[bytes.count - 1] ^= 0x10 // the stored XXH64-derived checksum itself
        try assertFileRejected(bytes, mentions: "checksum")

        // Incompressible data is stored in raw blocks: a flipped data bit is caught only by the checksum.
        var generator = SystemRandomNumberGenerator()
        let noise = (0 ..< 4096).map { _ in UInt8.random(in: 0 ... 255, using: &generator) }
        var raw = try CheckpointFile.encode(Checkpoint(tensors: [StoredTensor(name: "noise", values: noise)]))
        raw[raw.count - 100] ^= 0x01
        try assertFileRejected(raw, mentions: "checksum")
    }

    func testTrailingBytesAfterTheFrameAreRejected() throws {
        let bytes = try validFile().bytes
        try assertFileRejected(bytes + [0], mentions: "1 unexpected bytes follow the zstd frame")
        try assertFileRejected(bytes + bytes, mentions: "unexpected bytes follow the zstd frame")
    }

    func testFrameWithoutChecksumIsRejected() throws {
        var bytes = try validFile().bytes
        bytes[4] &= ~0x04 // clear Content_Checksum_flag and drop the 4 checksum bytes: a valid but unchecked frame
        bytes.removeLast(4)
        try assertFileRejected(bytes, mentions: "no content checksum")
    }

    func testFrameWithoutContentSizeIsRejected() throws {
        // The zstd CLI reading from a pipe cannot know the size, so it omits it.
        let payloadPath = directory + "/payload.safetensors"
        try writeRaw(SafeTensorsCodec.encode(sampleCheckpoint()), to: payloadPath)
        let framePath = directory + "/nosize.safetensors.zst"
        guard let result = runProcess(["sh", "-c", "zstd -q -c < '\(payloadPath)' > '\(framePath)'"]), result.status == 0 else {
            throw XCTSkip("the zstd command-line tool is not available")
        }
        assertCheckpointError(try CheckpointFile.read(path: framePath), kind: .compression, path: framePath,
                              mentions: "does not record its content size")
    }

    func testMissingFileAndDirectoryNameTheProblem() throws {
        let missing = directory + "/absent.safetensors.zst"
        assertCheckpointError(try CheckpointFile.read(path: missing), kind: .io, path: missing, mentions: "No such file")
        assertCheckpointError(try CheckpointFile.read(path: directory), kind: .io, path: directory, mentions: "not a regular file")
        let unwritable = directory + "/no/such/dir/x.safetensors.zst"
        assertCheckpointError(try CheckpointFile.write(Checkpoint(), to: unwritable), kind: .io, path: unwritable)
    }

    /// Flips single bits throughout a compressed file: every flip must give an error or (for the rare bit
    /// that does not affect the content, e.g. a window-size bit) exactly the original checkpoint.
    func testBitFlipsAnywhereNeverCrashOrCorruptSilently() throws {
        let (_, bytes, original) = try validFile()
        var rejected = 0
        var harmless = 0
        // Every bit of the first 64 bytes (frame header and first block header) and the last 16 (checksum),
        // then every 7th byte with a rotating bit in between.
        var flips: [(Int, Int)] = []
        for index in 0 ..< min(64, bytes.count) { for bit in 0 ..< 8 { flips.append((index, bit)) } }
        for index in max(64, bytes.count - 16) ..< bytes.count { for bit in 0 ..< 8 { flips.append((index, bit)) } }
        for index in stride(from: 64, to: bytes.count - 16, by: 7) { flips.append((index, index % 8)) }
        for (index, bit) in flips {
            var corrupt = bytes
            corrupt[index] ^= UInt8(1) << bit
            do {
                let decoded = try CheckpointFile.decode(fileBytes: corrupt, path: "flip")
                XCTAssertEqual(decoded, original, "bit \(bit) of byte \(index) changed the data without an error")
                harmless += 1
            } catch let error as CheckpointError {
                XCTAssertEqual(error.path, "flip")
                rejected += 1
            }
        }
        print("bit flips: \(flips.count) tried, \(rejected) rejected, \(harmless) decoded to the identical checkpoint")
        XCTAssertGreaterThan(flips.count, 700)
        XCTAssertGreaterThan(rejected, flips.count * 9 / 10, "\(harmless) of \(flips.count) flips went unnoticed")

        // A few flips through real files, checking the path in the message.
        for index in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 10)) {
            var corrupt = bytes
            corrupt[index] ^= 0x40
            let path = directory + "/flip-\(index).safetensors.zst"
            try writeRaw(corrupt, to: path)
            if let decoded = try? CheckpointFile.read(path: path) {
                XCTAssertEqual(decoded, original)
            } else {
                assertCheckpointError(try CheckpointFile.read(path: path), path: path)
            }
        }
    }

    func testLargeHighlyCompressibleCheckpointRoundTrips() throws {
        // 24 MiB of zeros compresses to a few KiB: the decoder's output buffer must grow well past its guess.
        let zeros = try StoredTensor(name: "momentum", values: [Float](repeating: 0, count: 6 << 20), shape: [6, 1 << 20])
        let ramp = try StoredTensor(name: "ramp", values: (0 ..< 100_000).map { Double($0) })
        let checkpoint = try Checkpoint(tensors: [zeros, ramp])
        let path = directory + "/large.safetensors.zst"
        try CheckpointFile.write(checkpoint, to: path, level: 1)
        XCTAssertEqual(try CheckpointFile.read(path: path), checkpoint)
    }

    func testPayloadTruncationAtEveryLengthIsRejected() throws {
        let payload = SafeTensorsCodec.encode(try sampleCheckpoint())
        for length in 0 ..< payload.count {
            XCTAssertThrowsError(try SafeTensorsCodec.decode(Array(payload[0 ..< length]))) { error in
                XCTAssertTrue(error is CheckpointError)
            }
        }
    }
}
