import Autodiff
import Kernels

/// The general rule: per-sample gradient rows for parameters without a structure rule.
///
/// For each logit c and sample i, the cotangent at every frontier node (a batch-dependent node fed by
/// a tensor derived only from parameters) is masked to sample i's block of the first axis and pulled
/// back through that node to its parameter-derived input, then through the batch-independent
/// subgraph to the parameters. Row (i, c) is the concatenation of those gradients, laid out
/// [sample][class][parameter] like ``CotangentStore``, so K += G Gᵀ as for the other units.
final class GenericRows {
    let parameters: [(node: GraphNode, count: Int)]
    let frontier: [(node: GraphNode, slot: Int, source: GraphNode)]
    let samples: Int, classes: Int
    /// Total parameter count P (the row length for one class).
    let width: Int
    private let offsets: [ObjectIdentifier: Int]
    private(set) var buffer: UnsafeMutablePointer<Float>?

    init(parameters: [(node: GraphNode, count: Int)], frontier: [(node: GraphNode, slot: Int, source: GraphNode)],
         samples: Int, classes: Int) {
        self.parameters = parameters
        self.frontier = frontier
        self.samples = samples
        self.classes = classes
        var offsets: [ObjectIdentifier: Int] = [:]
        var total = 0
        for p in parameters {
            offsets[ObjectIdentifier(p.node)] = total
            total += p.count
        }
        self.offsets = offsets
        width = total
    }

    var bytes: Int { samples * classes * width * 4 }

    func prepare() { buffer = FloatBuffer.allocateZeroed(samples * classes * width) }

    var pointer: UnsafeMutablePointer<Float> { buffer! }

    /// Adds the rows of logit `c`, given the cotangent at each frontier node (in `frontier` order).
    func add(_ deltas: [Tensor?], class c: Int) throws {
        guard let buffer else { return }
        for i in 0..<samples {
            var sources: [ObjectIdentifier: (node: GraphNode, cotangent: Tensor)] = [:]
            var sourceOrder: [ObjectIdentifier] = []
            for (edge, delta) in zip(frontier, deltas) {
                guard let delta else { continue }
                let masked = maskedToSample(delta, i)
                let needs = edge.node.parents.indices.map { $0 == edge.slot }
                let pulled = try edge.node.pullback(masked, needs: needs)
                guard edge.slot < pulled.count, let g = pulled[edge.slot] else { continue }
                let id = ObjectIdentifier(edge.source)
                if let existing = sources[id] {
                    sources[id] = (edge.source, try existing.cotangent + g)
                } else {
                    sources[id] = (edge.source, g.detached)
                    sourceOrder.append(id)
                }
            }
            let row = buffer + (i * classes + c) * width
            for id in sourceOrder {
                let (source, cotangent) = sources[id]!
                if let offset = offsets[id] {
                    cotangent.withUnsafePointer { Elementwise.accumulate($0, into: row + offset, count: cotangent.count) }
                    continue
                }
                let found = try cotangents(from: source, seed: cotangent, at: parameters.map(\.node))
                for (p, g) in zip(parameters, found) {
                    guard let g else { continue }
                    g.withUnsafePointer { Elementwise.accumulate($0, into: row + offsets[ObjectIdentifier(p.node)]!, count: g.count) }
                }
            }
        }
    }

    /// `delta` with every sample but `i` zeroed (samples are equal blocks of the first axis).
    private func maskedToSample(_ delta: Tensor, _ i: Int) -> Tensor {
        let per = delta.count / samples
        var out = Tensor.zeros(delta.shape)
        delta.withUnsafePointer { src in
            out.withUnsafeMutablePointer { dst in (dst + i * per).update(from: src + i * per, count: per) }
        }
        return out
    }

    deinit { if let buffer { FloatBuffer.deallocate(buffer) } }
}
