import Autodiff

/// A skip connection: `body(x) + shortcut(x)`, with the identity as the default shortcut (He et al.
/// 2016). Parameters are named `body.…` and `shortcut.…`. A body whose output shape differs from
/// the shortcut's gives a `ShapeError` naming both shapes.
public final class Residual: Module {
    /// The residual branch.
    public let body: Module
    /// The projection on the skip path (e.g. a strided 1×1 convolution), or nil for the identity.
    public let shortcut: Module?

    /// `body(x) + shortcut(x)` (`body(x) + x` without a shortcut).
    public init(_ body: Module, shortcut: Module? = nil) {
        self.body = body
        self.shortcut = shortcut
    }

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        let branch = try callChild("body", body, input)
        let skip = try shortcut.map { try callChild("shortcut", $0, input) } ?? input
        guard branch.shape == skip.shape else {
            throw ShapeError("residual", "the body's output and the shortcut's differ", shapes: [branch.shape, skip.shape])
        }
        return try branch + skip
    }
}
