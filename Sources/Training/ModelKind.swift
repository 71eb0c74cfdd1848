import Kernels
import NN

/// The models `tangent` can build by name.
public enum ModelKind: String, CaseIterable, Codable, Sendable {
    case mnistCNN = "mnist-cnn"
    case cifarCNN = "cifar-cnn"
    case twoLayer = "two-layer"

    /// Parses a command-line name, with a clear error listing the choices.
    public init(argument: String) throws {
        guard let k = ModelKind(rawValue: argument) else {
            throw ConfigurationError("unknown model '\(argument)'; choose one of \(ModelKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = k
    }

    /// Per-image input shape [C, H, W].
    public var inputShape: [Int] { self == .cifarCNN ? [3, 32, 32] : [1, 28, 28] }

    /// The paper's batch size: 300 for MNIST, 250 for CIFAR-10.
    public var defaultBatchSize: Int { self == .cifarCNN ? 250 : 300 }

    /// Builds the model with the paper's initialisation. `twoLayerWidth` applies to `two-layer`.
    public func make(rng: inout Xoshiro256, inputShape: [Int]? = nil, classes: Int = 10,
                     twoLayerWidth: Int = 4096) -> Sequential {
        switch self {
        case .mnistCNN: return PaperModels.mnistCNN(rng: &rng)
        case .cifarCNN: return PaperModels.cifarCNN(rng: &rng)
        case .twoLayer:
            let d = (inputShape ?? self.inputShape).reduce(1, *)
            return PaperModels.twoLayer(inputs: d, width: twoLayerWidth, outputs: classes, rng: &rng)
        }
    }
}

/// A configuration or command-line problem, described in plain words.
public struct ConfigurationError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
