import Autodiff
import Checkpoints
import Foundation

/// Attacked images with their clean originals and labels, and how they were made: what
/// `RobustEvaluation.evaluateKeepingExamples` produces, saved so that another model can be scored on
/// examples crafted against a network or a kernel predictor (a transfer attack), or inspected elsewhere.
///
/// On disk it is a checkpoint file (safetensors inside one zstd frame): tensors `clean` and
/// `adversarial` (float32, N×C×H×W) and `labels` (int32, N), the provenance as string metadata. After
/// `zstd -d`, `safetensors.numpy.load_file` reads it into numpy arrays.
public struct AdversarialExampleSet {
    /// The metadata key naming the file's kind.
    static let kindKey = "content", kind = "tangent adversarial examples"

    /// The clean images, N×C×H×W.
    public let clean: Tensor
    /// Their attacked versions, same shape.
    public let adversarial: Tensor
    /// The true class of each image.
    public let labels: [Int32]
    /// How the examples were made, e.g. `attack`, `epsilon`, `source`, `dataset` (free-form text).
    public let provenance: [String: String]

    /// A set from its parts. Throws when the shapes disagree, when `clean` is not N×C×H×W with N ≥ 1,
    /// or when a value is not finite.
    public init(clean: Tensor, adversarial: Tensor, labels: [Int32], provenance: [String: String] = [:]) throws {
        try Self.check(clean: clean, adversarial: adversarial, labels: labels, in: nil)
        self.clean = clean
        self.adversarial = adversarial
        self.labels = labels
        self.provenance = provenance
    }

    /// N, the number of examples.
    public var count: Int { labels.count }

    /// The shape of one image, C×H×W.
    public var imageShape: [Int] { Array(clean.shape.dropFirst()) }

    /// The largest per-example ℓ∞ distance between an attacked image and its original.
    public var maximumPerturbation: Float {
        zip(clean.scalars, adversarial.scalars).reduce(0) { Swift.max($0, abs($1.0 - $1.1)) }
    }

    /// Writes the set to `path` (atomically, like a checkpoint).
    public func write(to path: String) throws {
        var metadata = provenance
        metadata[Self.kindKey] = Self.kind
        let checkpoint = try Checkpoint(tensors: [
            StoredTensor(name: "clean", values: clean.scalars, shape: clean.shape),
            StoredTensor(name: "adversarial", values: adversarial.scalars, shape: adversarial.shape),
            StoredTensor(name: "labels", values: labels, shape: [labels.count]),
        ], metadata: metadata)
        try CheckpointFile.write(checkpoint, to: path)
    }

    /// Reads a set written by ``write(to:)``, checking the values as well as the framing: the kind, the
    /// three tensors with their dtypes and agreeing shapes, finite pixels, and (when given) the image
    /// shape and number of classes the caller's model expects. Errors name the file and the problem.
    public static func read(_ path: String, imageShape expectedShape: [Int]? = nil, classes: Int? = nil) throws -> AdversarialExampleSet {
        let checkpoint = try CheckpointFile.read(path: path)
        guard checkpoint.metadata[kindKey] == kind else {
            throw CheckpointStateError(path: path, "not a file of adversarial examples (a checkpoint, or written by another program)")
        }
        func tensor(_ name: String) throws -> StoredTensor {
            guard let t = checkpoint[name] else { throw CheckpointStateError(path: path, "the tensor '\(name)' is missing") }
            return t
        }
        let cleanStored = try tensor("clean"), adversarialStored = try tensor("adversarial"), labelsStored = try tensor("labels")
        let clean: Tensor, adversarial: Tensor, labels: [Int32]
        do {
            clean = Tensor(shape: cleanStored.shape, scalars: try cleanStored.floats())
            adversarial = Tensor(shape: adversarialStored.shape, scalars: try adversarialStored.floats())
            labels = try labelsStored.int32s()
        } catch {
            throw CheckpointStateError(path: path, "images must be float32 and labels int32 (\(error))")
        }
        guard labelsStored.shape == [labels.count] else {
            throw CheckpointStateError(path: path, "labels have shape \(labelsStored.shape); expected one dimension")
        }
        try check(clean: clean, adversarial: adversarial, labels: labels, in: path)
        let set = AdversarialExampleSet(checked: clean, adversarial: adversarial, labels: labels,
                                        provenance: checkpoint.metadata.filter { $0.key != kindKey })
        if let expectedShape, set.imageShape != expectedShape {
            throw CheckpointStateError(path: path, "images are \(set.imageShape.map(String.init).joined(separator: "×")) but the model takes \(expectedShape.map(String.init).joined(separator: "×"))")
        }
        if let classes, let bad = labels.first(where: { $0 < 0 || Int($0) >= classes }) {
            throw CheckpointStateError(path: path, "label \(bad) is not one of the model's \(classes) classes")
        }
        return set
    }

    private init(checked clean: Tensor, adversarial: Tensor, labels: [Int32], provenance: [String: String]) {
        self.clean = clean
        self.adversarial = adversarial
        self.labels = labels
        self.provenance = provenance
    }

    private static func check(clean: Tensor, adversarial: Tensor, labels: [Int32], in path: String?) throws {
        func fail(_ problem: String) -> CheckpointStateError { CheckpointStateError(path: path ?? "adversarial examples", problem) }
        guard clean.shape.count == 4, clean.shape.allSatisfy({ $0 >= 1 }) else {
            throw fail("clean images have shape \(clean.shape); expected N×C×H×W with every size at least 1")
        }
        guard adversarial.shape == clean.shape else {
            throw fail("adversarial images have shape \(adversarial.shape) but the clean ones \(clean.shape)")
        }
        guard labels.count == clean.shape[0] else {
            throw fail("\(labels.count) labels for \(clean.shape[0]) images")
        }
        for (name, images) in [("clean", clean), ("adversarial", adversarial)] {
            if let i = images.scalars.firstIndex(where: { !$0.isFinite }) {
                throw fail("\(name) image \(i / (images.count / clean.shape[0])) holds a value that is not finite")
            }
        }
    }
}
