import Autodiff
import Kernels

/// The networks of Tsilivis & Kempe (NeurIPS 2022), standard parameterisation, every layer with a
/// bias, truncated LeCun-normal weights and zero biases, SAME 3×3 convolutions, 2×2 pools.
public enum PaperModels {
    /// MNIST CNN, 824,458 parameters: conv 32 → ReLU → avgpool → conv 64 → ReLU → avgpool → flatten
    /// (3136) → dense 256 → ReLU → dense 10. Input [N, 1, 28, 28].
    public static func mnistCNN(rng: inout Xoshiro256) -> Sequential {
        Sequential([
            ("conv1", Conv2D(inChannels: 1, outChannels: 32, rng: &rng)), ("relu1", ReLU()), ("pool1", AvgPool2D()),
            ("conv2", Conv2D(inChannels: 32, outChannels: 64, rng: &rng)), ("relu2", ReLU()), ("pool2", AvgPool2D()),
            ("flatten", Flatten()),
            ("fc1", Dense(inputs: 3136, outputs: 256, rng: &rng)), ("relu3", ReLU()),
            ("fc2", Dense(inputs: 256, outputs: 10, rng: &rng)),
        ])
    }

    /// CIFAR-10 CNN, 368,938 parameters: conv 32 → conv 32 → maxpool → conv 64 → conv 64 → conv 128
    /// → conv 128 → avgpool (16×16 → 8×8) → flatten (8192) → dense 10, ReLU after every conv.
    /// Input [N, 3, 32, 32].
    public static func cifarCNN(rng: inout Xoshiro256) -> Sequential {
        let channels = [3, 32, 32, 64, 64, 128, 128]
        var layers: [(String, Module)] = []
        for i in 1...6 {
            layers.append(("conv\(i)", Conv2D(inChannels: channels[i - 1], outChannels: channels[i], rng: &rng)))
            layers.append(("relu\(i)", ReLU()))
            if i == 2 { layers.append(("pool1", MaxPool2D())) }
        }
        layers.append(("pool2", AvgPool2D()))
        layers.append(("flatten", Flatten()))
        layers.append(("fc1", Dense(inputs: 8192, outputs: 10, rng: &rng)))
        return Sequential(layers)
    }

    /// The wide two-layer ReLU network of the paper's §3 (lazy regime):
    /// f(x) = (1/√m) Σ_r a_r relu(w_r · x), first layer w ~ N(0, I) trained, output layer random ±1
    /// and frozen. Input [N, d] (flatten images first), output [N, outputs].
    public static func twoLayer(inputs: Int, width: Int, outputs: Int, rng: inout Xoshiro256) -> Sequential {
        let hidden = Dense(weight: Initializers.normal([width, inputs], rng: &rng), bias: nil)
        let output = Dense(weight: Initializers.randomSigns([outputs, width], rng: &rng), bias: nil, trainable: false)
        return Sequential([
            ("flatten", Flatten()),
            ("hidden", hidden), ("relu", ReLU()), ("output", output),
            ("scale", Scale(1 / Float(width).squareRoot())),
        ])
    }
}
