#if canImport(Glibc)
import Glibc
#endif

/// Row-wise softmax cross-entropy with integer labels, averaged over the rows.
///
/// Writes the softmax probabilities into `probabilities` (rows × classes) for the backward rule and
/// returns the mean loss, accumulated in Double. A label outside 0..<classes is a precondition failure
/// (callers validate labels when data is loaded).
public func softmaxCrossEntropy(_ logits: UnsafePointer<Float>, labels: UnsafePointer<Int32>,
                                rows: Int, classes: Int,
                                probabilities: UnsafeMutablePointer<Float>) -> Double {
    var total = 0.0
    for i in 0..<rows {
        let z = logits + i * classes, p = probabilities + i * classes
        var maxZ = -Float.infinity
        for c in 0..<classes { maxZ = max(maxZ, z[c]) }
        var sum = 0.0
        for c in 0..<classes {
            let e = exp(Double(z[c] - maxZ))
            p[c] = Float(e)
            sum += e
        }
        let inv = 1 / sum
        for c in 0..<classes { p[c] = Float(Double(p[c]) * inv) }
        let label = Int(labels[i])
        precondition(label >= 0 && label < classes, "label \(label) outside 0..<\(classes)")
        total += (Double(maxZ) + log(sum)) - Double(z[label])
    }
    return rows > 0 ? total / Double(rows) : 0
}

/// Per-row predicted class (first maximum).
public func argmaxRows(_ x: UnsafePointer<Float>, rows: Int, columns: Int) -> [Int32] {
    var out = [Int32](repeating: 0, count: rows)
    for i in 0..<rows {
        let r = x + i * columns
        var best = 0
        for c in 1..<max(columns, 1) where r[c] > r[best] { best = c }
        out[i] = Int32(best)
    }
    return out
}
