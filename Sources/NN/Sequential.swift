import Autodiff

/// A chain of named modules applied in order. Parameter names are `layerName.parameterName`
/// (`conv1.weight`), stable across runs: they key checkpoints and optimiser state. Layers may be any
/// modules, containers included (`block1.body.conv2.weight`).
///
/// Forward hooks see each layer's input and output without changing the model (PyTorch style):
/// `let handle = model.addForwardHook { name, input, output in … }; …; handle.remove()`.
public final class Sequential: Module {
    /// The layers with their names, in application order.
    public let layers: [(name: String, module: Module)]
    private var hooks: [Int: (String, Tensor, Tensor) -> Void] = [:]
    private var nextHookID = 0

    /// A chain of `layers`; names must be unique and must not contain a dot.
    public init(_ layers: [(String, Module)]) {
        precondition(Set(layers.map(\.0)).count == layers.count, "layer names must be unique")
        precondition(!layers.contains { $0.0.contains(".") || $0.0.isEmpty }, "layer names must be non-empty and dot-free")
        self.layers = layers.map { (name: $0.0, module: $0.1) }
    }

    /// A chain of unnamed layers, named `0`, `1`, … as in PyTorch.
    public convenience init(_ layers: [Module]) {
        self.init(layers.enumerated().map { ("\($0.offset)", $0.element) })
    }

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        var x = input
        var index = layers.startIndex
        while index < layers.endIndex {
            let (name, layer) = layers[index]
            // A convolution and the ReLU after it run as one pass (fused when nothing is differentiated),
            // unless hooks want to see the convolution's own output.
            if hooks.isEmpty, let conv = layer as? Conv2D, index + 1 < layers.endIndex, layers[index + 1].module is ReLU {
                do { x = try conv.callWithReLU(x) } catch let error as ShapeError { throw error.inside(name) }
                index += 2
                continue
            }
            let y = try callChild(name, layer, x)
            if !hooks.isEmpty { for key in hooks.keys.sorted() { hooks[key]!(name, x, y) } }
            x = y
            index += 1
        }
        return x
    }

    public var children: [(name: String, module: Module)] { layers }
    public var ownParameters: [(name: String, parameter: Parameter)] { [] }

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
    /// Unregisters the hook (idempotent).
    public func remove() { onRemove?(); onRemove = nil }
}
