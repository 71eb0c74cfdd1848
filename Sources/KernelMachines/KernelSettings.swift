import Foundation

/// Checks of the settings shared by the analytic kernels.
enum KernelSettings {
    /// Checks depth ∈ `allowed`, weightStd finite and positive, biasStd finite and non-negative.
    static func check(kernel: String, depth: Int, allowed: ClosedRange<Int>, weightStd: Double, biasStd: Double) throws {
        guard allowed.contains(depth) else {
            throw KernelMachineError.depthOutOfRange(kernel: kernel, depth: depth, allowed: allowed)
        }
        guard weightStd.isFinite, weightStd > 0 else {
            throw KernelMachineError.invalidSetting(kernel: kernel, name: "weight standard deviation", value: weightStd,
                                                    requirement: "finite and positive")
        }
        guard biasStd.isFinite, biasStd >= 0 else {
            throw KernelMachineError.invalidSetting(kernel: kernel, name: "bias standard deviation", value: biasStd,
                                                    requirement: "finite and non-negative")
        }
    }

    /// "W_std 1.41421, b_std 0.1" for descriptions.
    static func describe(weightStd: Double, biasStd: Double) -> String {
        String(format: "W_std %g, b_std %g", weightStd, biasStd)
    }
}
