/// Encodes and strictly decodes the uncompressed safetensors-layout payload of a checkpoint.
///
/// Layout: an 8-byte little-endian header length `N`, `N` bytes of JSON (padded with spaces to a multiple
/// of 8), then the data section. See ``CheckpointFormat`` for the full description.
public enum SafeTensorsCodec {
    /// The payload bytes for `checkpoint`. Deterministic: the same checkpoint always gives the same bytes
    /// (tensors in checkpoint order, metadata keys sorted, `format` / `format_version` set by the codec).
    public static func encode(_ checkpoint: Checkpoint) -> [UInt8] {
        var header: [UInt8] = []
        header.append(UInt8(ascii: "{"))
        HeaderJSONWriter.appendString(CheckpointFormat.metadataKey, to: &header)
        header.append(UInt8(ascii: ":"))
        header.append(UInt8(ascii: "{"))
        var metadata = checkpoint.metadata
        metadata[CheckpointFormat.formatKey] = CheckpointFormat.name
        metadata[CheckpointFormat.versionKey] = CheckpointFormat.version
        for (index, key) in metadata.keys.sorted().enumerated() {
            if index > 0 { header.append(UInt8(ascii: ",")) }
            HeaderJSONWriter.appendString(key, to: &header)
            header.append(UInt8(ascii: ":"))
            HeaderJSONWriter.appendString(metadata[key]!, to: &header)
        }
        header.append(UInt8(ascii: "}"))
        var offset = 0
        for tensor in checkpoint.tensors {
            header.append(UInt8(ascii: ","))
            HeaderJSONWriter.appendString(tensor.name, to: &header)
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            let end = offset + tensor.bytes.count
            HeaderJSONWriter.appendRaw(
                ":{\"dtype\":\"\(tensor.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}", to: &header)
            offset = end
        }
        header.append(UInt8(ascii: "}"))
        while header.count % 8 != 0 { header.append(UInt8(ascii: " ")) }

        var payload: [UInt8] = []
        payload.reserveCapacity(8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { payload.append(contentsOf: $0) }
        payload.append(contentsOf: header)
        for tensor in checkpoint.tensors { payload.append(contentsOf: tensor.bytes) }
        return payload
    }

    /// Decodes a payload, validating everything: header length and size cap, UTF-8 and JSON syntax, field
    /// names and types, dtypes, shapes (overflow-checked), offsets (in range, contiguous, no gaps or overlaps,
    /// matching `dtype size × element count`, covering the data section exactly), unique names, and the
    /// format metadata. Never reads out of bounds.
    /// - Throws: ``CheckpointError`` (without a path; ``CheckpointFile`` adds it).
    public static func decode(_ bytes: [UInt8]) throws -> Checkpoint {
        guard bytes.count >= 8 else {
            throw CheckpointError(.header, "payload is \(bytes.count) bytes, too short for the 8-byte header length")
        }
        var declared: UInt64 = 0
        for index in (0 ..< 8).reversed() { declared = declared << 8 | UInt64(bytes[index]) }
        guard declared <= UInt64(CheckpointFormat.maxHeaderLength) else {
            throw CheckpointError(.header, "header length \(declared) exceeds the \(CheckpointFormat.maxHeaderLength)-byte limit")
        }
        let headerLength = Int(declared)
        guard headerLength <= bytes.count - 8 else {
            throw CheckpointError(.header, "header length \(headerLength) runs past the end of the \(bytes.count)-byte payload")
        }
        let headerEnd = 8 + headerLength
        guard headerLength > 0, bytes[8] == UInt8(ascii: "{") else {
            throw CheckpointError(.header, "header does not start with '{'")
        }
        guard isValidUTF8(bytes[8 ..< headerEnd]) else {
            throw CheckpointError(.header, "header is not valid UTF-8")
        }
        let json = try HeaderJSONReader.parse(bytes, start: 8, end: headerEnd)
        guard case let .object(members) = json else {
            throw CheckpointError(.header, "header is \(json.typeName), not a JSON object")
        }

        var metadata: [String: String]?
        var entries: [(order: Int, entry: TensorEntry)] = []
        for (key, value) in members {
            if key == CheckpointFormat.metadataKey {
                metadata = try decodeMetadata(value)
            } else {
                entries.append((entries.count, try TensorEntry(name: key, value: value)))
            }
        }
        try checkFormat(metadata)

        // Lay tensors out by offset (stable on header order) and require an exact, gap-free tiling.
        entries.sort { ($0.entry.begin, $0.entry.end, $0.order) < ($1.entry.begin, $1.entry.end, $1.order) }
        let dataLength = bytes.count - headerEnd
        var expectedBegin = 0
        var checkpoint = Checkpoint()
        for (_, entry) in entries {
            guard entry.begin == expectedBegin else {
                let problem = entry.begin > expectedBegin ? "leaves a gap before it" : "overlaps the previous tensor"
                throw CheckpointError(.layout,
                                      "tensor '\(entry.name)' starts at data offset \(entry.begin), which \(problem) (expected \(expectedBegin))")
            }
            guard entry.end <= dataLength else {
                throw CheckpointError(.layout,
                                      "tensor '\(entry.name)' ends at data offset \(entry.end), past the \(dataLength)-byte data section")
            }
            let slice = Array(bytes[(headerEnd + entry.begin) ..< (headerEnd + entry.end)])
            do {
                try checkpoint.append(StoredTensor(uncheckedName: entry.name, dtype: entry.dtype, shape: entry.shape, bytes: slice))
            } catch let error as CheckpointError {
                throw CheckpointError(.layout, error.message)
            }
            expectedBegin = entry.end
        }
        guard expectedBegin == dataLength else {
            throw CheckpointError(.layout,
                                  "data section is \(dataLength) bytes but the tensors cover \(expectedBegin) (trailing or missing bytes)")
        }
        var userMetadata = metadata ?? [:]
        userMetadata[CheckpointFormat.formatKey] = nil
        userMetadata[CheckpointFormat.versionKey] = nil
        checkpoint.metadata = userMetadata
        return checkpoint
    }

    /// Whether `bytes` is well-formed UTF-8 (no overlong forms, surrogates or values past U+10FFFF).
    static func isValidUTF8(_ bytes: ArraySlice<UInt8>) -> Bool {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }

    private static func decodeMetadata(_ value: JSONValue) throws -> [String: String] {
        guard case let .object(members) = value else {
            throw CheckpointError(.header, "'\(CheckpointFormat.metadataKey)' is \(value.typeName), not an object of strings")
        }
        var metadata: [String: String] = [:]
        for (key, entry) in members {
            guard case let .string(text) = entry else {
                throw CheckpointError(.header, "metadata '\(key)' is \(entry.typeName), not a string")
            }
            metadata[key] = text
        }
        return metadata
    }

    private static func checkFormat(_ metadata: [String: String]?) throws {
        guard let metadata else {
            throw CheckpointError(.format, "header has no '\(CheckpointFormat.metadataKey)' with the format metadata (not a Tangent checkpoint)")
        }
        guard let format = metadata[CheckpointFormat.formatKey] else {
            throw CheckpointError(.format, "metadata has no '\(CheckpointFormat.formatKey)' key (not a Tangent checkpoint)")
        }
        guard format == CheckpointFormat.name else {
            throw CheckpointError(.format, "metadata format is '\(format)', expected '\(CheckpointFormat.name)'")
        }
        guard let version = metadata[CheckpointFormat.versionKey] else {
            throw CheckpointError(.format, "metadata has no '\(CheckpointFormat.versionKey)' key")
        }
        guard version == CheckpointFormat.version else {
            throw CheckpointError(.format,
                                  "unsupported format_version '\(version)'; this build reads version \(CheckpointFormat.version)")
        }
    }
}

/// One tensor's header entry, validated field by field.
private struct TensorEntry {
    let name: String
    let dtype: TensorDType
    let shape: [Int]
    let begin: Int
    let end: Int

    init(name: String, value: JSONValue) throws {
        self.name = name
        guard case let .object(fields) = value else {
            throw CheckpointError(.header, "tensor '\(name)' is described by \(value.typeName), not an object")
        }
        var dtype: TensorDType?
        var shape: [Int]?
        var offsets: [Int]?
        for (key, field) in fields {
            switch key {
            case "dtype":
                guard case let .string(text) = field else {
                    throw CheckpointError(.header, "tensor '\(name)': dtype is \(field.typeName), not a string")
                }
                guard let parsed = TensorDType(rawValue: text) else {
                    let known = TensorDType.allCases.map(\.rawValue).joined(separator: ", ")
                    throw CheckpointError(.header, "tensor '\(name)': unknown dtype '\(text)' (supported: \(known))")
                }
                dtype = parsed
            case "shape":
                shape = try TensorEntry.integers(field, name: name, field: "shape")
            case "data_offsets":
                offsets = try TensorEntry.integers(field, name: name, field: "data_offsets")
            default:
                throw CheckpointError(.header, "tensor '\(name)' has an unexpected field '\(key)'")
            }
        }
        guard let dtype else { throw CheckpointError(.header, "tensor '\(name)' has no dtype") }
        guard let shape else { throw CheckpointError(.header, "tensor '\(name)' has no shape") }
        guard let offsets else { throw CheckpointError(.header, "tensor '\(name)' has no data_offsets") }
        guard offsets.count == 2 else {
            throw CheckpointError(.header, "tensor '\(name)': data_offsets has \(offsets.count) entries, expected [begin, end]")
        }
        guard offsets[0] <= offsets[1] else {
            throw CheckpointError(.layout, "tensor '\(name)': data_offsets begin \(offsets[0]) is after end \(offsets[1])")
        }
        let byteCount: Int
        do {
            byteCount = try StoredTensor.byteCount(dtype: dtype, shape: shape)
        } catch let error as CheckpointError {
            throw CheckpointError(.layout, "tensor '\(name)': \(error.message)")
        }
        guard offsets[1] - offsets[0] == byteCount else {
            throw CheckpointError(.layout,
                                  "tensor '\(name)': data_offsets span \(offsets[1] - offsets[0]) bytes but shape \(shape) of \(dtype.rawValue) needs \(byteCount)")
        }
        self.dtype = dtype
        self.shape = shape
        self.begin = offsets[0]
        self.end = offsets[1]
    }

    /// An array of JSON integers; dimensions and offsets must be non-negative and fit in `Int`.
    private static func integers(_ value: JSONValue, name: String, field: String) throws -> [Int] {
        guard case let .array(elements) = value else {
            throw CheckpointError(.header, "tensor '\(name)': \(field) is \(value.typeName), not an array")
        }
        return try elements.map { element in
            guard case let .number(text) = element else {
                throw CheckpointError(.header, "tensor '\(name)': \(field) holds \(element.typeName), not an integer")
            }
            guard let integer = Int(text) else {
                throw CheckpointError(.header, "tensor '\(name)': \(field) entry \(text) is not an integer that fits in 64 bits")
            }
            guard integer >= 0 else {
                throw CheckpointError(.layout, "tensor '\(name)': \(field) entry \(integer) is negative")
            }
            return integer
        }
    }
}
