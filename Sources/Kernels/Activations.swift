/// Elementwise transcendental functions and the fused backward loops of the activations: plain
/// indexed loops over `FastMath`'s branch-free formulas, which the compiler vectorises. Callers split
/// large tensors over the cores (each call handles one contiguous range). Each has a naive twin in
/// `Reference` computed in Double with libm.
extension Elementwise {
    /// y = eˣ
    public static func exp(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n { y[i] = FastMath.exp(x[i]) }
    }

    /// y = log x (NaN below zero, −∞ at zero)
    public static func log(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n { y[i] = FastMath.log(x[i]) }
    }

    /// y = tanh x
    public static func tanh(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n { y[i] = FastMath.tanh(x[i]) }
    }

    /// y = 1 / (1 + e^{−x})
    public static func sigmoid(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n { y[i] = FastMath.sigmoid(x[i]) }
    }

    /// y = log(1 + eˣ), stable for every x.
    public static func softplus(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n { y[i] = FastMath.softplus(x[i]) }
    }

    /// y = x·Φ(x), GELU in its exact (erf) form, PyTorch's default.
    public static func gelu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n { y[i] = FastMath.gelu(x[i]) }
    }

    /// y = GELU′(x) = Φ(x) + x·φ(x)
    public static func geluDerivative(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n { y[i] = FastMath.geluDerivative(x[i]) }
    }

    /// y = √x (correctly rounded; NaN below zero)
    public static func sqrt(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n { y[i] = x[i].squareRoot() }
    }

    /// y = x²
    public static func square(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n { let v = x[i]; y[i] = v * v }
    }

    /// y = a / b
    public static func divide(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n { y[i] = a[i] / b[i] }
    }

    /// dx = g·(1 − y²), the pullback of tanh from its output y.
    public static func tanhBackward(_ g: UnsafePointer<Float>, output y: UnsafePointer<Float>,
                                    _ dx: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n { let v = y[i]; dx[i] = g[i] * (1 - v * v) }
    }

    /// dx = g·y·(1 − y), the pullback of the sigmoid from its output y.
    public static func sigmoidBackward(_ g: UnsafePointer<Float>, output y: UnsafePointer<Float>,
                                       _ dx: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n { let v = y[i]; dx[i] = g[i] * (v - v * v) }
    }

    /// dx = g·sigmoid(x), the pullback of softplus from its input x.
    public static func softplusBackward(_ g: UnsafePointer<Float>, input x: UnsafePointer<Float>,
                                        _ dx: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n { dx[i] = g[i] * FastMath.sigmoid(x[i]) }
    }

    /// dx = g·GELU′(x), the pullback of GELU from its input x.
    public static func geluBackward(_ g: UnsafePointer<Float>, input x: UnsafePointer<Float>,
                                    _ dx: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n { dx[i] = g[i] * FastMath.geluDerivative(x[i]) }
    }

    /// dx = g·GELU″(x) = g·φ(x)·(2 − x²), the pullback of GELU′ from its input x.
    public static func geluDerivativeBackward(_ g: UnsafePointer<Float>, input x: UnsafePointer<Float>,
                                              _ dx: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n { dx[i] = g[i] * FastMath.geluSecondDerivative(x[i]) }
    }

    /// dx = g / (2y), the pullback of √x from its output y.
    public static func sqrtBackward(_ g: UnsafePointer<Float>, output y: UnsafePointer<Float>,
                                    _ dx: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n { dx[i] = 0.5 * g[i] / y[i] }
    }

    /// dx = 2·g·x, the pullback of x² from its input x.
    public static func squareBackward(_ g: UnsafePointer<Float>, input x: UnsafePointer<Float>,
                                      _ dx: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n { let v = x[i]; dx[i] = 2 * g[i] * v }
    }
}
