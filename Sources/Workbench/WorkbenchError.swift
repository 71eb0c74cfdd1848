/// Settings, models and saved states of the two-layer workbench that cannot be used, named with their value.
public enum WorkbenchError: Error, CustomStringConvertible, Equatable {
    /// A setting outside its range (α ≤ 0, a width of 0, a negative ε …).
    case invalidSetting(name: String, value: String, requirement: String)
    /// A regime in which neither layer is trained.
    case nothingTrained
    /// Data that does not fit the model or the other data (sizes named).
    case mismatch(String)
    /// A saved workbench state that does not fit the run it is restored into.
    case checkpoint(String)
    /// A run folder whose files cannot be read as a two-layer run's (the file named).
    case runFolder(String)

    public var description: String {
        switch self {
        case .invalidSetting(let name, let value, let requirement):
            return "\(name) = \(value) is invalid: it must be \(requirement)"
        case .nothingTrained:
            return "the regime trains no parameters: train the first layer, the output layer, or both"
        case .mismatch(let detail):
            return detail
        case .checkpoint(let detail):
            return "the workbench checkpoint cannot be restored: \(detail)"
        case .runFolder(let detail):
            return detail
        }
    }
}
