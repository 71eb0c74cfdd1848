import Foundation
import Tangent

/// Per-layer and checkpoint measurements for `tangent bench` (conv GFLOP/s, checkpoint save/load).
enum BenchLayers {
    /// Median milliseconds of `body` over `reps` runs after one warm-up.
    static func medianMilliseconds(reps: Int, _ body: () throws -> Void) rethrows -> Double {
        try body()
        var times: [Double] = []
        for _ in 0..<reps {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        return times.sorted()[times.count / 2]
    }

    /// Forward and backward time and GFLOP/s of every conv layer of `net` at batch `batch`. Needs a
    /// `Sequential`: each layer's input comes from running the chain in order.
    static func convolutions(_ net: Sequential, input: Tensor, reps: Int) throws -> [[String: Any]] {
        var records: [[String: Any]] = []
        var x = input
        for (name, layer) in net.layers {
            if let conv = layer as? Conv2D {
                let w = conv.weight.value, b = conv.bias?.value
                let y = try conv(x)
                let flops = 2.0 * Double(w.count) * Double(y.count / w.shape[0])  // one GEMM: 2·O·K·(N·H·W)
                let input = x
                let forward = try medianMilliseconds(reps: reps) { _ = try conv2d(input, weight: w, bias: b, padding: conv.padding) }
                let tracked = input.requiringGradient(), wt = w.requiringGradient()
                // Backward as in training: weight and bias gradients, and the input gradient except for the first layer.
                let needsInput = name != net.layers.first!.name
                let backward = try medianMilliseconds(reps: reps) {
                    let out = try conv2d(needsInput ? tracked : input, weight: wt, bias: b, padding: conv.padding)
                    _ = try gradients(of: out, wrt: needsInput ? [tracked, wt] : [wt], seed: y)
                } - forward
                let backwardFlops = flops * (needsInput ? 2 : 1)
                var record: [String: Any] = ["layer": name, "shape": "\(input.shape)->\(y.shape)", "forward_ms": forward,
                                             "forward_gflops": flops / forward / 1e6, "backward_ms": backward,
                                             "backward_gflops": backwardFlops / backward / 1e6]
                let g = ConvGeometry(batch: input.shape[0], inChannels: input.shape[1], height: input.shape[2], width: input.shape[3],
                                     outChannels: w.shape[0], kernelHeight: w.shape[2], kernelWidth: w.shape[3],
                                     stride: conv.stride, padding: conv.padding)
                if DirectConvolution.handles(g) {
                    // Both methods on their own, without the autodiff graph: which one the automatic choice should take.
                    for (label, method) in [("patch_matrix", BatchedConvolution.Method.patchMatrix), ("direct", .direct)] {
                        let passes = try methodMilliseconds(input, weight: w, bias: b, g, method: method, inputGradient: needsInput, reps: reps)
                        record["\(label)_forward_ms"] = passes.forward
                        record["\(label)_forward_gflops"] = flops / passes.forward / 1e6
                        record["\(label)_backward_ms"] = passes.backward
                        record["\(label)_backward_gflops"] = backwardFlops / passes.backward / 1e6
                    }
                    record["direct_kernel_set"] = "\(DirectConvolution.active)"
                }
                records.append(record)
            }
            x = try layer(x)
        }
        return records
    }

    /// Median forward and backward (weight, bias and, when asked, input gradient) milliseconds of one
    /// convolution computed by `method`.
    static func methodMilliseconds(_ x: Tensor, weight: Tensor, bias: Tensor?, _ g: ConvGeometry,
                                   method: BatchedConvolution.Method, inputGradient: Bool,
                                   reps: Int) throws -> (forward: Double, backward: Double) {
        let xs = x.scalars, ws = weight.scalars, bs = bias?.scalars
        let outCount = g.batch * g.outChannels * g.outHeight * g.outWidth
        var y = [Float](repeating: 0, count: outCount)
        var dx = [Float](repeating: 0, count: xs.count), dw = [Float](repeating: 0, count: ws.count)
        var db = [Float](repeating: 0, count: g.outChannels)
        let forward = medianMilliseconds(reps: reps) {
            y.withUnsafeMutableBufferPointer { py in
                if let bs { BatchedConvolution.forward(xs, weight: ws, bias: bs, g, method: method, into: py.baseAddress!) }
                else { BatchedConvolution.forward(xs, weight: ws, bias: nil, g, method: method, into: py.baseAddress!) }
            }
        }
        let dy = y
        let backward = medianMilliseconds(reps: reps) {
            dx.withUnsafeMutableBufferPointer { pdx in
                dw.withUnsafeMutableBufferPointer { pdw in
                    db.withUnsafeMutableBufferPointer { pdb in
                        BatchedConvolution.backward(xs, weight: ws, dy: dy, g, method: method,
                                                    dx: inputGradient ? pdx.baseAddress! : nil, dWeight: pdw.baseAddress!,
                                                    dBias: pdb.baseAddress!)
                    }
                }
            }
        }
        return (forward, backward)
    }

    /// Save and load time and size of a checkpoint of `net`'s parameters, plain and with a byte-plane
    /// shuffle before zstd (an experiment: does grouping the 4 bytes of every float help zstd?).
    static func checkpoint(_ net: Module, reps: Int) throws -> [String: Any] {
        var c = Checkpoint(metadata: ["model": "bench"])
        for (name, p) in net.namedParameters { try c.append(StoredTensor(name: name, values: p.value.scalars, shape: p.value.shape)) }
        let path = NSTemporaryDirectory() + "tangent-bench-\(UUID().uuidString).safetensors.zst"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let save = try medianMilliseconds(reps: reps) { try CheckpointFile.write(c, to: path) }
        let load = try medianMilliseconds(reps: reps) { _ = try CheckpointFile.read(path: path) }
        let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        let payload = SafeTensorsCodec.encode(c)
        var shuffled = payload
        let n = payload.count / 4
        for i in 0..<n { for k in 0..<4 { shuffled[k * n + i] = payload[4 * i + k] } }
        var plainSize = 0, shuffledSize = 0
        let plainCompress = try medianMilliseconds(reps: reps) { plainSize = try CheckpointFile.compress(payload: payload).count }
        let shuffledCompress = try medianMilliseconds(reps: reps) { shuffledSize = try CheckpointFile.compress(payload: shuffled).count }
        return ["payload_bytes": payload.count, "file_bytes": size, "save_ms": save, "load_ms": load,
                "compressed_bytes": plainSize, "compress_ms": plainCompress,
                "shuffled_compressed_bytes": shuffledSize, "shuffled_compress_ms": shuffledCompress]
    }
}
