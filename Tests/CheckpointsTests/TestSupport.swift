// Tests for the Checkpoints module: format round trips, strict decoding, corruption, Python interop,
// and checkpoint directories.
import Checkpoints
import Foundation
import XCTest

/// A fresh temporary directory, removed when the test finishes.
func makeTemporaryDirectory(_ testCase: XCTestCase) throws -> String {
    let path = NSTemporaryDirectory() + "tangent-ckpt-tests-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    testCase.addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
    return path
}

/// A checkpoint with every dtype, a scalar, empty tensors, awkward names and metadata.
func sampleCheckpoint() throws -> Checkpoint {
    try Checkpoint(tensors: [
        StoredTensor(name: "model.conv1.weight", values: (0 ..< 24).map { Float($0) * 0.5 - 3 }, shape: [2, 3, 2, 2]),
        StoredTensor(name: "special.floats", values: [Float.nan, .infinity, -.infinity, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude]),
        StoredTensor(name: "f64", values: [Double.pi, -1e300, 5e-324, 0], shape: [2, 2]),
        StoredTensor(name: "i32", values: [Int32.min, -1, 0, 1, Int32.max]),
        StoredTensor(name: "i64", values: [Int64.min, Int64.max, 12_345_678_901], shape: [3, 1]),
        StoredTensor(name: "u64.rng.state", values: [UInt64.max, 0, 0x0123_4567_89AB_CDEF, 42]),
        StoredTensor(name: "u8", values: [UInt8](0 ... 255), shape: [16, 16]),
        StoredTensor(name: "scalar", values: [Double(7.25)], shape: []),
        StoredTensor(name: "empty.f32", values: [Float](), shape: [0]),
        StoredTensor(name: "empty.matrix", values: [Int64](), shape: [3, 0]),
        StoredTensor(name: "unicode \u{e9}\u{1F600} \"quoted\" back\\slash\ttab\u{1}", values: [UInt8](arrayLiteral: 1, 2)),
    ], metadata: [
        "step": "1200",
        "config": "{\"lr\": 0.1, \"name\": \"r\u{e9}sum\u{e9}\"}\n",
        "empty": "",
        "\u{1F600}": "smile",
    ])
}

/// Asserts that `body` throws a ``CheckpointError`` (optionally of `kind`) whose description mentions
/// `path` (when given) and `phrase` (when given); returns the error.
@discardableResult
func assertCheckpointError<T>(_ body: @autoclosure () throws -> T, kind: CheckpointError.Kind? = nil,
                              path: String? = nil, mentions phrase: String? = nil,
                              file: StaticString = #filePath, line: UInt = #line) -> CheckpointError? {
    do {
        _ = try body()
        XCTFail("expected a CheckpointError", file: file, line: line)
        return nil
    } catch let error as CheckpointError {
        if let kind { XCTAssertEqual(error.kind, kind, "\(error)", file: file, line: line) }
        if let path {
            XCTAssertEqual(error.path, path, file: file, line: line)
            XCTAssertTrue(error.description.contains(path), "description lacks the path: \(error)", file: file, line: line)
        }
        if let phrase {
            XCTAssertTrue(error.description.contains(phrase), "'\(error)' does not mention '\(phrase)'", file: file, line: line)
        }
        return error
    } catch {
        XCTFail("expected a CheckpointError, got \(error)", file: file, line: line)
        return nil
    }
}

/// Builds a payload by hand: header length, the JSON text (unpadded unless the caller pads it), data.
func handmadePayload(json: String, data: [UInt8] = []) -> [UInt8] {
    let header = Array(json.utf8)
    var bytes: [UInt8] = []
    withUnsafeBytes(of: UInt64(header.count).littleEndian) { bytes.append(contentsOf: $0) }
    return bytes + header + data
}

/// The format metadata JSON member for hand-made headers.
let formatMetadata = #""__metadata__":{"format":"tangent-checkpoint","format_version":"1"}"#

/// Writes `bytes` to `path` with Foundation (bypassing the atomic writer).
func writeRaw(_ bytes: [UInt8], to path: String) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

/// Runs a command, returning its exit status and combined output; `nil` if it cannot be started.
func runProcess(_ arguments: [String], environment: [String: String]? = nil) -> (status: Int32, output: String)? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    if let environment { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    do { try process.run() } catch { return nil }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
