/// An ordered set of uniquely named tensors plus string metadata: the contents of one checkpoint file.
///
/// Tensor order is preserved by encoding and decoding (it is the order of the data section). The metadata
/// keys `format` and `format_version` are managed by the codec: encoding writes them, decoding checks and
/// removes them, so `metadata` holds only the caller's own entries.
public struct Checkpoint: Sendable, Equatable {
    /// The tensors in file order.
    public private(set) var tensors: [StoredTensor]
    /// Free-form string metadata (e.g. step, epoch, configuration as JSON text).
    public var metadata: [String: String]
    private var indexByName: [String: Int]

    /// An empty checkpoint.
    public init(metadata: [String: String] = [:]) {
        self.tensors = []
        self.metadata = metadata
        self.indexByName = [:]
    }

    /// A checkpoint holding `tensors` in the given order.
    /// - Throws: `.invalidTensor` for a duplicate or reserved name.
    public init(tensors: [StoredTensor], metadata: [String: String] = [:]) throws {
        self.init(metadata: metadata)
        for tensor in tensors { try append(tensor) }
    }

    /// Appends a tensor.
    /// - Throws: `.invalidTensor` if the name is already used or is the reserved `__metadata__`.
    public mutating func append(_ tensor: StoredTensor) throws {
        guard tensor.name != CheckpointFormat.metadataKey else {
            throw CheckpointError(.invalidTensor, "'\(CheckpointFormat.metadataKey)' is reserved and cannot name a tensor")
        }
        guard indexByName[tensor.name] == nil else {
            throw CheckpointError(.invalidTensor, "duplicate tensor name '\(tensor.name)'")
        }
        indexByName[tensor.name] = tensors.count
        tensors.append(tensor)
    }

    /// Replaces the tensor with the same name, or appends it if there is none.
    /// - Throws: `.invalidTensor` for the reserved name `__metadata__`.
    public mutating func set(_ tensor: StoredTensor) throws {
        if let index = indexByName[tensor.name] {
            tensors[index] = tensor
        } else {
            try append(tensor)
        }
    }

    /// The tensor names in file order.
    public var names: [String] { tensors.map(\.name) }

    /// Whether a tensor with this name exists.
    public func contains(_ name: String) -> Bool { indexByName[name] != nil }

    /// The tensor with this name, or `nil`.
    public subscript(name: String) -> StoredTensor? {
        indexByName[name].map { tensors[$0] }
    }

    /// The tensor with this name.
    /// - Throws: `.missingTensor` if there is none.
    public func tensor(named name: String) throws -> StoredTensor {
        guard let tensor = self[name] else {
            throw CheckpointError(.missingTensor, "no tensor named '\(name)'")
        }
        return tensor
    }

    /// Total size of the tensor data in bytes.
    public var dataByteCount: Int { tensors.reduce(0) { $0 + $1.bytes.count } }
}
