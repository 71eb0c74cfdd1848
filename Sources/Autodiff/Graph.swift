import Kernels

/// A node of the reverse-mode graph. Each tensor computed from a tensor that requires gradients
/// holds one; it names the primitive that made it, refers to the nodes of the primitive's inputs,
/// and holds the primitive's pullback (VJP rule). The graph lives exactly as long as the tensors
/// that reach it: no tape object, no global state.
///
/// Nodes are public so that tools which walk a recorded computation — the NTK engine finds every
/// dense and convolution primitive and the parameters feeding them — can do so for any model.
public final class GraphNode {
    /// The primitive that produced this node's value (``Primitive/leaf`` for leaves).
    public let primitive: Primitive
    /// The nodes of the primitive's inputs, in argument order (nil where an input needs no gradient).
    public let parents: [GraphNode?]
    /// The shape of the value.
    public let shape: [Int]
    /// How the primitive's Jacobian with respect to its parameter inputs factorises per sample.
    public let structure: ParameterStructure?
    let rule: ((Tensor, [Bool]) throws -> [Tensor?])?
    let failure: AutodiffError

    init(primitive: Primitive, parents: [GraphNode?], shape: [Int], structure: ParameterStructure? = nil,
         rule: ((Tensor, [Bool]) throws -> [Tensor?])?, failure: AutodiffError? = nil) {
        self.primitive = primitive
        self.parents = parents
        self.shape = shape
        self.structure = structure
        self.rule = rule
        self.failure = failure ?? .missingRule(primitive: primitive.name, mode: .reverse)
    }

    /// True for a leaf (a value made with `requiringGradient()`).
    public var isLeaf: Bool { parents.isEmpty }

    /// Applies the primitive's VJP rule: the cotangent of each parent (nil where `needs` is false),
    /// given the cotangent of this node's value. Throws when the primitive has no VJP rule or the rule
    /// returns a cotangent of the wrong shape.
    public func pullback(_ cotangent: Tensor, needs: [Bool]) throws -> [Tensor?] {
        guard !isLeaf else { return [] }
        guard let rule else { throw failure }
        let result = try rule(cotangent, needs)
        for (k, parent) in parents.enumerated() where k < needs.count && needs[k] {
            guard let parent else { continue }
            guard k < result.count, let g = result[k] else { continue }
            if g.shape != parent.shape {
                throw AutodiffError.ruleShape(primitive: primitive.name, mode: .reverse, expected: parent.shape, found: g.shape)
            }
        }
        return result
    }
}

extension Tensor {
    /// True when gradients can flow back through this tensor.
    public var requiresGradient: Bool { node != nil }

    /// True when either mode of differentiation follows this tensor (a graph node or a tangent), so an
    /// op on it must record its rules.
    var isTracked: Bool { node != nil || tangentBox != nil }

    /// The reverse-mode graph node of this value, if it requires gradients.
    public var graphNode: GraphNode? { node }

    /// A copy of this value that is a new leaf of the reverse-mode graph: gradients with respect to
    /// it can be asked for with `gradients(of:wrt:)`.
    public func requiringGradient() -> Tensor {
        var t = Tensor(shape: shape, storage: storage)
        t.node = GraphNode(primitive: .leaf, parents: [], shape: shape, rule: nil)
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

    /// Builds the result of a primitive: attaches a graph node when any input requires gradients and
    /// a tangent when any input carries one.
    ///
    /// Compute `value` from the inputs' `detached` values (plain numbers: nothing is recorded twice), and
    /// write the JVP rule with differentiable ops on the inputs' `primal` values (their graph without their
    /// tangents), so that reverse mode can differentiate through it; ``checkRules(name:inputs:differentiable:options:_:)``
    /// finds a rule that does not.
    ///
    /// - Parameters:
    ///   - value: the primitive's output, computed by the caller.
    ///   - primitive: the primitive's identity, named in errors.
    ///   - inputs: the primitive's differentiable inputs (nil for an absent optional input).
    ///   - pullback: the VJP rule; given the output cotangent and which inputs need gradients, returns
    ///     a cotangent per input (nil where not needed). Called only during backward, and told then
    ///     which inputs lead to a wanted gradient. nil: the primitive has no VJP rule, and reverse mode
    ///     through it throws ``AutodiffError/missingRule(primitive:mode:)``.
    ///   - tangent: the JVP rule; given each input's tangent (nil meaning zero), returns the output
    ///     tangent (nil meaning zero) using differentiable ops, so reverse mode can differentiate
    ///     through it. nil: the primitive has no JVP rule; forward mode through it throws.
    ///   - structure: how the primitive's parameter Jacobian factorises per sample, for the NTK engine.
    public static func record(_ value: Tensor, primitive: Primitive, inputs: [Tensor?],
                              pullback: ((_ cotangent: Tensor, _ needs: [Bool]) throws -> [Tensor?])?,
                              tangent: ((_ inputTangents: [Tensor?]) throws -> Tensor?)?,
                              structure: ParameterStructure? = nil) -> Tensor {
        var result = value.detached
        if inputs.contains(where: { $0?.node != nil }) {
            result.node = GraphNode(primitive: primitive, parents: inputs.map { $0?.node }, shape: value.shape,
                                    structure: structure, rule: pullback)
        }
        let boxes = inputs.map { $0?.tangentBox }
        guard boxes.contains(where: { $0 != nil }) else { return result }
        if let failure = boxes.lazy.compactMap({ $0?.failure }).first {
            result.tangentBox = TangentBox(failure: failure)
            return result
        }
        guard let tangent else {
            result.tangentBox = TangentBox(failure: .missingRule(primitive: primitive.name, mode: .forward))
            return result
        }
        let inputTangents = boxes.map { $0?.tangent }
        let computed: Tensor?
        do { computed = try tangent(inputTangents) } catch {
            result.tangentBox = TangentBox(failure: error as? AutodiffError
                                           ?? .ruleFailed(primitive: primitive.name, mode: .forward, reason: "\(error)"))
            return result
        }
        guard var t = computed else { return result }
        if t.shape != value.shape {
            result.tangentBox = TangentBox(failure: .ruleShape(primitive: primitive.name, mode: .forward,
                                                               expected: value.shape, found: t.shape))
            return result
        }
        // A JVP is linear in the input tangents: when one of them is tracked by reverse mode, a nonzero
        // output tangent must be too, or reverse-over-forward would silently give zero.
        if t.node == nil, inputTangents.contains(where: { $0?.node != nil }) {
            t.node = GraphNode(primitive: Primitive("jvp(\(primitive.name))"), parents: inputTangents.map { $0?.node },
                               shape: t.shape, rule: nil, failure: .nonDifferentiableTangent(primitive: primitive.name))
        }
        result.tangentBox = TangentBox(t)
        return result
    }
}

/// Reverse mode: the gradients of `output` with respect to each tensor in `inputs` (which must have
/// been made with `requiringGradient()`, or computed from such tensors).
///
/// `seed` is the output cotangent (default: ones, i.e. the gradient of the sum of `output`). An input
/// that `output` does not depend on is an error (``AutodiffError/notConnected(index:shape:)``) unless
/// `allowUnconnected` is true, when its gradient is zero — PyTorch's `allow_unused` choice. Only the
/// part of the graph that leads to a wanted input is differentiated: each pullback is told which of
/// its inputs need a cotangent. The graph is walked iteratively, so depth is not limited by the stack.
public func gradients(of output: Tensor, wrt inputs: [Tensor], seed: Tensor? = nil,
                      allowUnconnected: Bool = false) throws -> [Tensor] {
    let seedValue = seed ?? Tensor(repeating: 1, shape: output.shape)
    guard seedValue.shape == output.shape else { throw AutodiffError.seedShape(expected: output.shape, found: seedValue.shape) }
    let found: [Tensor?]
    if let root = output.node {
        found = try cotangents(from: root, seed: seedValue, at: inputs.map(\.node))
    } else {
        found = inputs.map { _ in nil }
    }
    return try inputs.enumerated().map { k, input in
        if let g = found[k] { return g }
        guard allowUnconnected else { throw AutodiffError.notConnected(index: k, shape: input.shape) }
        return Tensor.zeros(input.shape)
    }
}

/// Reverse mode from any node: the cotangent reaching each of `targets` when `root`'s value has
/// cotangent `seed` (nil where a target is not reached). Used by tools that walk the graph.
public func cotangents(from root: GraphNode, seed: Tensor, at targets: [GraphNode?]) throws -> [Tensor?] {
    guard seed.shape == root.shape else { throw AutodiffError.seedShape(expected: root.shape, found: seed.shape) }
    let order = topologicalOrder(from: root)

    // A node needs a cotangent when it is wanted or one of its parents does.
    let wanted = Set(targets.compactMap { $0.map(ObjectIdentifier.init) })
    var relevant = Set<ObjectIdentifier>()
    for node in order {
        let id = ObjectIdentifier(node)
        if wanted.contains(id) || node.parents.contains(where: { $0.map { relevant.contains(ObjectIdentifier($0)) } ?? false }) {
            relevant.insert(id)
        }
    }

    var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(root): seed.detached]
    for node in order.reversed() {
        let id = ObjectIdentifier(node)
        guard relevant.contains(id), let g = grads[id] else { continue }
        if !wanted.contains(id) { grads[id] = nil }  // free as soon as it has been propagated
        if node.isLeaf { continue }
        let needs = node.parents.map { $0.map { relevant.contains(ObjectIdentifier($0)) } ?? false }
        guard needs.contains(true) else { continue }
        let parentGrads = try node.pullback(g, needs: needs)
        for (k, parent) in node.parents.enumerated() where needs[k] {
            guard let parent, k < parentGrads.count, let pg = parentGrads[k] else { continue }
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
    return targets.map { target in target.flatMap { grads[ObjectIdentifier($0)] } }
}

/// The nodes reachable from `root`, parents before children (an iterative post-order walk, so depth is
/// not limited by the call stack; a node's first input is visited first).
public func topologicalOrder(from root: GraphNode) -> [GraphNode] {
    var order: [GraphNode] = []
    var visited = Set<ObjectIdentifier>()
    var stack: [(GraphNode, Bool)] = [(root, false)]
    while let (node, expanded) = stack.popLast() {
        if expanded { order.append(node); continue }
        if !visited.insert(ObjectIdentifier(node)).inserted { continue }
        stack.append((node, true))
        for parent in node.parents.reversed() {
            if let parent, !visited.contains(ObjectIdentifier(parent)) { stack.append((parent, false)) }
        }
    }
    return order
}

/// Reverse mode for a function of one tensor: its value and the gradient of its sum (or of
/// `⟨seed, f(x)⟩`) at `x` (zero where `f` does not depend on `x`).
public func valueWithGradient(at x: Tensor, seed: Tensor? = nil,
                              _ f: (Tensor) throws -> Tensor) throws -> (value: Tensor, gradient: Tensor) {
    let leaf = x.requiringGradient()
    let y = try f(leaf)
    return (y.detached, try gradients(of: y, wrt: [leaf], seed: seed, allowUnconnected: true)[0])
}

/// The value of `f` at `x` and its pullback (vector–Jacobian product) `u ↦ Jᵀu`.
public func vjp(at x: Tensor, _ f: (Tensor) throws -> Tensor) throws -> (value: Tensor, pullback: (Tensor) throws -> Tensor) {
    let leaf = x.requiringGradient()
    let y = try f(leaf)
    return (y.detached, { u in try gradients(of: y, wrt: [leaf], seed: u, allowUnconnected: true)[0] })
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
