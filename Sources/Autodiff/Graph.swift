import Kernels

/// A node of the reverse-mode graph. Each tensor computed from a tensor that requires gradients
/// holds one; it refers to the nodes of the op's inputs and to the op's pullback (VJP rule).
/// The graph lives exactly as long as the tensors that reach it: no tape object, no global state.
final class GraphNode {
    let parents: [GraphNode?]
    let pullback: ((Tensor) -> [Tensor?])?
    let shape: [Int]

    init(parents: [GraphNode?], shape: [Int], pullback: ((Tensor) -> [Tensor?])?) {
        self.parents = parents
        self.shape = shape
        self.pullback = pullback
    }
}

extension Tensor {
    /// True when gradients can flow back through this tensor.
    public var requiresGradient: Bool { node != nil }

    /// A copy of this value that is a new leaf of the reverse-mode graph: gradients with respect to
    /// it can be asked for with `gradients(of:wrt:)`.
    public func requiringGradient() -> Tensor {
        var t = Tensor(shape: shape, storage: storage)
        t.node = GraphNode(parents: [], shape: shape, pullback: nil)
        t.tangentBox = tangentBox
        return t
    }

    /// The same value with no reverse-mode graph and no tangent.
    public var detached: Tensor { Tensor(shape: shape, storage: storage) }

    /// The same value and graph, without its forward-mode tangent (used inside JVP rules, which
    /// must differentiate only once).
    public var primal: Tensor {
        var t = Tensor(shape: shape, storage: storage)
        t.node = node
        return t
    }

    /// Builds the result of a primitive op: attaches a graph node when any input requires gradients
    /// and a tangent when any input carries one.
    ///
    /// - Parameters:
    ///   - value: the op's output, computed by the caller.
    ///   - inputs: the op's differentiable inputs (nil for an absent optional input).
    ///   - pullback: the VJP rule; given the output cotangent and which inputs need gradients,
    ///     returns a cotangent per input (nil where not needed). Only called during backward.
    ///   - tangent: the JVP rule; given each input's tangent (nil meaning zero), returns the output
    ///     tangent using differentiable ops, so reverse mode can later differentiate through it.
    public static func record(_ value: Tensor, inputs: [Tensor?],
                              pullback: @escaping (_ cotangent: Tensor, _ needs: [Bool]) -> [Tensor?],
                              tangent: (_ inputTangents: [Tensor?]) -> Tensor?) -> Tensor {
        var result = value.detached
        let needs = inputs.map { $0?.node != nil }
        if needs.contains(true) {
            result.node = GraphNode(parents: inputs.map { $0?.node }, shape: value.shape,
                                    pullback: { g in pullback(g, needs) })
        }
        let tangents = inputs.map { $0?.tangentBox?.tangent }
        if tangents.contains(where: { $0 != nil }), let t = tangent(tangents) {
            precondition(t.shape == value.shape, "JVP rule returned shape \(t.shape) for output \(value.shape)")
            result.tangentBox = TangentBox(t)
        }
        return result
    }
}

/// Reverse mode: the gradients of `output` with respect to each tensor in `inputs` (which must have
/// been made with `requiringGradient()`, or computed from such tensors).
///
/// `seed` is the output cotangent (default: ones, i.e. the gradient of the sum of `output`).
/// An input that `output` does not depend on gets a zero gradient. The graph is walked iteratively
/// in reverse topological order, so depth is not limited by the call stack.
public func gradients(of output: Tensor, wrt inputs: [Tensor], seed: Tensor? = nil) -> [Tensor] {
    let seedValue = seed ?? Tensor(repeating: 1, shape: output.shape)
    precondition(seedValue.shape == output.shape, "seed shape \(seedValue.shape) != output shape \(output.shape)")
    guard let root = output.node else { return inputs.map { Tensor.zeros($0.shape) } }

    // Post-order DFS without recursion.
    var order: [GraphNode] = []
    var visited = Set<ObjectIdentifier>()
    var stack: [(GraphNode, Bool)] = [(root, false)]
    while let (node, expanded) = stack.popLast() {
        if expanded { order.append(node); continue }
        if !visited.insert(ObjectIdentifier(node)).inserted { continue }
        stack.append((node, true))
        for parent in node.parents { if let parent, !visited.contains(ObjectIdentifier(parent)) { stack.append((parent, false)) } }
    }

    let wanted = Set(inputs.compactMap { $0.node.map(ObjectIdentifier.init) })
    var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(root): seedValue.detached]
    for node in order.reversed() {
        let id = ObjectIdentifier(node)
        guard let g = grads[id] else { continue }
        if !wanted.contains(id) { grads[id] = nil }  // free as soon as it has been propagated
        guard let pullback = node.pullback else { continue }
        let parentGrads = pullback(g)
        for (parent, pg) in zip(node.parents, parentGrads) {
            guard let parent, let pg else { continue }
            let pid = ObjectIdentifier(parent)
            if var existing = grads[pid] {
                grads[pid] = nil
                existing.addInPlace(pg)
                grads[pid] = existing
            } else {
                grads[pid] = pg.detached
            }
        }
    }
    return inputs.map { input in
        guard let n = input.node, let g = grads[ObjectIdentifier(n)] else { return Tensor.zeros(input.shape) }
        return g
    }
}

/// Reverse mode for a function of one tensor: its value and the gradient of its sum (or of
/// `⟨seed, f(x)⟩`) at `x`.
public func valueWithGradient(at x: Tensor, seed: Tensor? = nil,
                              _ f: (Tensor) -> Tensor) -> (value: Tensor, gradient: Tensor) {
    let leaf = x.requiringGradient()
    let y = f(leaf)
    return (y.detached, gradients(of: y, wrt: [leaf], seed: seed)[0])
}

/// The value of `f` at `x` and its pullback (vector–Jacobian product) `u ↦ Jᵀu`.
public func vjp(at x: Tensor, _ f: (Tensor) -> Tensor) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
    let leaf = x.requiringGradient()
    let y = f(leaf)
    return (y.detached, { u in gradients(of: y, wrt: [leaf], seed: u)[0] })
}

extension Tensor {
    /// Adds `other` elementwise into this tensor's storage (copying first if shared).
    mutating func addInPlace(_ other: Tensor) {
        precondition(shape == other.shape, "gradient shape mismatch \(shape) vs \(other.shape)")
        let n = count
        other.withUnsafePointer { src in
            withUnsafeMutablePointer { dst in Elementwise.accumulate(src, into: dst, count: n) }
        }
    }
}
