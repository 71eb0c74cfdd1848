import XCTest
import Kernels

/// The direct 3×3 convolution kernels, each kernel set this processor supports, against the naive
/// loops in `Reference`: odd channel counts (output channels that do not fill the vector lanes), widths
/// that do not divide into whole strips, one-pixel images, with and without bias and ReLU.
final class DirectConvolutionTests: XCTestCase {
    var rng = Xoshiro256(seed: 7)

    func randomArray(_ n: Int) -> [Float] { (0..<n).map { _ in Float(rng.nextNormal()) } }

    /// Worst |a − b| / max(1, |b|).
    func worstDifference(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count)
        return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1) / max(1, abs($1.1))) }
    }

    /// (batch, in channels, out channels, height, width).
    let cases: [(Int, Int, Int, Int, Int)] = [
        (2, 3, 8, 5, 7), (1, 1, 5, 1, 1), (3, 19, 17, 4, 9), (2, 8, 33, 14, 14), (1, 16, 32, 3, 32), (2, 5, 16, 7, 2),
        (1, 32, 64, 6, 17), (17, 4, 12, 3, 8),
    ]

    func geometry(_ c: (Int, Int, Int, Int, Int)) -> ConvGeometry {
        ConvGeometry(batch: c.0, inChannels: c.1, height: c.3, width: c.4, outChannels: c.2,
                     kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1)
    }

    /// Runs `body` once with each kernel set the processor supports, restoring the widest afterwards.
    func forEachInstructionSet(_ body: (DirectConvolution.InstructionSet) throws -> Void) rethrows {
        let supported = DirectConvolution.supported
        defer { DirectConvolution.select(supported) }
        for set in DirectConvolution.InstructionSet.allCases where set <= supported {
            XCTAssertEqual(DirectConvolution.select(set), set)
            try body(set)
        }
    }

    func testForwardMatchesTheNaiveLoopsWithBiasAndReLU() {
        forEachInstructionSet { set in
            for c in cases {
                let g = geometry(c)
                let x = randomArray(g.batch * g.inChannels * g.height * g.width)
                let w = randomArray(g.outChannels * g.patchSize), bias = randomArray(g.outChannels)
                for (withBias, relu) in [(true, false), (false, false), (true, true)] {
                    var y = [Float](repeating: .nan, count: g.batch * g.outChannels * g.height * g.width)
                    x.withUnsafeBufferPointer { px in
                        w.withUnsafeBufferPointer { pw in
                            bias.withUnsafeBufferPointer { pb in
                                y.withUnsafeMutableBufferPointer {
                                    BatchedConvolution.forward(px.baseAddress!, weight: pw.baseAddress!,
                                                               bias: withBias ? pb.baseAddress! : nil, g, relu: relu,
                                                               method: .direct, into: $0.baseAddress!)
                                }
                            }
                        }
                    }
                    var expected = Reference.conv2d(x, weight: w, bias: withBias ? bias : nil, g)
                    if relu { expected = expected.map { max($0, 0) } }
                    XCTAssertLessThanOrEqual(worstDifference(y, expected), 1e-4, "\(set) \(c) bias \(withBias) relu \(relu)")
                }
            }
        }
    }

    func testGradientsMatchTheNaiveLoops() {
        forEachInstructionSet { set in
            for c in cases {
                let g = geometry(c)
                let x = randomArray(g.batch * g.inChannels * g.height * g.width)
                let w = randomArray(g.outChannels * g.patchSize)
                let dy = randomArray(g.batch * g.outChannels * g.height * g.width)
                let (dx, dw, db) = convolutionGradients(x, weight: w, dy: dy, g, method: .direct)
                let expected = Reference.conv2dGradients(x, weight: w, dy: dy, g)
                XCTAssertLessThanOrEqual(worstDifference(dx, expected.dx), 1e-3, "\(set) \(c) input gradient")
                XCTAssertLessThanOrEqual(worstDifference(dw, expected.dWeight), 1e-3, "\(set) \(c) weight gradient")
                XCTAssertLessThanOrEqual(worstDifference(db, expected.dBias), 1e-3, "\(set) \(c) bias gradient")
            }
        }
    }

    /// A NaN in the input must reach the output through the fused ReLU, not turn into a silent 0.
    func testFusedReLUPropagatesNaN() {
        let g = ConvGeometry(batch: 1, inChannels: 8, height: 4, width: 4, outChannels: 16,
                             kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1)
        var x = randomArray(g.inChannels * g.height * g.width)
        x[5] = .nan
        let w = randomArray(g.outChannels * g.patchSize)
        forEachInstructionSet { set in
            var y = [Float](repeating: 0, count: g.outChannels * g.height * g.width)
            y.withUnsafeMutableBufferPointer { py in
                BatchedConvolution.forward(x, weight: w, bias: nil, g, relu: true, method: .direct, into: py.baseAddress!)
            }
            XCTAssertTrue(y.contains { $0.isNaN }, "\(set)")
        }
    }

    /// The patch-matrix path applies the same fused ReLU, so `relu: true` means the same on both.
    func testBothMethodsAgreeOnThePaperLayerShape() {
        let g = ConvGeometry(batch: 3, inChannels: 32, height: 14, width: 14, outChannels: 64,
                             kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1)
        let x = randomArray(g.batch * g.inChannels * g.height * g.width)
        let w = randomArray(g.outChannels * g.patchSize), bias = randomArray(g.outChannels)
        var outputs: [[Float]] = []
        for method in [BatchedConvolution.Method.patchMatrix, .direct, .automatic] {
            var y = [Float](repeating: .nan, count: g.batch * g.outChannels * g.height * g.width)
            y.withUnsafeMutableBufferPointer { py in
                BatchedConvolution.forward(x, weight: w, bias: bias, g, relu: true, method: method, into: py.baseAddress!)
            }
            outputs.append(y)
        }
        XCTAssertLessThanOrEqual(worstDifference(outputs[1], outputs[0]), 1e-4)
        XCTAssertEqual(outputs[2], outputs[1], "the automatic choice for a 32 → 64 channel 3×3 layer is the direct kernel")
        XCTAssertTrue(outputs[0].allSatisfy { $0 >= 0 })
    }
}
