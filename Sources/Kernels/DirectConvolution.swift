import CConvolution

/// Direct 3×3 stride-1 "SAME" convolutions (padding 1) that never build a patch matrix: vector
/// kernels in a small C target (`CConvolution`), compiled for AVX-512, AVX2+FMA and a portable
/// fallback, the widest the processor supports chosen at run time.
///
/// The output channels sit in the vector lanes: each input pixel is broadcast against a block of
/// filters, a strip of output pixels of two blocks stays in registers while the input channels stream
/// through, and bias and ReLU are applied before the strip is written. The input gradient is the same
/// kernel with the filters transposed and rotated; the weight gradient keeps the nine taps of one input
/// channel in registers while the pixels stream through. Each function works on one image;
/// ``BatchedConvolution`` spreads the images over the cores.
public enum DirectConvolution {
    /// The vector kernel sets, narrowest first.
    public enum InstructionSet: Int32, Comparable, Sendable, CaseIterable {
        /// Four-lane generic vectors, any processor.
        case portable = 1
        /// Eight lanes, AVX2 with FMA.
        case avx2 = 2
        /// Sixteen lanes, AVX-512F.
        case avx512 = 3

        /// Kernel sets order by vector width.
        public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    }

    /// The widest kernel set this processor supports.
    public static var supported: InstructionSet { InstructionSet(rawValue: tangent_conv_supported_isa()) ?? .portable }

    /// The kernel set in use: the widest supported, unless ``select(_:)`` chose another.
    public static var active: InstructionSet { InstructionSet(rawValue: tangent_conv_active_isa()) ?? .portable }

    /// Runs the given kernel set from now on (clamped to ``supported``) and returns the one in use.
    /// Call it only while no convolution runs; tests use it to check every set against the naive twin.
    @discardableResult
    public static func select(_ set: InstructionSet) -> InstructionSet {
        InstructionSet(rawValue: tangent_conv_select_isa(set.rawValue)) ?? .portable
    }

    /// True for the convolutions these kernels compute: 3×3 filters, stride 1, padding 1.
    public static func handles(_ g: ConvGeometry) -> Bool {
        g.kernelHeight == 3 && g.kernelWidth == 3 && g.stride == 1 && g.padding == 1 && g.height > 0 && g.width > 0
    }

    /// Filters packed for the active kernel set: either for the forward pass or, `transposed`, for the
    /// input gradient (a convolution from the output channels back to the input channels).
    public final class PackedFilters {
        let pointer: UnsafeMutablePointer<Float>

        /// Packs `weight` [outChannels, inChannels, 3, 3].
        public init(_ weight: UnsafePointer<Float>, outChannels: Int, inChannels: Int, transposed: Bool = false) {
            let from = transposed ? outChannels : inChannels, to = transposed ? inChannels : outChannels
            pointer = FloatBuffer.allocate(max(1, tangent_conv3x3_packed_size(Int32(from), Int32(to))))
            tangent_conv3x3_pack(weight, Int32(outChannels), Int32(inChannels), transposed ? 1 : 0, pointer)
        }

        deinit { FloatBuffer.deallocate(pointer) }
    }

    /// Floats of scratch space one ``forward(_:channels:height:width:filters:outChannels:bias:relu:into:scratch:)``
    /// or ``weightGradient(_:dy:channels:height:width:outChannels:into:scratch:)`` call needs.
    public static func scratchSize(channels: Int, outChannels: Int, height: Int, width: Int) -> Int {
        tangent_conv3x3_scratch_size(Int32(channels), Int32(outChannels), Int32(height), Int32(width))
    }

    /// One image: `out` [outChannels, H, W] = conv(`x` [channels, H, W]) + bias, then ReLU when `relu`.
    public static func forward(_ x: UnsafePointer<Float>, channels: Int, height: Int, width: Int, filters: PackedFilters,
                               outChannels: Int, bias: UnsafePointer<Float>?, relu: Bool,
                               into out: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        tangent_conv3x3_forward(x, Int32(channels), Int32(height), Int32(width), filters.pointer, Int32(outChannels),
                                bias, relu ? 1 : 0, out, scratch)
    }

    /// One image: adds the weight gradient for `x` [channels, H, W] and the output gradient `dy`
    /// [outChannels, H, W] to `dWeight` [outChannels, channels, 3, 3], in a fixed order.
    public static func weightGradient(_ x: UnsafePointer<Float>, dy: UnsafePointer<Float>, channels: Int, height: Int,
                                      width: Int, outChannels: Int, into dWeight: UnsafeMutablePointer<Float>,
                                      scratch: UnsafeMutablePointer<Float>) {
        tangent_conv3x3_weight_gradient(x, dy, Int32(channels), Int32(height), Int32(width), Int32(outChannels),
                                        dWeight, scratch)
    }
}
