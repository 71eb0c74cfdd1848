import XCTest
import Foundation
import Autodiff
import Kernels

/// The transcendental activations run at a small multiple of ReLU's speed (vectorised, split over
/// the cores), not the 10–100× of a scalar libm loop. Prints the timings (release build).
final class ActivationThroughputTests: XCTestCase {
    func testActivationsOn10MillionFloatsAgainstReLU() throws {
        var r = TestInputs(seed: 3)
        let x = r.normal([10_000_000], scale: 3)
        func best(_ op: (Tensor) -> Tensor) -> Double {
            (0..<5).map { _ in
                let start = DispatchTime.now().uptimeNanoseconds
                _ = op(x)
                return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            }.min() ?? .infinity
        }
        let relu = best { $0.relu() }
        var lines = ["relu: \(String(format: "%.1f", relu)) ms"]
        let ops: [(String, (Tensor) -> Tensor)] = [("exp", { $0.exp() }), ("tanh", { $0.tanh() }), ("sigmoid", { $0.sigmoid() }),
                                                   ("gelu", { $0.gelu() }), ("softplus", { $0.softplus() }), ("log", { $0.log() })]
        for (name, op) in ops {
            let ms = best(op)
            lines.append("\(name): \(String(format: "%.1f", ms)) ms (\(String(format: "%.1f", ms / relu))× relu)")
            XCTAssertLessThan(ms, 40 * relu + 20, "\(name) is far slower than relu")
        }
        print("10M floats, \(ProcessInfoCores.count) threads: " + lines.joined(separator: "; "))
    }
}
