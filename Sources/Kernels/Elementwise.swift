/// Elementwise loops on raw buffers, written as plain indexed loops so the compiler vectorises
/// them (no closures, branch-free selects).
public enum Elementwise {
    /// y = max(x, 0), propagating NaN (a NaN input must not turn into a silent 0).
    public static func relu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n { let v = x[i]; y[i] = v < 0 ? 0 : v }
    }

    /// y = g where mask > 0, else 0 (ReLU's derivative applied to g).
    public static func gate(_ g: UnsafePointer<Float>, mask: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n { let v = g[i]; y[i] = mask[i] > 0 ? v : 0 }
    }

    /// y = a + b
    public static func add(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n { y[i] = a[i] + b[i] }
    }

    /// y = a − b
    public static func subtract(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n { y[i] = a[i] - b[i] }
    }

    /// y = a ∘ b
    public static func multiply(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n { y[i] = a[i] * b[i] }
    }

    /// y = s·a + c
    public static func affine(_ a: UnsafePointer<Float>, scale s: Float, shift c: Float, _ y: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n { y[i] = a[i] * s + c }
    }

    /// y += a
    public static func accumulate(_ a: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n { y[i] += a[i] }
    }

    /// True when every element is finite (no NaN or infinity).
    public static func allFinite(_ x: UnsafePointer<Float>, count n: Int) -> Bool {
        // x − x is 0 for finite x and NaN otherwise; one NaN poisons the sum.
        var lanes = SIMD16<Float>()
        var i = 0
        let raw = UnsafeRawPointer(x)
        while i + 16 <= n {
            let v = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            lanes += v - v
            i += 16
        }
        var total = lanes.sum()
        while i < n { total += x[i] - x[i]; i += 1 }
        return total == 0
    }

    /// Σ x[i], with 16 independent SIMD lanes (a plain loop is a sequential dependency the compiler
    /// may not reorder, so it does not vectorise).
    public static func sum(_ x: UnsafePointer<Float>, count n: Int) -> Float {
        var lanes = SIMD16<Float>()
        var i = 0
        let raw = UnsafeRawPointer(x)
        while i + 16 <= n {
            lanes += raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            i += 16
        }
        var total = lanes.sum()
        while i < n { total += x[i]; i += 1 }
        return total
    }
}
