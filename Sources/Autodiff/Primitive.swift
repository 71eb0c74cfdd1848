import Kernels

/// The identity of a recorded operation: every tensor a differentiable op produces remembers which
/// primitive made it, so a missing rule is reported by name and the NTK engine can recognise the
/// primitives whose parameter Jacobian it knows how to factorise.
///
/// Built-in primitives are static members (`Primitive.linear`, `.conv2d`, `.add`, …), declared in
/// the op file that holds their rules. A user's primitive is any name passed to
/// ``Tensor/record(_:primitive:inputs:pullback:tangent:structure:)``.
public struct Primitive: Hashable, Sendable, CustomStringConvertible {
    /// The primitive's name, as it appears in error messages.
    public let name: String

    /// A primitive called `name`.
    public init(_ name: String) { self.name = name }

    public var description: String { name }

    /// A leaf of the reverse-mode graph (made by `requiringGradient()`).
    public static let leaf = Primitive("leaf")
}

/// How a primitive's Jacobian with respect to its parameter inputs factorises per sample — the
/// "structure rule" the NTK engine uses instead of per-sample gradients.
///
/// The input recorded here is the activation the per-sample factorisation needs (detached). Slot 1
/// of the primitive's inputs is the weight and slot 2 the optional bias, for both cases.
public enum ParameterStructure {
    /// `y = x Wᵀ + b` with x [N, in]: ∂f_c(x_i)/∂W = δ_ic ⊗ x_i and ∂f_c(x_i)/∂b = δ_ic.
    case dense(input: Tensor)
    /// A 2-D convolution: ∂f_c(x_i)/∂W = δ_ic · patches(x_i)ᵀ and ∂f_c(x_i)/∂b = Σ_pixels δ_ic.
    case convolution(input: Tensor, geometry: ConvGeometry)
}

/// Which mode of differentiation a rule serves.
public enum DifferentiationMode: String, Sendable {
    /// Reverse mode: the vector–Jacobian product (pullback).
    case reverse = "VJP"
    /// Forward mode: the Jacobian–vector product (tangent).
    case forward = "JVP"
}
