import Autodiff
import Kernels

/// 2-D convolution layer, weights [out, in, k, k] and bias [out]; stride 1 with SAME padding by default.
public final class Conv2D: Module {
    /// The filters, [out, in, kh, kw].
    public let weight: Parameter
    /// One bias per output channel, or nil.
    public let bias: Parameter?
    /// The stride in both directions.
    public let stride: Int
    /// Zero padding on every side.
    public let padding: Int

    /// A convolution with the given weights [out, in, kh, kw] and bias [out]; `padding` defaults to `kh / 2` (SAME for odd kernels at stride 1).
    /// - Precondition: `weight` has rank 4.
    public init(weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int? = nil) {
        precondition(weight.rank == 4, "Conv2D weight must be [out, in, kh, kw]")
        self.weight = Parameter(weight)
        self.bias = bias.map { Parameter($0) }
        self.stride = stride
        self.padding = padding ?? weight.shape[2] / 2
    }

    /// A layer initialised as in the paper: truncated LeCun-normal weights, zero bias.
    /// `padding` defaults to SAME for odd kernels at stride 1 (`kernelSize / 2`).
    public convenience init(inChannels: Int, outChannels: Int, kernelSize: Int = 3, stride: Int = 1, padding: Int? = nil,
                            bias: Bool = true, rng: inout Xoshiro256) {
        let w = Initializers.lecunNormalTruncated([outChannels, inChannels, kernelSize, kernelSize],
                                                  fanIn: inChannels * kernelSize * kernelSize, rng: &rng)
        self.init(weight: w, bias: bias ? Tensor.zeros([outChannels]) : nil, stride: stride, padding: padding)
    }

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        try conv2d(input, weight: weight.value, bias: bias?.value, stride: stride, padding: padding)
    }

    /// The layer followed by a ReLU: one pass when nothing is differentiated (see
    /// `conv2d(_:weight:bias:stride:padding:relu:)`), the same result either way.
    public func callWithReLU(_ input: Tensor) throws -> Tensor {
        try conv2d(input, weight: weight.value, bias: bias?.value, stride: stride, padding: padding, relu: true)
    }
}

/// Fully connected layer `y = x Wᵀ + b`, weights [out, in].
public final class Dense: Module {
    /// The weights, [out, in].
    public let weight: Parameter
    /// One bias per output, or nil.
    public let bias: Parameter?

    /// A dense layer with the given weights [out, in] and bias [out]; `trainable: false` freezes both.
    /// - Precondition: `weight` has rank 2.
    public init(weight: Tensor, bias: Tensor?, trainable: Bool = true) {
        precondition(weight.rank == 2, "Dense weight must be [out, in]")
        self.weight = Parameter(weight, trainable: trainable)
        self.bias = bias.map { Parameter($0, trainable: trainable) }
    }

    /// A layer initialised as in the paper: truncated LeCun-normal weights, zero bias.
    public convenience init(inputs: Int, outputs: Int, bias: Bool = true, rng: inout Xoshiro256) {
        let w = Initializers.lecunNormalTruncated([outputs, inputs], fanIn: inputs, rng: &rng)
        self.init(weight: w, bias: bias ? Tensor.zeros([outputs]) : nil)
    }

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        try linear(input, weight: weight.value, bias: bias?.value)
    }
}

/// Elementwise max(x, 0).
public final class ReLU: Module {
    /// A ReLU.
    public init() {}
    public func callAsFunction(_ input: Tensor) throws -> Tensor { input.relu() }
}

/// Average pooling, window = stride (2×2 / 2 by default).
public final class AvgPool2D: Module {
    /// The window size, equal to the stride.
    public let window: Int
    /// Pooling over `window`×`window` blocks.
    public init(window: Int = 2) { self.window = window }
    public func callAsFunction(_ input: Tensor) throws -> Tensor { try avgPool2d(input, window: window) }
}

/// Max pooling, window = stride (2×2 / 2 by default).
public final class MaxPool2D: Module {
    /// The window size, equal to the stride.
    public let window: Int
    /// Pooling over `window`×`window` blocks.
    public init(window: Int = 2) { self.window = window }
    public func callAsFunction(_ input: Tensor) throws -> Tensor { try maxPool2d(input, window: window) }
}

/// Flattens [N, C, H, W] to [N, C·H·W] in (C, H, W) order, as PyTorch does.
public final class Flatten: Module {
    /// A flatten.
    public init() {}
    public func callAsFunction(_ input: Tensor) throws -> Tensor { try input.flattenedBatch() }
}

/// Multiplies by a fixed constant (e.g. the 1/√m of the two-layer network).
public final class Scale: Module {
    /// The constant.
    public let factor: Float
    /// Multiplication by `factor`.
    public init(_ factor: Float) { self.factor = factor }
    public func callAsFunction(_ input: Tensor) throws -> Tensor { input.scaled(by: factor) }
}

/// Global average pooling, [N, C, H, W] → [N, C] (the head of a ResNet).
public final class GlobalAveragePooling: Module {
    /// Global average pooling.
    public init() {}
    public func callAsFunction(_ input: Tensor) throws -> Tensor { try globalAveragePool(input) }
}
