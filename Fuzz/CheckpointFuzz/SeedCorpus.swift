/// Writes a few valid checkpoints (raw payloads and compressed files) as the fuzzer's seed corpus.
///
/// Compiled into a separate small executable by `Fuzz/run-checkpoint-fuzz.sh` (not into the fuzzer) and run
/// as `seed-corpus DIRECTORY`.
#if canImport(Glibc)
import Glibc
#endif

@main
struct SeedCorpus {
    static func main() throws {
        let arguments = CommandLine.arguments
        guard arguments.count == 2 else {
            print("usage: seed-corpus DIRECTORY")
            exit(2)
        }
        let directory = arguments[1]
        let seeds = try makeSeeds()
        for (index, checkpoint) in seeds.enumerated() {
            let payload = SafeTensorsCodec.encode(checkpoint)
            try write(payload, to: "\(directory)/seed-payload-\(index)")
            try write(CheckpointFile.encode(checkpoint), to: "\(directory)/seed-file-\(index)")
        }
        print("wrote \(seeds.count * 2) seeds to \(directory)")
    }

    static func makeSeeds() throws -> [Checkpoint] {
        let empty = Checkpoint()
        let small = try Checkpoint(tensors: [
            StoredTensor(name: "w", values: [Float](arrayLiteral: 1, -2, 0.5, 3), shape: [2, 2]),
            StoredTensor(name: "b", values: [Double](arrayLiteral: 0.25)),
        ], metadata: ["step": "7"])
        let mixed = try Checkpoint(tensors: [
            StoredTensor(name: "i32", values: [Int32](arrayLiteral: -1, 2, 3)),
            StoredTensor(name: "i64", values: [Int64](arrayLiteral: .min, .max), shape: [2, 1]),
            StoredTensor(name: "u64", values: [UInt64](arrayLiteral: 42), shape: []),
            StoredTensor(name: "u8", values: [UInt8](arrayLiteral: 1, 2, 3, 4, 5, 6), shape: [1, 2, 3]),
            StoredTensor(name: "empty", values: [Float](), shape: [0, 4]),
            StoredTensor(name: "uni\u{e9}\"\\\n", values: [UInt8](arrayLiteral: 9)),
        ], metadata: ["config": "{\"lr\": 0.1}", "\u{1F600}": "smile"])
        return [empty, small, mixed]
    }

    static func write(_ bytes: [UInt8], to path: String) throws {
        guard let file = fopen(path, "wb") else { throw CheckpointError(.io, "cannot create", path: path) }
        defer { fclose(file) }
        guard fwrite(bytes, 1, bytes.count, file) == bytes.count else {
            throw CheckpointError(.io, "cannot write", path: path)
        }
    }
}
