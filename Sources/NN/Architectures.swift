import Autodiff
import Kernels

/// Networks beyond the paper's, built from the same layers (truncated LeCun-normal weights, zero
/// biases, as in ``PaperModels``), so every tool — training, attacks, checkpoints, the NTK engine —
/// treats them like any module.
public enum Architectures {
    /// A multilayer perceptron: flatten, then `hidden` dense layers with ReLU, then a dense output.
    /// Parameters `fc1.weight`, …, `fc{k+1}.bias`.
    public static func mlp(inputs: Int, hidden: [Int], outputs: Int, rng: inout Xoshiro256) -> Sequential {
        var layers: [(String, Module)] = [("flatten", Flatten())]
        var width = inputs
        for (k, h) in hidden.enumerated() {
            layers.append(("fc\(k + 1)", Dense(inputs: width, outputs: h, rng: &rng)))
            layers.append(("relu\(k + 1)", ReLU()))
            width = h
        }
        layers.append(("fc\(hidden.count + 1)", Dense(inputs: width, outputs: outputs, rng: &rng)))
        return Sequential(layers)
    }

    /// The CIFAR ResNet of He et al. (2016, §4.2) with depth 6n + 2 (20, 32, 44, 56, 110): a 3×3 conv
    /// with 16 channels, three stages of n basic blocks (16, 32, 64 channels; the first block of stages 2
    /// and 3 has stride 2 and a strided 1×1 projection shortcut), global average pooling and a dense layer.
    ///
    /// **No batch normalisation.** The NTK of a batch-normalised network in training mode is not a
    /// per-sample kernel (each output depends on the whole batch), so instead each residual branch ends
    /// with a fixed scale 1/√(3n) (the number of blocks): the variance then grows at most by a factor e
    /// through the blocks, as in "stable ResNet" initialisations, and training works without
    /// normalisation. Parameters are named `stem.weight`, `stage1.block1.residual.body.conv1.weight`, …,
    /// `stage2.block1.residual.shortcut.weight`, `fc.bias`.
    public static func cifarResNet(depth: Int = 20, inputChannels: Int = 3, classes: Int = 10,
                                   rng: inout Xoshiro256) throws -> Sequential {
        guard depth >= 8, (depth - 2) % 6 == 0 else {
            throw ArchitectureError.invalid("a CIFAR ResNet has depth 6n + 2 with n ≥ 1 (8, 14, 20, 32, …); got \(depth)")
        }
        let blocks = (depth - 2) / 6
        let branchScale = 1 / Float(3 * blocks).squareRoot()
        var layers: [(String, Module)] = [
            ("stem", Conv2D(inChannels: inputChannels, outChannels: 16, rng: &rng)), ("relu", ReLU()),
        ]
        var channels = 16
        for (s, width) in [16, 32, 64].enumerated() {
            var stage: [(String, Module)] = []
            for b in 0..<blocks {
                let stride = (s > 0 && b == 0) ? 2 : 1
                let body = Sequential([
                    ("conv1", Conv2D(inChannels: channels, outChannels: width, stride: stride, padding: 1, rng: &rng)),
                    ("relu", ReLU()),
                    ("conv2", Conv2D(inChannels: width, outChannels: width, rng: &rng)),
                    ("scale", Scale(branchScale)),
                ])
                let shortcut = stride == 1 && channels == width ? nil
                    : Conv2D(inChannels: channels, outChannels: width, kernelSize: 1, stride: stride, padding: 0, rng: &rng)
                stage.append(("block\(b + 1)", Sequential([("residual", Residual(body, shortcut: shortcut)), ("relu", ReLU())])))
                channels = width
            }
            layers.append(("stage\(s + 1)", Sequential(stage)))
        }
        layers.append(("pool", GlobalAveragePooling()))
        layers.append(("fc", Dense(inputs: 64, outputs: classes, rng: &rng)))
        return Sequential(layers)
    }

    /// The Myrtle CNN of Shankar et al. (2020) as neural-tangents defines it: depth 5, 7 or 10, every
    /// convolution 3×3 SAME with `width` channels and ReLU; three stages (32², 16², 8² for CIFAR-sized
    /// inputs) of 2/1/1 (depth 5), 2/2/2 (7) or 3/3/3 (10) convolutions separated by 2×2 average pools,
    /// then three more 2×2 average pools (8² → 1²), flatten and a dense layer.
    public static func myrtle(depth: Int = 5, width: Int = 64, inputChannels: Int = 3, classes: Int = 10,
                              rng: inout Xoshiro256) throws -> Sequential {
        let perStage: [Int: [Int]] = [5: [2, 1, 1], 7: [2, 2, 2], 10: [3, 3, 3]]
        guard let counts = perStage[depth] else {
            throw ArchitectureError.invalid("a Myrtle network has depth 5, 7 or 10; got \(depth)")
        }
        guard width >= 1 else { throw ArchitectureError.invalid("width must be positive; got \(width)") }
        var layers: [(String, Module)] = []
        var channels = inputChannels, k = 0
        for (s, count) in counts.enumerated() {
            for _ in 0..<count {
                k += 1
                layers.append(("conv\(k)", Conv2D(inChannels: channels, outChannels: width, rng: &rng)))
                layers.append(("relu\(k)", ReLU()))
                channels = width
            }
            layers.append(("pool\(s + 1)", AvgPool2D()))
        }
        layers.append(("pool4", AvgPool2D()))
        layers.append(("pool5", AvgPool2D()))
        layers.append(("flatten", Flatten()))
        layers.append(("fc", Dense(inputs: width, outputs: classes, rng: &rng)))
        return Sequential(layers)
    }
}

/// An architecture asked for with settings it cannot have.
public enum ArchitectureError: Error, CustomStringConvertible, Equatable {
    case invalid(String)
    public var description: String {
        switch self { case .invalid(let s): return s }
    }
}
