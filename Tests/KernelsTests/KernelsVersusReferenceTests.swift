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

    func testConvolutionThroughIm2colMatchesDirectConvolution() {
        for (stride, padding, size) in [(1, 1, 6), (1, 0, 5), (2, 1, 7), (1, 2, 4)] {
            let g = ConvGeometry(batch: 2, inChannels: 3, height: size, width: size + 1, outChannels: 4,
                                 kernelHeight: 3, kernelWidth: 3, stride: stride, padding: padding)
            let x = randomArray(g.batch * g.inChannels * g.height * g.width)
            let w = randomArray(g.outChannels * g.patchSize), bias = randomArray(g.outChannels)
            var cols = [Float](repeating: .nan, count: g.patchSize * g.outputPixels)
            im2col(x, g, into: &cols)
            var cm = [Float](repeating: 0, count: g.outChannels * g.outputPixels)
            sgemm(m: g.outChannels, n: g.outputPixels, k: g.patchSize, a: w, lda: g.patchSize,
                  b: cols, ldb: g.outputPixels, c: &cm, ldc: g.outputPixels)
            var y = [Float](repeating: 0, count: cm.count)
            channelMajorToBatchMajor(cm, channels: g.outChannels, batch: g.batch,
                                     pixels: g.outHeight * g.outWidth, bias: bias, into: &y)
            assertClose(y, Reference.conv2d(x, weight: w, bias: bias, g))
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

    func testChannelMajorRoundTrip() {
        let x = randomArray(3 * 4 * 5)
        var cm = [Float](repeating: 0, count: x.count), back = [Float](repeating: 0, count: x.count)
        batchMajorToChannelMajor(x, channels: 4, batch: 3, pixels: 5, into: &cm)
        channelMajorToBatchMajor(cm, channels: 4, batch: 3, pixels: 5, bias: nil, into: &back)
        XCTAssertEqual(x, back)
        XCTAssertEqual(cm[5], x[20])  // [C, N, P]: index 5 is channel 0 of image 1, which NCHW puts at 1·4·5
        XCTAssertEqual(cm[15], x[5])  // channel 1 of image 0: 5 in NCHW, 1·3·5 in [C, N, P]
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
