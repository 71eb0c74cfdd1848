import Autodiff

/// A trainable (or frozen) tensor owned by a module. Reference type: the optimiser, checkpoints and
/// the NTK engine all see the same parameter object the module uses.
public final class Parameter {
    /// The current value. Plain (untracked) between steps.
    public var value: Tensor
    /// Frozen parameters (e.g. the ±1 output layer of the two-layer network) are not trained and
    /// not part of the NTK.
    public let trainable: Bool

    /// A parameter holding `value`.
    public init(_ value: Tensor, trainable: Bool = true) {
        self.value = value
        self.trainable = trainable
    }
}

/// A piece of a network: a differentiable function of its input, and a node of a module tree.
///
/// A module's parameters and sub-modules are found by walking the tree: by default, every stored
/// property that holds a ``Parameter``, a `Module`, or an optional or array of them is part of it,
/// named after the property (`weight`, `conv1`; array elements `blocks.0`, `blocks.1`). Dotted names
/// (`block1.conv2.weight`) come from the path, so a user-defined module needs no list of names:
///
/// ```swift
/// final class Block: Module {
///     let conv1: Conv2D, conv2: Conv2D
///     func callAsFunction(_ x: Tensor) throws -> Tensor {
///         try conv2(try conv1(x).relu()) + x
///     }
/// }
/// ```
/// A module may instead list its ``children`` and ``ownParameters`` explicitly (``Sequential`` does).
public protocol Module: AnyObject {
    /// Applies the module to a batch. Throws a `ShapeError` when the input does not fit.
    func callAsFunction(_ input: Tensor) throws -> Tensor
    /// The direct sub-modules with their names, in a fixed order (default: found by reflection).
    var children: [(name: String, module: Module)] { get }
    /// The parameters this module holds itself, with their names (default: found by reflection).
    var ownParameters: [(name: String, parameter: Parameter)] { get }
}

extension Module {
    public var children: [(name: String, module: Module)] { reflectedMembers(of: self).children }
    public var ownParameters: [(name: String, parameter: Parameter)] { reflectedMembers(of: self).parameters }

    /// Every module of the tree below (and including) this one with its dotted path ("" for this one),
    /// depth first in child order. A module reachable twice appears once, at its first path.
    public var namedModules: [(name: String, module: Module)] {
        var result: [(name: String, module: Module)] = []
        var seen = Set<ObjectIdentifier>()
        var stack: [(String, Module)] = [("", self)]
        while let (path, module) = stack.popLast() {
            guard seen.insert(ObjectIdentifier(module)).inserted else { continue }
            result.append((path, module))
            for child in module.children.reversed() {
                stack.append((path.isEmpty ? child.name : "\(path).\(child.name)", child.module))
            }
        }
        return result
    }

    /// Every parameter of the tree with its dotted name (`conv1.weight`), in tree order: a module's own
    /// parameters before its children's, as in PyTorch. A parameter shared by several modules appears
    /// once, under its first name.
    public var namedParameters: [(name: String, parameter: Parameter)] {
        var result: [(name: String, parameter: Parameter)] = []
        var seen = Set<ObjectIdentifier>()
        for (path, module) in namedModules {
            for (name, p) in module.ownParameters where seen.insert(ObjectIdentifier(p)).inserted {
                result.append((path.isEmpty ? name : "\(path).\(name)", p))
            }
        }
        return result
    }

    /// The trainable parameters, in a fixed order, with their names.
    public var trainableParameters: [(name: String, parameter: Parameter)] {
        namedParameters.filter { $0.parameter.trainable }
    }

    /// Number of scalars over all parameters (trainable or not).
    public var parameterCount: Int { namedParameters.reduce(0) { $0 + $1.parameter.value.count } }

    /// A parameter by its dotted name.
    public func parameter(named name: String) -> Parameter? {
        namedParameters.first { $0.name == name }?.parameter
    }

    /// Calls `child` (named `name` in this module) on `input`; a `ShapeError` raised inside it gains
    /// `name` in its module path. Containers call their children through this, and a user's module
    /// can too, so an error says where in the tree it happened (`block2.conv1`).
    public func callChild(_ name: String, _ child: Module, _ input: Tensor) throws -> Tensor {
        do { return try child(input) } catch let error as ShapeError { throw error.inside(name) }
    }

    /// Evaluates `loss` (which should apply this module) with every trainable parameter tracked,
    /// and returns the loss value and the gradient of each trainable parameter by name. A parameter
    /// the loss does not depend on gets no entry. Parameters are plain tensors again afterwards.
    public func lossAndGradients(_ loss: () throws -> Tensor) throws -> (loss: Float, gradients: [String: Tensor]) {
        let params = trainableParameters
        let leaves = params.map { $0.parameter.value.requiringGradient() }
        for (p, leaf) in zip(params, leaves) { p.parameter.value = leaf }
        defer { for p in params { p.parameter.value = p.parameter.value.detached } }
        let value = try loss()
        guard value.count == 1 else { throw ShapeError("loss", "must be a single number", shapes: [value.shape]) }
        var byName: [String: Tensor] = [:]
        if let root = value.graphNode {
            let grads = try cotangents(from: root, seed: Tensor(repeating: 1, shape: value.shape), at: leaves.map(\.graphNode))
            for (p, g) in zip(params, grads) { if let g { byName[p.name] = g } }
        }
        return (value.scalar, byName)
    }

    /// Current parameter values by name (copies share storage; cheap).
    public func parameterValues() -> [String: Tensor] {
        Dictionary(uniqueKeysWithValues: namedParameters.map { ($0.name, $0.parameter.value.detached) })
    }

    /// Replaces parameter values by name; every parameter must be present with its shape, and no
    /// name may be left over. Nothing is changed when any of that fails.
    public func loadParameterValues(_ values: [String: Tensor]) throws {
        let params = namedParameters
        var problems: [ModuleError.Mismatch] = []
        for (name, p) in params {
            guard let v = values[name] else { problems.append(.missing(name: name, shape: p.value.shape)); continue }
            if v.shape != p.value.shape { problems.append(.shape(name: name, expected: p.value.shape, found: v.shape)) }
        }
        let known = Set(params.map(\.name))
        for name in values.keys.sorted() where !known.contains(name) {
            problems.append(.unexpected(name: name, shape: values[name]!.shape))
        }
        guard problems.isEmpty else { throw ModuleError.parametersDoNotMatch(problems) }
        for (name, p) in params { p.value = values[name]!.detached }
    }
}

/// Errors raised when parameter sets do not match a model.
public enum ModuleError: Error, CustomStringConvertible, Equatable {
    /// One way a parameter set differs from a model's parameters.
    public enum Mismatch: Equatable, CustomStringConvertible, Sendable {
        /// The model has a parameter the set lacks.
        case missing(name: String, shape: [Int])
        /// The set has a tensor the model has no parameter for.
        case unexpected(name: String, shape: [Int])
        /// Both have it, with different shapes.
        case shape(name: String, expected: [Int], found: [Int])

        public var description: String {
            switch self {
            case .missing(let n, let s): return "'\(n)' \(s) is missing"
            case .unexpected(let n, let s): return "'\(n)' \(s) is not a parameter of the model"
            case .shape(let n, let e, let f): return "'\(n)' has shape \(f), the model expects \(e)"
            }
        }
    }

    /// The parameter set does not match the model; every difference is listed.
    case parametersDoNotMatch([Mismatch])

    public var description: String {
        switch self {
        case .parametersDoNotMatch(let list):
            let shown = list.prefix(12).map(\.description).joined(separator: "; ")
            return "the parameters do not match the model: \(shown)\(list.count > 12 ? "; and \(list.count - 12) more" : "")"
        }
    }
}
