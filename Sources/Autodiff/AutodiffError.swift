/// Errors of differentiation and of shape checks in differentiable operations.
public enum AutodiffError: Error, CustomStringConvertible, Equatable {
    /// A primitive was differentiated in a mode it has no rule for.
    case missingRule(primitive: String, mode: DifferentiationMode)
    /// A primitive's forward-mode rule returned a tangent that reverse mode cannot differentiate
    /// (built from raw buffers instead of differentiable ops), so reverse-over-forward would be zero.
    case nonDifferentiableTangent(primitive: String)
    /// A rule returned a cotangent or tangent of the wrong shape.
    case ruleShape(primitive: String, mode: DifferentiationMode, expected: [Int], found: [Int])
    /// A rule threw.
    case ruleFailed(primitive: String, mode: DifferentiationMode, reason: String)
    /// `gradients(of:wrt:)` was asked for a tensor the output does not depend on.
    case notConnected(index: Int, shape: [Int])
    /// A seed or tangent does not match the value it belongs to.
    case seedShape(expected: [Int], found: [Int])

    public var description: String {
        switch self {
        case .missingRule(let p, let mode):
            return "primitive '\(p)' has no \(mode.rawValue) rule, so it cannot be differentiated in \(mode == .reverse ? "reverse" : "forward") mode"
        case .nonDifferentiableTangent(let p):
            return "the JVP rule of primitive '\(p)' returned a tangent that reverse mode cannot differentiate; write it with differentiable ops (checkRules finds this)"
        case .ruleShape(let p, let mode, let e, let f):
            return "the \(mode.rawValue) rule of primitive '\(p)' returned shape \(f) where \(e) was expected"
        case .ruleFailed(let p, let mode, let reason):
            return "the \(mode.rawValue) rule of primitive '\(p)' failed: \(reason)"
        case .notConnected(let i, let shape):
            return "input \(i) (shape \(shape)) does not influence the output; pass allowUnconnected: true to get a zero gradient for it"
        case .seedShape(let e, let f):
            return "seed of shape \(f) for a value of shape \(e)"
        }
    }
}

/// Shapes that an operation cannot combine, with the operation's name, both shapes and — once the
/// error has passed through a module tree — the dotted path of the module where it happened.
public struct ShapeError: Error, CustomStringConvertible, Equatable {
    /// The operation that refused its inputs (`add`, `linear`, `conv2d`, …).
    public var operation: String
    /// What is wrong, in words.
    public var message: String
    /// The shapes involved, in argument order.
    public var shapes: [[Int]]
    /// The dotted path of the module in which it happened (`block2.conv1`), outermost first; empty
    /// when not raised inside a module tree.
    public var modulePath: [String]

    /// A shape error of `operation`.
    public init(_ operation: String, _ message: String, shapes: [[Int]], modulePath: [String] = []) {
        self.operation = operation
        self.message = message
        self.shapes = shapes
        self.modulePath = modulePath
    }

    /// The same error raised one level further up a module tree, inside the child called `name`.
    public func inside(_ name: String) -> ShapeError {
        var e = self
        e.modulePath.insert(name, at: 0)
        return e
    }

    public var description: String {
        let shapeList = shapes.map { "\($0)" }.joined(separator: " and ")
        let location = modulePath.isEmpty ? "" : "\(modulePath.joined(separator: ".")): "
        return "\(location)\(operation): \(message) (shapes \(shapeList))"
    }
}
