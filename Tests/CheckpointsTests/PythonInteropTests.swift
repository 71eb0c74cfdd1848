import Checkpoints
import Foundation
import XCTest

/// Files written here must open in Python after `zstd -d`, both by a hand-written safetensors parser
/// (numpy only) and by the `safetensors` package; and files the `safetensors` package writes (then
/// compressed with the `zstd` tool) must open here. Skips, with a plain message, when python3, numpy,
/// safetensors or zstd are not installed.
final class PythonInteropTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = try makeTemporaryDirectory(self)
        guard runProcess(["zstd", "--version"])?.status == 0 else {
            throw XCTSkip("the zstd command-line tool is not installed")
        }
        guard runProcess(["python3", "-c", "import numpy"])?.status == 0 else {
            throw XCTSkip("python3 with numpy is not installed")
        }
    }

    private func requireSafetensors() throws {
        guard runProcess(["python3", "-c", "import safetensors.numpy"])?.status == 0 else {
            throw XCTSkip("the Python safetensors package is not installed (pip install safetensors)")
        }
    }

    /// Writes the sample checkpoint, decompresses it with the zstd tool, and writes the expected contents
    /// (dtype, shape, hex of the raw bytes) as JSON. Returns the decompressed path and the expectation path.
    private func writeSampleForPython() throws -> (safetensors: String, expected: String) {
        let checkpoint = try sampleCheckpoint()
        let compressed = directory + "/sample.safetensors.zst"
        let plain = directory + "/sample.safetensors"
        try CheckpointFile.write(checkpoint, to: compressed)
        let result = try XCTUnwrap(runProcess(["zstd", "-d", "-q", "-f", compressed, "-o", plain]))
        XCTAssertEqual(result.status, 0, result.output)

        var tensors: [[String: Any]] = []
        for tensor in checkpoint.tensors {
            tensors.append(["name": tensor.name, "dtype": tensor.dtype.rawValue, "shape": tensor.shape,
                            "hex": tensor.bytes.map { String(format: "%02x", $0) }.joined()])
        }
        var metadata = checkpoint.metadata
        metadata["format"] = "tangent-checkpoint"
        metadata["format_version"] = "1"
        let expected = directory + "/expected.json"
        let json = try JSONSerialization.data(withJSONObject: ["tensors": tensors, "metadata": metadata])
        try json.write(to: URL(fileURLWithPath: expected))
        return (plain, expected)
    }

    private func runPython(_ script: String, _ arguments: [String]) throws {
        let scriptPath = directory + "/check.py"
        try script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
        let result = try XCTUnwrap(runProcess(["python3", scriptPath] + arguments))
        XCTAssertEqual(result.status, 0, "python failed:\n\(result.output)")
        XCTAssertTrue(result.output.contains("OK"), result.output)
    }

    func testPythonReadsTheLayoutByHand() throws {
        let (plain, expected) = try writeSampleForPython()
        try runPython(#"""
        import json, struct, sys
        import numpy as np
        path, expected_path = sys.argv[1], sys.argv[2]
        expected = json.load(open(expected_path, encoding="utf-8"))
        raw = open(path, "rb").read()
        (n,) = struct.unpack("<Q", raw[:8])
        assert n % 8 == 0, "header not padded to 8"
        header_text = raw[8:8 + n].decode("utf-8")
        assert header_text.rstrip(" ") == header_text.rstrip(), "padding must be spaces"
        header = json.loads(header_text)
        data = raw[8 + n:]
        meta = header.pop("__metadata__")
        assert meta == expected["metadata"], (meta, expected["metadata"])
        names = list(header.keys())
        assert names == [t["name"] for t in expected["tensors"]], names
        types = {"F32": "<f4", "F64": "<f8", "I32": "<i4", "I64": "<i8", "U64": "<u8", "U8": "u1"}
        cursor = 0
        for t in expected["tensors"]:
            info = header[t["name"]]
            begin, end = info["data_offsets"]
            assert begin == cursor, "not contiguous"
            cursor = end
            arr = np.frombuffer(data[begin:end], dtype=types[info["dtype"]]).reshape(info["shape"])
            assert info["dtype"] == t["dtype"] and list(arr.shape) == t["shape"], t["name"]
            assert arr.tobytes().hex() == t["hex"], t["name"]
        assert cursor == len(data), "data section not fully covered"
        f = np.frombuffer(data[header["model.conv1.weight"]["data_offsets"][0]:][:96], dtype="<f4")
        assert np.array_equal(f, np.arange(24, dtype=np.float32) * 0.5 - 3)
        print("OK")
        """#, [plain, expected])
    }

    func testSafetensorsPackageLoadsTheFile() throws {
        try requireSafetensors()
        let (plain, expected) = try writeSampleForPython()
        try runPython(#"""
        import json, sys
        import numpy as np
        from safetensors import safe_open
        from safetensors.numpy import load_file
        path, expected_path = sys.argv[1], sys.argv[2]
        expected = json.load(open(expected_path, encoding="utf-8"))
        loaded = load_file(path)
        assert set(loaded) == {t["name"] for t in expected["tensors"]}
        dtypes = {"F32": np.float32, "F64": np.float64, "I32": np.int32, "I64": np.int64, "U64": np.uint64, "U8": np.uint8}
        for t in expected["tensors"]:
            arr = loaded[t["name"]]
            assert arr.dtype == dtypes[t["dtype"]], (t["name"], arr.dtype)
            assert list(arr.shape) == t["shape"], (t["name"], arr.shape)
            assert arr.astype(arr.dtype.newbyteorder("<")).tobytes().hex() == t["hex"], t["name"]
        with safe_open(path, framework="np") as f:
            assert f.metadata() == expected["metadata"], f.metadata()
        print("OK")
        """#, [plain, expected])
    }

    func testFilesWrittenByTheSafetensorsPackageAreReadable() throws {
        try requireSafetensors()
        let plain = directory + "/from-python.safetensors"
        try runPython(#"""
        import sys
        import numpy as np
        from safetensors.numpy import save_file
        save_file({
            "weight": (np.arange(12, dtype=np.float32) / 4).reshape(3, 4),
            "bias": np.array([1.5, -2.25], dtype=np.float64),
            "counts": np.array([[1, -2], [3, -4]], dtype=np.int32),
            "steps": np.array([2**40, -1], dtype=np.int64),
            "seed": np.array([2**64 - 1], dtype=np.uint64),
            "bytes": np.arange(5, dtype=np.uint8),
            "nothing": np.zeros((0, 3), dtype=np.float32),
        }, sys.argv[1], metadata={"format": "tangent-checkpoint", "format_version": "1", "origin": "python"})
        print("OK")
        """#, [plain])
        let result = try XCTUnwrap(runProcess(["zstd", "-q", "-f", plain]))
        XCTAssertEqual(result.status, 0, result.output)

        let checkpoint = try CheckpointFile.read(path: plain + ".zst")
        XCTAssertEqual(checkpoint.metadata, ["origin": "python"])
        XCTAssertEqual(Set(checkpoint.names), ["weight", "bias", "counts", "steps", "seed", "bytes", "nothing"])
        XCTAssertEqual(checkpoint["weight"]?.shape, [3, 4])
        XCTAssertEqual(try checkpoint.tensor(named: "weight").floats(), (0 ..< 12).map { Float($0) / 4 })
        XCTAssertEqual(try checkpoint.tensor(named: "bias").doubles(), [1.5, -2.25])
        XCTAssertEqual(try checkpoint.tensor(named: "counts").int32s(), [1, -2, 3, -4])
        XCTAssertEqual(try checkpoint.tensor(named: "steps").int64s(), [1 << 40, -1])
        XCTAssertEqual(try checkpoint.tensor(named: "seed").uint64s(), [UInt64.max])
        XCTAssertEqual(try checkpoint.tensor(named: "bytes").uint8s(), [0, 1, 2, 3, 4])
        XCTAssertEqual(checkpoint["nothing"]?.shape, [0, 3])
    }
}
