/// Slow, obvious reference implementations ("naive twins") of the fast kernels. They exist so tests
/// can compare every optimised routine against code whose correctness is evident by reading it.
public enum Reference {
    /// C = op(A)·op(B) with explicit triple loops (row-major), accumulated in Double.
    public static func matmul(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int,
                              transposeA: Bool = false, transposeB: Bool = false) -> [Float] {
        var c = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k {
                    let av = transposeA ? a[p * m + i] : a[i * k + p]
                    let bv = transposeB ? b[j * k + p] : b[p * n + j]
                    s += Double(av) * Double(bv)
                }
                c[i * n + j] = Float(s)
            }
        }
        return c
    }

    /// Direct convolution (cross-correlation, as in every DL framework) of an NCHW input with
    /// weights [out, in, kh, kw] and an optional bias, zero padding.
    public static func conv2d(_ x: [Float], weight: [Float], bias: [Float]?, _ g: ConvGeometry) -> [Float] {
        let oh = g.outHeight, ow = g.outWidth
        var y = [Float](repeating: 0, count: g.batch * g.outChannels * oh * ow)
        for n in 0..<g.batch {
            for o in 0..<g.outChannels {
                for i in 0..<oh {
                    for j in 0..<ow {
                        var s = Double(bias?[o] ?? 0)
                        for c in 0..<g.inChannels {
                            for a in 0..<g.kernelHeight {
                                for b in 0..<g.kernelWidth {
                                    let iy = i * g.stride - g.padding + a, ix = j * g.stride - g.padding + b
                                    if iy < 0 || iy >= g.height || ix < 0 || ix >= g.width { continue }
                                    let xv = x[((n * g.inChannels + c) * g.height + iy) * g.width + ix]
                                    let wv = weight[((o * g.inChannels + c) * g.kernelHeight + a) * g.kernelWidth + b]
                                    s += Double(xv) * Double(wv)
                                }
                            }
                        }
                        y[((n * g.outChannels + o) * oh + i) * ow + j] = Float(s)
                    }
                }
            }
        }
        return y
    }

    /// The gradients of `conv2d` (no bias term needed) for the output gradient `dy`, by the same
    /// direct loops: input gradient [N, C, H, W], weight gradient [O, C, kh, kw], bias gradient [O].
    public static func conv2dGradients(_ x: [Float], weight: [Float], dy: [Float], _ g: ConvGeometry)
        -> (dx: [Float], dWeight: [Float], dBias: [Float]) {
        let oh = g.outHeight, ow = g.outWidth
        var dx = [Double](repeating: 0, count: x.count)
        var dw = [Double](repeating: 0, count: weight.count)
        var db = [Double](repeating: 0, count: g.outChannels)
        for n in 0..<g.batch {
            for o in 0..<g.outChannels {
                for i in 0..<oh {
                    for j in 0..<ow {
                        let d = Double(dy[((n * g.outChannels + o) * oh + i) * ow + j])
                        db[o] += d
                        for c in 0..<g.inChannels {
                            for a in 0..<g.kernelHeight {
                                for b in 0..<g.kernelWidth {
                                    let iy = i * g.stride - g.padding + a, ix = j * g.stride - g.padding + b
                                    if iy < 0 || iy >= g.height || ix < 0 || ix >= g.width { continue }
                                    let xi = ((n * g.inChannels + c) * g.height + iy) * g.width + ix
                                    let wi = ((o * g.inChannels + c) * g.kernelHeight + a) * g.kernelWidth + b
                                    dx[xi] += d * Double(weight[wi])
                                    dw[wi] += d * Double(x[xi])
                                }
                            }
                        }
                    }
                }
            }
        }
        return (dx.map(Float.init), dw.map(Float.init), db.map(Float.init))
    }

    /// Average (or max) pooling with a k×k window and stride k.
    public static func pool(_ x: [Float], _ g: PoolGeometry, max useMax: Bool) -> [Float] {
        let oh = g.outHeight, ow = g.outWidth
        var y = [Float](repeating: 0, count: g.planes * oh * ow)
        for p in 0..<g.planes {
            for i in 0..<oh {
                for j in 0..<ow {
                    var values: [Float] = []
                    for a in 0..<g.window {
                        for b in 0..<g.window {
                            values.append(x[p * g.height * g.width + (i * g.window + a) * g.width + j * g.window + b])
                        }
                    }
                    y[(p * oh + i) * ow + j] = useMax ? values.max()! : values.reduce(0, +) / Float(values.count)
                }
            }
        }
        return y
    }

    /// Mean softmax cross-entropy computed directly from its definition, in Double.
    public static func softmaxCrossEntropy(_ logits: [Float], labels: [Int32], classes: Int) -> Double {
        let rows = labels.count
        var total = 0.0
        for i in 0..<rows {
            let z = (0..<classes).map { Double(logits[i * classes + $0]) }
            let sumExp = z.map { _exp($0) }.reduce(0, +)
            total += -(z[Int(labels[i])] - _logD(sumExp))
        }
        return total / Double(rows)
    }
}

#if canImport(Glibc)
import Glibc
@usableFromInline func _exp(_ x: Double) -> Double { Glibc.exp(x) }
@usableFromInline func _logD(_ x: Double) -> Double { Glibc.log(x) }
#endif
