import Kernels

// Arithmetic between a tensor and a constant. These cannot fail, so they do not throw; each is one
// recorded primitive (`scale`, `shift`, or `divide` by a broadcast rank-0 tensor).
extension Tensor {
    /// Multiplication by a constant.
    public static func * (a: Tensor, factor: Float) -> Tensor { a.scaled(by: factor) }

    /// Multiplication by a constant.
    public static func * (factor: Float, a: Tensor) -> Tensor { a.scaled(by: factor) }

    /// Division by a constant (multiplication by its reciprocal).
    public static func / (a: Tensor, divisor: Float) -> Tensor { a.scaled(by: 1 / divisor) }

    /// A constant divided elementwise by a tensor.
    public static func / (numerator: Float, a: Tensor) -> Tensor {
        arithmetic(.divide, Tensor(numerator), a, shape: a.shape)
    }

    /// Adds a constant to every element.
    public static func + (a: Tensor, constant: Float) -> Tensor { a.adding(constant) }

    /// Adds a constant to every element.
    public static func + (constant: Float, a: Tensor) -> Tensor { a.adding(constant) }

    /// Subtracts a constant from every element.
    public static func - (a: Tensor, constant: Float) -> Tensor { a.adding(-constant) }

    /// A constant minus each element.
    public static func - (constant: Float, a: Tensor) -> Tensor { a.scaled(by: -1).adding(constant) }

    /// The elementwise negation.
    public static prefix func - (a: Tensor) -> Tensor { a.scaled(by: -1) }
}
