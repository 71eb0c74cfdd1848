import Autodiff

/// A kernel on per-channel standardized inputs, Θ_s(x, x′) = Θ((x − μ)/σ, (x′ − μ)/σ), that still takes
/// pixels: predictors, attacks and their ε-balls (and the clipping to [0, 1]) stay in pixel space while
/// the base kernel sees centred data, as a network with a normalisation layer in front does.
///
/// Inputs are batches `[N, C, …]` with one (μ, σ) per channel C, or any batch `[N, …]` with a single
/// (μ, σ). The input gradient is the base kernel's divided by σ. Products go through the matrix (the
/// base kernel's own product path, e.g. the empirical NTK's, is not used).
public struct StandardizedInputKernel: KernelFunction {
    /// The kernel of the standardized inputs.
    public let base: KernelFunction
    /// μ per channel.
    public let mean: [Double]
    /// σ per channel.
    public let standardDeviation: [Double]

    /// `base` on (x − `mean`)/`standardDeviation`, channel by channel.
    /// - Throws: ``KernelMachineError/invalidSetting(kernel:name:value:requirement:)`` for no channels,
    ///   counts that differ, a non-finite mean or a standard deviation that is not finite and positive.
    public init(base: KernelFunction, mean: [Double], standardDeviation: [Double]) throws {
        let name = "standardized-input"
        guard !mean.isEmpty, mean.count == standardDeviation.count else {
            throw KernelMachineError.invalidSetting(kernel: name, name: "number of channel means", value: Double(mean.count),
                                                    requirement: "at least 1 and equal to the number of standard deviations (\(standardDeviation.count))")
        }
        if let bad = mean.first(where: { !$0.isFinite }) {
            throw KernelMachineError.invalidSetting(kernel: name, name: "channel mean", value: bad, requirement: "finite")
        }
        if let bad = standardDeviation.first(where: { !($0.isFinite && $0 > 0) }) {
            throw KernelMachineError.invalidSetting(kernel: name, name: "channel standard deviation", value: bad,
                                                    requirement: "finite and positive")
        }
        self.base = base
        self.mean = mean
        self.standardDeviation = standardDeviation
    }

    /// Per-channel mean and standard deviation of a batch `[N, C, …]` (e.g. the training inputs).
    /// - Throws: ``KernelMachineError/inputLayout(argument:shape:expected:)`` for fewer than two axes or no
    ///   values, ``KernelMachineError/nonFiniteInput(argument:sample:index:value:)``.
    public static func channelStatistics(_ x: Tensor) throws -> (mean: [Double], standardDeviation: [Double]) {
        let rows = try KernelInputs.rows(x, "x")
        let channels = x.shape[1], per = rows.features / channels
        var mean = [Double](repeating: 0, count: channels), square = mean
        for i in 0..<rows.count {
            for c in 0..<channels {
                for v in rows.values[(i * rows.features + c * per)..<(i * rows.features + (c + 1) * per)] {
                    mean[c] += v
                    square[c] += v * v
                }
            }
        }
        let count = Double(max(rows.count * per, 1))
        let means = mean.map { $0 / count }
        return (means, zip(square, means).map { max($0 / count - $1 * $1, 0).squareRoot() })
    }

    /// For example "fully connected ReLU NTK, … on standardized inputs (3 channels)".
    public var description: String { "\(base) on standardized inputs (\(mean.count) channel\(mean.count == 1 ? "" : "s"))" }

    /// Θ of the standardized batches.
    public func matrix(_ x1: Tensor, _ x2: Tensor) throws -> Float64Matrix {
        try base.matrix(try standardized(x1, "X₁"), try standardized(x2, "X₂"))
    }

    /// The base kernel's input gradient at the standardized inputs, divided by σ of each value's channel.
    public func inputGradient(_ x1: Tensor, _ x2: Tensor, cotangent: Float64Matrix) throws -> Tensor {
        let g = try base.inputGradient(try standardized(x1, "X₁"), try standardized(x2, "X₂"), cotangent: cotangent)
        return try mapChannels(g, "gradient") { v, c in v / standardDeviation[c] }
    }

    /// Θ(x_i, x_i) of the standardized samples.
    public func diagonal(_ x: Tensor) throws -> [Double] { try base.diagonal(try standardized(x, "x")) }

    func standardized(_ x: Tensor, _ argument: String) throws -> Tensor {
        try mapChannels(x, argument) { v, c in (v - mean[c]) / standardDeviation[c] }
    }

    /// `transform(value, channel)` applied to every value of a batch `[N, C, …]`.
    func mapChannels(_ x: Tensor, _ argument: String, _ transform: (Double, Int) -> Double) throws -> Tensor {
        let channels = mean.count
        guard x.rank >= 2, channels == 1 || x.shape[1] == channels else {
            throw KernelMachineError.inputLayout(argument: argument, shape: x.shape,
                                                 expected: "[N, \(channels), …] (one mean and standard deviation per channel)")
        }
        let n = x.shape[0], per = n > 0 ? x.count / n : 0, plane = max(per / channels, 1)
        let values = x.scalars
        var out = [Float](repeating: 0, count: values.count)
        for k in values.indices {
            out[k] = Float(transform(Double(values[k]), channels == 1 ? 0 : (k % max(per, 1)) / plane))
        }
        return Tensor(shape: x.shape, scalars: out)
    }
}
