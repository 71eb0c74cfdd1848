import Kernels

extension Primitive {
    /// eˣ
    public static let exp = Primitive("exp")
    /// Natural logarithm.
    public static let log = Primitive("log")
    /// Hyperbolic tangent.
    public static let tanh = Primitive("tanh")
    /// The logistic function 1 / (1 + e^{−x}).
    public static let sigmoid = Primitive("sigmoid")
    /// GELU in its exact form x·Φ(x) (erf), PyTorch's default.
    public static let gelu = Primitive("gelu")
    /// GELU′(x) = Φ(x) + x φ(x), the derivative GELU's forward-mode rule multiplies by.
    public static let geluDerivative = Primitive("geluDerivative")
    /// log(1 + eˣ)
    public static let softplus = Primitive("softplus")
    /// x²
    public static let square = Primitive("square")
    /// √x
    public static let sqrt = Primitive("sqrt")
}

// Elementwise functions: vectorised kernels (`Kernels/Activations.swift`) split over the cores for
// large tensors. Each VJP rule is one fused kernel on the saved input or output; each JVP rule
// multiplies the tangent by the derivative written with differentiable ops, so reverse mode can
// differentiate through it. A derivative that depends on the output reuses the computed output
// when the input does not require gradients, and recomputes it as a recorded op when it does.
extension Tensor {
    /// eˣ elementwise.
    public func exp() -> Tensor {
        let y = unaryKernel(self) { Elementwise.exp($0, $1, count: $2) }
        return Tensor.record(y, primitive: .exp, inputs: [self],
                             pullback: { g, _ in [zipKernel(g, y) { Elementwise.multiply($0, $1, $2, count: $3) }] },
                             tangent: { t in try t[0].map { try $0 * self.differentiableOutput(y) { $0.exp() } } })
    }

    /// The natural logarithm elementwise (NaN below zero, −∞ at zero).
    public func log() -> Tensor {
        let x = detached
        return Tensor.record(unaryKernel(self) { Elementwise.log($0, $1, count: $2) }, primitive: .log, inputs: [self],
                             pullback: { g, _ in [zipKernel(g, x) { Elementwise.divide($0, $1, $2, count: $3) }] },
                             tangent: { t in try t[0].map { try $0 / self.primal } })
    }

    /// The hyperbolic tangent elementwise.
    public func tanh() -> Tensor {
        let y = unaryKernel(self) { Elementwise.tanh($0, $1, count: $2) }
        return Tensor.record(y, primitive: .tanh, inputs: [self],
                             pullback: { g, _ in [zipKernel(g, y) { Elementwise.tanhBackward($0, output: $1, $2, count: $3) }] },
                             tangent: { t in
                                 // tanh′ = 1 − tanh²
                                 let tanh = self.differentiableOutput(y) { $0.tanh() }
                                 return try t[0].map { try $0 * (1 - tanh.square()) } })
    }

    /// The logistic sigmoid 1 / (1 + e^{−x}) elementwise.
    public func sigmoid() -> Tensor {
        let y = unaryKernel(self) { Elementwise.sigmoid($0, $1, count: $2) }
        return Tensor.record(y, primitive: .sigmoid, inputs: [self],
                             pullback: { g, _ in [zipKernel(g, y) { Elementwise.sigmoidBackward($0, output: $1, $2, count: $3) }] },
                             tangent: { t in
                                 // σ′ = σ (1 − σ)
                                 let s = self.differentiableOutput(y) { $0.sigmoid() }
                                 return try t[0].map { try $0 * (s * (1 - s)) } })
    }

    /// GELU, x·Φ(x) with Φ the standard normal distribution function: the exact (erf) form, which is
    /// PyTorch's default `nn.GELU()`, not the tanh approximation. Accurate to 1e-6 relative.
    public func gelu() -> Tensor {
        let x = detached
        return Tensor.record(unaryKernel(self) { Elementwise.gelu($0, $1, count: $2) }, primitive: .gelu, inputs: [self],
                             pullback: { g, _ in [zipKernel(g, x) { Elementwise.geluBackward($0, input: $1, $2, count: $3) }] },
                             tangent: { t in try t[0].map { try $0 * self.primal.geluDerivative() } })
    }

    /// GELU′(x) = Φ(x) + x φ(x) elementwise (φ the standard normal density): the derivative of
    /// ``gelu()``, a primitive of its own so that GELU's forward-mode rule stays differentiable.
    public func geluDerivative() -> Tensor {
        let x = detached
        return Tensor.record(unaryKernel(self) { Elementwise.geluDerivative($0, $1, count: $2) },
                             primitive: .geluDerivative, inputs: [self],
                             pullback: { g, _ in [zipKernel(g, x) { Elementwise.geluDerivativeBackward($0, input: $1, $2, count: $3) }] },
                             tangent: { t in
                                 // GELU″(x) = φ(x)(2 − x²), composed of differentiable ops.
                                 let x2 = self.primal.square()
                                 let density = (x2 * -0.5).exp() * 0.398_942_280_401_432_678
                                 return try t[0].map { try $0 * (density * (2 - x2)) } })
    }

    /// log(1 + eˣ) elementwise, computed stably for every x.
    public func softplus() -> Tensor {
        let x = detached
        return Tensor.record(unaryKernel(self) { Elementwise.softplus($0, $1, count: $2) }, primitive: .softplus, inputs: [self],
                             pullback: { g, _ in [zipKernel(g, x) { Elementwise.softplusBackward($0, input: $1, $2, count: $3) }] },
                             tangent: { t in try t[0].map { try $0 * self.primal.sigmoid() } })
    }

    /// x² elementwise.
    public func square() -> Tensor {
        let x = detached
        return Tensor.record(unaryKernel(self, minimumPerChunk: 1 << 18) { Elementwise.square($0, $1, count: $2) },
                             primitive: .square, inputs: [self],
                             pullback: { g, _ in [zipKernel(g, x) { Elementwise.squareBackward($0, input: $1, $2, count: $3) }] },
                             tangent: { t in try t[0].map { try $0 * (self.primal * 2) } })
    }

    /// √x elementwise (NaN below zero; the derivative is infinite at zero).
    public func sqrt() -> Tensor {
        let y = unaryKernel(self, minimumPerChunk: 1 << 18) { Elementwise.sqrt($0, $1, count: $2) }
        return Tensor.record(y, primitive: .sqrt, inputs: [self],
                             pullback: { g, _ in [zipKernel(g, y) { Elementwise.sqrtBackward($0, output: $1, $2, count: $3) }] },
                             tangent: { t in
                                 // (√x)′ = 1 / (2 √x)
                                 let root = self.differentiableOutput(y) { $0.sqrt() }
                                 return try t[0].map { try $0 / root * 0.5 } })
    }

    /// The output `y` of a unary op on this tensor, as a value reverse mode can differentiate when
    /// this tensor requires gradients (recomputed by `op`), else `y` itself. For JVP rules.
    func differentiableOutput(_ y: Tensor, _ op: (Tensor) -> Tensor) -> Tensor {
        requiresGradient ? op(primal) : y
    }
}
