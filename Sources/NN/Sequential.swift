import Autodiff

/// A chain of named modules applied in order. Parameter names are `layerName.parameterName`
/// (`conv1.weight`), stable across runs: they key checkpoints and optimiser state.
///
/// Forward hooks see each layer's input and output without changing the model (PyTorch style):
/// `let handle = model.addForwardHook { name, input, output in … }; …; handle.remove()`.
public final class Sequential: Module {
    /// The layers with their names, in application order.
    public let layers: [(name: String, module: Module)]
    private var hooks: [Int: (String, Tensor, Tensor) -> Void] = [:]
    private var nextHookID = 0

    public init(_ layers: [(String, Module)]) {
        precondition(Set(layers.map(\.0)).count == layers.count, "layer names must be unique")
        self.layers = layers.map { (name: $0.0, module: $0.1) }
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        var x = input
        for (name, layer) in layers {
            let y = layer(x)
            if !hooks.isEmpty { for key in hooks.keys.sorted() { hooks[key]!(name, x, y) } }
            x = y
        }
        return x
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        layers.flatMap { layer in layer.module.namedParameters.map { ("\(layer.name).\($0.name)", $0.parameter) } }
    }

    /// Registers a hook called after every layer with (layer name, input, output).
    @discardableResult
    public func addForwardHook(_ hook: @escaping (String, Tensor, Tensor) -> Void) -> HookHandle {
        let id = nextHookID
        nextHookID += 1
        hooks[id] = hook
        return HookHandle { [weak self] in self?.hooks[id] = nil }
    }
}

/// Removes a registered hook when `remove()` is called.
public final class HookHandle {
    private var onRemove: (() -> Void)?
    init(_ onRemove: @escaping () -> Void) { self.onRemove = onRemove }
    public func remove() { onRemove?(); onRemove = nil }
}
