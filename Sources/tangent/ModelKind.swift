import Tangent

/// The models `tangent` can build by name.
enum ModelKind: String, CaseIterable, Codable, Sendable {
    case mnistCNN = "mnist-cnn"
    case cifarCNN = "cifar-cnn"
    case twoLayer = "two-layer"
    case mlp
    case resnet8
    case resnet20
    case myrtle5

    /// Parses a command-line name, with a clear error listing the choices.
    init(argument: String) throws {
        guard let k = ModelKind(rawValue: argument) else {
            throw ConfigurationError("unknown model '\(argument)'; choose one of \(ModelKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = k
    }

    /// Whether the model is built for CIFAR-10's 3×32×32 images (the others take 1×28×28 by default).
    var isCIFAR: Bool { [.cifarCNN, .resnet8, .resnet20, .myrtle5].contains(self) }

    /// Per-image input shape [C, H, W].
    var inputShape: [Int] { isCIFAR ? [3, 32, 32] : [1, 28, 28] }

    /// The paper's batch size: 300 for MNIST, 250 for CIFAR-10 (128 for the ResNets, He et al.'s).
    var defaultBatchSize: Int {
        switch self {
        case .resnet8, .resnet20: return 128
        default: return isCIFAR ? 250 : 300
        }
    }

    /// Builds the model with the paper's initialisation. `twoLayerWidth` applies to `two-layer`,
    /// `hiddenWidths` to `mlp` (default one hidden layer of 512), `width` to `myrtle5` (default 64).
    func make(rng: inout Xoshiro256, inputShape: [Int]? = nil, classes: Int = 10,
                     twoLayerWidth: Int = 4096, hiddenWidths: [Int] = [512], width: Int = 64) throws -> Sequential {
        let shape = inputShape ?? self.inputShape
        switch self {
        case .mnistCNN: return PaperModels.mnistCNN(rng: &rng)
        case .cifarCNN: return PaperModels.cifarCNN(rng: &rng)
        case .twoLayer:
            return PaperModels.twoLayer(inputs: shape.reduce(1, *), width: twoLayerWidth, outputs: classes, rng: &rng)
        case .mlp: return Architectures.mlp(inputs: shape.reduce(1, *), hidden: hiddenWidths, outputs: classes, rng: &rng)
        case .resnet8: return try Architectures.cifarResNet(depth: 8, inputChannels: shape[0], classes: classes, rng: &rng)
        case .resnet20: return try Architectures.cifarResNet(depth: 20, inputChannels: shape[0], classes: classes, rng: &rng)
        case .myrtle5: return try Architectures.myrtle(depth: 5, width: width, inputChannels: shape[0], classes: classes, rng: &rng)
        }
    }
}
