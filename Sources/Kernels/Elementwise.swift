/// Elementwise loops on raw buffers, written as plain indexed loops so the compiler vectorises
/// them (no closures, branch-free selects).
public enum Elementwise {
    /// y = max(x, 0)
    public static func relu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n { let v = x[i]; y[i] = v > 0 ? v : 0 }
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
}
