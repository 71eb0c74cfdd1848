import Autodiff
import Kernels
import NN

/// One forward pass of a model on a batch, with the recorded graph read to decide how each
/// trainable parameter enters the kernel:
/// - **structured**: a parameter used exactly once, as the weight or bias of a primitive with a
///   ``ParameterStructure`` (dense, convolution) whose output has the batch as its first axis. Its
///   Jacobian factorises per sample (δ ⊗ a, δ · patchesᵀ), so only the output cotangents δ are kept.
/// - **generic**: every other parameter (shared weights, a user's primitive, a parameter transformed
///   before use). Its per-sample gradient rows are built from the cotangents at the *frontier* nodes
///   — the first batch-dependent nodes it feeds — masked to one sample at a time and pulled back
///   through the frontier node and the batch-independent subgraph to the parameter.
///
/// Both assume what the per-sample NTK itself assumes: samples do not interact (no batch statistics),
/// and every batch-dependent value keeps the samples along its first axis, sample-major.
final class RecordedBatch {
    let samples: Int
    let classes: Int
    let logits: Tensor
    let structured: [StructuredUnit]
    let generic: GenericRows?
    /// Bytes of each value the recorded graph computed, and whether it holds the samples (and so
    /// scales with their number) — an upper bound on what the graph keeps alive.
    private let values: [(bytes: Int, batchDependent: Bool)]

    init(model: Module, inputs: Tensor) throws {
        let n = inputs.shape.first ?? 0
        guard n > 0 else { throw NTKError.emptyBatch }
        samples = n

        // Parameters become leaves for this pass; the input is a leaf too, so that batch dependence is
        // visible in the graph. Pruned reverse passes never compute gradients for either.
        let params = model.trainableParameters
        let live = params.map { $0.parameter.value }
        defer { for (p, value) in zip(params, live) { p.parameter.value = value } }
        let leaves = live.map { $0.detached.requiringGradient() }
        for (p, leaf) in zip(params, leaves) { p.parameter.value = leaf }
        let input = inputs.detached.requiringGradient()
        let output = try model(input)
        guard output.rank == 2, output.shape[0] == n, output.shape[1] > 0 else {
            throw NTKError.outputShape(output.shape, samples: n)
        }
        classes = output.shape[1]
        logits = output
        guard let root = output.graphNode else {
            structured = []
            generic = nil
            values = []
            return
        }

        let order = topologicalOrder(from: root)
        let inputID = ObjectIdentifier(input.graphNode!)
        var batchDependent = Set<ObjectIdentifier>([inputID])
        var consumers: [ObjectIdentifier: [(node: GraphNode, slot: Int)]] = [:]
        for node in order {
            for (slot, parent) in node.parents.enumerated() {
                guard let parent else { continue }
                consumers[ObjectIdentifier(parent), default: []].append((node, slot))
                if batchDependent.contains(ObjectIdentifier(parent)) { batchDependent.insert(ObjectIdentifier(node)) }
            }
        }

        values = order.filter { !$0.isLeaf }.map { ($0.shape.reduce(4, *), batchDependent.contains(ObjectIdentifier($0))) }

        // A parameter is structured when its only use is slot 1 (weight) or 2 (bias) of a structured,
        // batch-dependent node whose first axis is the batch.
        var structuredSlots: [ObjectIdentifier: Set<Int>] = [:]
        var genericLeaves: [(node: GraphNode, index: Int)] = []
        for (k, leaf) in leaves.enumerated() {
            guard let node = leaf.graphNode else { continue }
            let uses = consumers[ObjectIdentifier(node)] ?? []
            if uses.count == 1, let use = uses.first, use.slot == 1 || use.slot == 2,
               use.node.structure != nil, batchDependent.contains(ObjectIdentifier(use.node)), use.node.shape.first == n {
                structuredSlots[ObjectIdentifier(use.node), default: []].insert(use.slot)
            } else if !uses.isEmpty {
                genericLeaves.append((node, k))
            }
        }
        var units: [StructuredUnit] = []
        for node in order {
            guard let slots = structuredSlots[ObjectIdentifier(node)], let structure = node.structure else { continue }
            units.append(StructuredUnit(node: node, structure: structure, weight: slots.contains(1), bias: slots.contains(2)))
        }
        structured = units

        guard !genericLeaves.isEmpty else { generic = nil; return }
        let genericIDs = Set(genericLeaves.map { ObjectIdentifier($0.node) })
        // Batch-independent nodes that descend from a generic parameter, and the batch-dependent
        // nodes that consume them.
        var derived = genericIDs
        var frontier: [(node: GraphNode, slot: Int, source: GraphNode)] = []
        for node in order where !node.isLeaf {
            let id = ObjectIdentifier(node)
            for (slot, parent) in node.parents.enumerated() {
                guard let parent, derived.contains(ObjectIdentifier(parent)) else { continue }
                if batchDependent.contains(id) {
                    guard let first = node.shape.first, first > 0, first % n == 0 else {
                        throw NTKError.cannotAttributeSamples(primitive: node.primitive.name, shape: node.shape, samples: n)
                    }
                    frontier.append((node, slot, parent))
                } else {
                    derived.insert(id)
                }
            }
        }
        generic = GenericRows(parameters: genericLeaves.map { ($0.node, live[$0.index].count) }, frontier: frontier,
                              samples: n, classes: classes)
    }

    /// Bytes of the recorded forward pass and of the reverse passes, for `count` samples of the same
    /// computation (this batch's own count when nil): the graph's values, and twice what one pass has
    /// in flight (``transientBytes(samples:)``), once live and once kept idle for the next pass to reuse.
    /// The stores come on top (``storedBytes``).
    func passBytes(samples count: Int? = nil) -> Int {
        values.reduce(0) { $0 + ($1.batchDependent ? scale($1.bytes, to: count) : $1.bytes) } + 2 * transientBytes(samples: count)
    }

    /// Bytes one reverse pass has in flight for `count` samples (this batch's count when nil): the
    /// cotangents it returns (one per structured unit and frontier node, kept to its end) and the two
    /// largest of the graph's values beside them.
    func transientBytes(samples count: Int? = nil) -> Int {
        let scaled = values.map { $0.batchDependent ? scale($0.bytes, to: count) : $0.bytes }
        let targets = structured.map(\.node) + (generic?.frontier.map(\.node) ?? [])
        return scaled.sorted(by: >).prefix(2).reduce(0, +) + targets.reduce(0) { $0 + scale($1.shape.reduce(4, *), to: count) }
    }

    /// `bytes` of this batch's samples scaled to `count` samples (unchanged when nil).
    func scale(_ bytes: Int, to count: Int?) -> Int {
        count.map { bytes / samples * $0 } ?? bytes
    }

    /// Bytes the reverse passes keep when every unit's store is filled at once (stored cotangents,
    /// early gradient rows, generic rows).
    var storedBytes: Int {
        structured.reduce(generic?.bytes ?? 0) { $0 + $1.storedBytes(classes: classes) }
    }

    /// The largest one-output-channel gradient tile of a convolution on the stored-cotangent path, in bytes.
    var minimumTileBytes: Int {
        structured.map { $0.tileBytesPerChannel(classes: classes) }.max() ?? 0
    }

    /// The C reverse passes (one per logit, seeded on every sample), filling the stores of the
    /// structured units at `units` (indices into `structured`; all when nil) and, when `includeGeneric`,
    /// the generic rows. The passes stop at the deepest unit asked for.
    func runReversePasses(units: [Int]? = nil, includeGeneric: Bool = true) throws {
        let chosen = (units ?? Array(structured.indices)).map { structured[$0] }
        let generic = includeGeneric ? self.generic : nil
        for unit in chosen { unit.prepare(classes: classes) }
        generic?.prepare()
        let targets = chosen.map(\.node) + (generic?.frontier.map(\.node) ?? [])
        guard let root = logits.graphNode, !targets.isEmpty else { return }
        for c in 0..<classes {
            var seed = [Float](repeating: 0, count: samples * classes)
            for i in 0..<samples { seed[i * classes + c] = 1 }
            let found = try cotangents(from: root, seed: Tensor(shape: [samples, classes], scalars: seed), at: targets)
            for (k, unit) in chosen.enumerated() {
                unit.add(found[k] ?? Tensor.zeros(unit.node.shape), class: c)
            }
            if let generic {
                try generic.add(Array(found[chosen.count...]), class: c)
            }
        }
    }

    /// The structured units split into groups whose stores fit in `available` bytes each, from the
    /// output side (whose reverse passes are the shortest) inward, so that a kernel whose cotangents do
    /// not fit in memory at once is computed group by group, repeating the reverse passes for each. One
    /// group when everything fits; nil when a single unit does not.
    func unitGroups(fitting available: Int) -> [[Int]]? {
        let sizes = structured.map { $0.storedBytes(classes: classes) }
        if sizes.reduce(0, +) <= available { return [Array(structured.indices)] }
        var groups: [[Int]] = [], current: [Int] = [], used = 0
        for k in structured.indices.reversed() {
            guard sizes[k] <= available else { return nil }
            if used + sizes[k] > available {
                groups.append(current)
                current = []
                used = 0
            }
            current.append(k)
            used += sizes[k]
        }
        if !current.isEmpty { groups.append(current) }
        return groups
    }
}
