/// # Checkpoints
///
/// Interoperable, crash-safe checkpoint files for Tangent: a zstd frame around a safetensors-layout payload,
/// written atomically and read with strict, bounds-checked validation.
///
/// ## File format (version 1)
///
/// A checkpoint file is exactly **one zstd frame** whose header records the content size and whose
/// content checksum flag is on (`ZSTD_c_checksumFlag = 1`). Nothing may follow the frame. The frame's
/// content is a payload in the [safetensors](https://github.com/huggingface/safetensors) layout:
///
/// 1. 8 bytes: little-endian `UInt64` header length `N` (at most 100 000 000, the safetensors cap).
/// 2. `N` bytes: a UTF-8 JSON object, padded with trailing spaces so that `N` is a multiple of 8 (the data
///    section is then 8-byte aligned). It maps each tensor name to
///    `{"dtype": D, "shape": [d0, d1, …], "data_offsets": [begin, end]}` with `D` one of
///    `F32`, `F64`, `I32`, `I64`, `U64`, `U8`, and also maps the key `"__metadata__"` to an object of
///    string → string that must contain `"format": "tangent-checkpoint"` and `"format_version": "1"`.
/// 3. The data section: raw little-endian tensor bytes. Offsets are relative to the start of the data
///    section; tensors are laid out contiguously, without gaps, in header order, and together cover the
///    data section exactly (`end − begin = element count × dtype size`).
///
/// Any safetensors reader opens the file after `zstd -d`:
///
/// ```sh
/// zstd -d step-00001200.safetensors.zst -o model.safetensors
/// python3 -c 'from safetensors.numpy import load_file; print(load_file("model.safetensors"))'
/// ```
///
/// ## Entry points
///
/// - ``StoredTensor`` and ``TensorDType``: one named tensor as raw little-endian bytes.
/// - ``Checkpoint``: ordered tensors plus string metadata.
/// - ``SafeTensorsCodec``: the uncompressed payload (encode / strict decode).
/// - ``CheckpointFile``: the zstd frame and atomic file writes.
/// - ``CheckpointDirectory``: `step-NNNNNNNN.safetensors.zst` files, keep-last pruning, fallback loading.
/// - ``CheckpointError``: every failure, naming the file path when known.
public enum CheckpointFormat {
    /// The value of the `"format"` metadata key.
    public static let name = "tangent-checkpoint"
    /// The format version this build writes and the only one it reads.
    public static let version = "1"
    /// Metadata key holding ``name``.
    public static let formatKey = "format"
    /// Metadata key holding ``version``.
    public static let versionKey = "format_version"
    /// The JSON key reserved for metadata in safetensors headers; it cannot be a tensor name.
    public static let metadataKey = "__metadata__"
    /// Largest accepted JSON header, in bytes (the safetensors limit), so a forged length cannot force a
    /// giant allocation.
    public static let maxHeaderLength = 100_000_000
}
