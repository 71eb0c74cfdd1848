/// libFuzzer entry point for the checkpoint decoders.
///
/// Built by `Fuzz/run-checkpoint-fuzz.sh` together with `Sources/Checkpoints/*.swift` (compiled as one
/// module with `-sanitize=fuzzer,address`). Every input is fed to both decoders; any result is acceptable
/// except a crash, a sanitizer report, or a decoded checkpoint that does not re-encode consistently.

@_cdecl("LLVMFuzzerTestOneInput")
public func checkpointFuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))

    // The raw safetensors payload decoder.
    if let checkpoint = try? SafeTensorsCodec.decode(bytes) {
        // Anything accepted must survive an encode/decode round trip unchanged.
        let again = try? SafeTensorsCodec.decode(SafeTensorsCodec.encode(checkpoint))
        if again != checkpoint { fatalError("payload round trip changed an accepted checkpoint") }
        // And the accepted payload, compressed, must pass the file path unchanged.
        if let file = try? CheckpointFile.compress(payload: bytes, level: 1),
           (try? CheckpointFile.decode(fileBytes: file)) != checkpoint {
            fatalError("file path disagrees with the payload decoder")
        }
    }

    // The full file path: zstd frame checks, decompression, then the payload decoder.
    _ = try? CheckpointFile.decode(fileBytes: bytes, path: "fuzz-input")
    return 0
}
