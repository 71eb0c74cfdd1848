/// The parameters and sub-modules held in a module's stored properties, found with `Mirror`:
/// a `Parameter`, a `Module`, an optional of either, or an array of them (elements named `name.0`,
/// `name.1`, …). Superclass properties come first. A leading underscore (property wrappers) is dropped.
func reflectedMembers(of module: Module) -> (children: [(name: String, module: Module)],
                                              parameters: [(name: String, parameter: Parameter)]) {
    var children: [(name: String, module: Module)] = []
    var parameters: [(name: String, parameter: Parameter)] = []
    var mirrors: [Mirror] = []
    var mirror: Mirror? = Mirror(reflecting: module)
    while let m = mirror { mirrors.insert(m, at: 0); mirror = m.superclassMirror }

    func visit(_ name: String, _ value: Any) {
        switch value {
        case let p as Parameter: parameters.append((name, p))
        case let m as Module: children.append((name, m))
        case let list as [Parameter]: for (k, p) in list.enumerated() { parameters.append(("\(name).\(k)", p)) }
        case let list as [Module]: for (k, m) in list.enumerated() { children.append(("\(name).\(k)", m)) }
        default:
            // Optionals arrive wrapped: unwrap one level.
            let inner = Mirror(reflecting: value)
            if inner.displayStyle == .optional, let some = inner.children.first { visit(name, some.value) }
        }
    }
    for m in mirrors {
        for child in m.children {
            guard var label = child.label else { continue }
            if label.hasPrefix("_") { label.removeFirst() }
            visit(label, child.value)
        }
    }
    return (children, parameters)
}
