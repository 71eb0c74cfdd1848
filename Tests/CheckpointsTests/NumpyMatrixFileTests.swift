import Checkpoints
import Foundation
import XCTest

/// `.npy` float64 matrices: a round trip, NumPy reading ours (also inside a zstd frame, as tiled Gram
/// stores keep them) and ours reading NumPy's, and every other layout refused.
final class NumpyMatrixFileTests: XCTestCase {
    let values: [Double] = (0..<15).map { Double($0) * 0.37 - 1.5 }

    func testRoundTripAndAlignedHeader() throws {
        let bytes = NumpyMatrixFile.encode(rows: 3, columns: 5, values: values)
        let header = Int(bytes[8]) | Int(bytes[9]) << 8
        XCTAssertEqual((10 + header) % 64, 0)
        XCTAssertEqual(bytes.count, 10 + header + 8 * 15)
        let decoded = try NumpyMatrixFile.decode(bytes)
        XCTAssertEqual([decoded.rows, decoded.columns], [3, 5])
        XCTAssertEqual(decoded.values, values)
        XCTAssertEqual(try NumpyMatrixFile.decode(NumpyMatrixFile.encode(rows: 0, columns: 4, values: [])).values, [])
    }

    func testNumPyReadsOursAfterZstdAndWritesWhatWeRead() throws {
        let folder = NSTemporaryDirectory() + "tangent-npy-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let framed = folder + "/ours.npy.zst", plain = folder + "/ours.npy", theirs = folder + "/theirs.npy"
        try PlainFile.writeAtomically(try CheckpointFile.compress(payload: NumpyMatrixFile.encode(rows: 3, columns: 5, values: values)), to: framed)
        guard runProcess(["zstd", "-q", "-d", "-f", framed, "-o", plain])?.status == 0 else { throw XCTSkip("zstd is not installed") }
        let script = """
        import numpy
        a = numpy.load('\(plain)')
        print(a.dtype, a.shape[0], a.shape[1], repr(float(a[2, 4])), repr(float(a.sum())))
        numpy.save('\(theirs)', numpy.arange(6, dtype=numpy.float64).reshape(2, 3) / 7)
        """
        guard let run = runProcess(["python3", "-c", script]), run.status == 0 else { throw XCTSkip("python3 with numpy is not available") }
        XCTAssertEqual(run.output.trimmingCharacters(in: .whitespacesAndNewlines),
                       "float64 3 5 \(values[14]) \(values.reduce(0, +))")
        let read = try NumpyMatrixFile.decode(try PlainFile.read(theirs))
        XCTAssertEqual([read.rows, read.columns], [2, 3])
        XCTAssertEqual(read.values, (0..<6).map { Double($0) / 7 })
    }

    func testOtherLayoutsAreRefusedSayingWhy() {
        let good = NumpyMatrixFile.encode(rows: 3, columns: 5, values: values)
        func replacingHeader(_ old: String, _ new: String) -> [UInt8] {
            // The header (after the 10 bytes of magic, version and length) is ASCII; same-length edits keep its length.
            let text = String(decoding: good[10..<128], as: UTF8.self).replacingOccurrences(of: old, with: new)
            return Array(good.prefix(10)) + Array(text.utf8) + good.dropFirst(128)
        }
        let cases: [([UInt8], String)] = [
            (Array(good.prefix(8)), "magic"),
            ([0x93] + Array("NUMPY".utf8) + [2, 0, 0, 0], "version 2.0"),
            (replacingHeader("'<f8'", "'<f4'"), "'<f8'"),
            (replacingHeader("False", "True "), "C order"),
            (replacingHeader("(3, 5)", "(15,) "), "not two sizes"),
            (replacingHeader("(3, 5)", "(3,-5)"), "not two sizes"),
            (replacingHeader("(3, 5)", "(5, 5)"), "data bytes"),
            (Array(good.dropLast(8)), "data bytes"),
            (good + [0], "data bytes"),
        ]
        for (bytes, message) in cases {
            XCTAssertThrowsError(try NumpyMatrixFile.decode(bytes)) { error in
                XCTAssertTrue("\(error)".contains(message), "\(error) does not mention \(message)")
            }
        }
    }
}
