import XCTest
import Kernels

/// Every fast kernel against its naive twin in `Reference`.
final class KernelsVersusReferenceTests: XCTestCase {
    var rng = Xoshiro256(seed: 42)

    func randomArray(_ n: Int) -> [Float] { (0..<n).map { _ in Float(rng.nextNormal()) } }

    func assertClose(_ a: [Float], _ b: [Float], tolerance: Float = 1e-4, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, file: file, line: line)
        var worst: Float = 0
        for (x, y) in zip(a, b) { worst = max(worst, abs(x - y) / max(1, abs(y))) }
        XCTAssertLessThanOrEqual(worst, tolerance, "max relative difference \(worst)", file: file, line: line)
    }

    func testSGEMMAllTranspositions() {
        let m = 7, n = 5, k = 9
        for ta in [false, true] {
            for tb in [false, true] {
                let a = randomArray(m * k), b = randomArray(k * n)
                var c = [Float](repeating: 0, count: m * n)
                sgemm(transposeA: ta, transposeB: tb, m: m, n: n, k: k, a: a, lda: ta ? m : k,
                      b: b, ldb: tb ? k : n, c: &c, ldc: n)
                assertClose(c, Reference.matmul(a, b, m: m, n: n, k: k, transposeA: ta, transposeB: tb))
            }
        }
    }

    /// Geometries covering SAME and VALID padding, stride 2, one image, and more images than groups.
    let convolutionCases: [ConvGeometry] = [(1, 1, 6, 2), (1, 0, 5, 3), (2, 1, 7, 2), (1, 2, 4, 1), (1, 1, 5, 37)].map {
        ConvGeometry(batch: $0.3, inChannels: 3, height: $0.2, width: $0.2 + 1, outChannels: 4,
                     kernelHeight: 3, kernelWidth: 3, stride: $0.0, padding: $0.1)
    }

    func testBatchedConvolutionMatchesDirectConvolution() {
        for g in convolutionCases {
            let x = randomArray(g.batch * g.inChannels * g.height * g.width)
            let w = randomArray(g.outChannels * g.patchSize), bias = randomArray(g.outChannels)
            for withBias in [true, false] {
                var y = [Float](repeating: .nan, count: g.batch * g.outChannels * g.outHeight * g.outWidth)
                x.withUnsafeBufferPointer { px in
                    w.withUnsafeBufferPointer { pw in
                        bias.withUnsafeBufferPointer { pb in
                            y.withUnsafeMutableBufferPointer {
                                BatchedConvolution.forward(px.baseAddress!, weight: pw.baseAddress!,
                                                           bias: withBias ? pb.baseAddress! : nil, g, into: $0.baseAddress!)
                            }
                        }
                    }
                }
                assertClose(y, Reference.conv2d(x, weight: w, bias: withBias ? bias : nil, g))
            }
        }
    }

    func testBatchedConvolutionGradientsMatchDirectLoops() {
        for g in convolutionCases {
            let x = randomArray(g.batch * g.inChannels * g.height * g.width)
            let w = randomArray(g.outChannels * g.patchSize)
            let dy = randomArray(g.batch * g.outChannels * g.outHeight * g.outWidth)
            let (dx, dw, db) = convolutionGradients(x, weight: w, dy: dy, g)
            let expected = Reference.conv2dGradients(x, weight: w, dy: dy, g)
            assertClose(dx, expected.dx, tolerance: 1e-3)
            assertClose(dw, expected.dWeight, tolerance: 1e-3)
            assertClose(db, expected.dBias, tolerance: 1e-3)
        }
    }

    func testCol2imIsTheAdjointOfIm2col() {
        let g = ConvGeometry(batch: 2, inChannels: 2, height: 5, width: 4, outChannels: 1,
                             kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1)
        let x = randomArray(g.batch * g.inChannels * g.height * g.width)
        let c = randomArray(g.patchSize * g.outputPixels)
        var cols = [Float](repeating: 0, count: c.count)
        im2col(x, g, into: &cols)
        var back = [Float](repeating: .nan, count: x.count)
        col2im(c, g, into: &back)
        let lhs = zip(cols, c).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let rhs = zip(x, back).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        XCTAssertEqual(lhs, rhs, accuracy: 1e-4 * max(1, abs(lhs)))
    }

    func testPoolingMatchesReference() {
        let g = PoolGeometry(batch: 2, channels: 3, height: 6, width: 5, window: 2)
        let x = randomArray(g.planes * g.height * g.width)
        var avg = [Float](repeating: 0, count: g.planes * g.outHeight * g.outWidth)
        avgPoolForward(x, g, into: &avg)
        assertClose(avg, Reference.pool(x, g, max: false))
        var mx = avg, idx = [Int32](repeating: 0, count: avg.count)
        maxPoolForward(x, g, into: &mx, argmax: &idx)
        XCTAssertEqual(mx, Reference.pool(x, g, max: true))
        var gathered = mx
        maxPoolGather(x, g, argmax: idx, into: &gathered)
        XCTAssertEqual(gathered, mx)
    }

    func testSoftmaxCrossEntropyMatchesDefinition() {
        let rows = 4, classes = 10
        let z = randomArray(rows * classes).map { $0 * 5 }
        let labels: [Int32] = [0, 3, 9, 5]
        var p = [Float](repeating: 0, count: z.count)
        let loss = softmaxCrossEntropy(z, labels: labels, rows: rows, classes: classes, probabilities: &p)
        XCTAssertEqual(loss, Reference.softmaxCrossEntropy(z, labels: labels, classes: classes), accuracy: 1e-5)
        for i in 0..<rows { XCTAssertEqual(p[i * classes..<(i + 1) * classes].reduce(0, +), 1, accuracy: 1e-5) }
    }

    func testGeneratorIsDeterministicAndRestorable() {
        var a = Xoshiro256(seed: 7), b = Xoshiro256(seed: 7)
        XCTAssertEqual((0..<5).map { _ in a.next() }, (0..<5).map { _ in b.next() })
        let saved = a.state
        let continued = (0..<5).map { _ in a.next() }
        var restored = Xoshiro256(state: saved)
        XCTAssertEqual((0..<5).map { _ in restored.next() }, continued)
        XCTAssertNotEqual(Xoshiro256(seed: 8).state, Xoshiro256(seed: 7).state)
        var t = Xoshiro256(seed: 1)
        let samples = (0..<20000).map { _ in t.nextTruncatedNormal() }
        XCTAssertTrue(samples.allSatisfy { abs($0) <= 2 })
        let variance = samples.reduce(0) { $0 + $1 * $1 } / Double(samples.count)
        XCTAssertEqual(variance, 0.8796 * 0.8796, accuracy: 0.02)  // std of N(0,1) truncated to [-2, 2]
    }
}
