/// A synthetic task, stream state or teacher that cannot be used, with the setting and its value.
public enum SyntheticDataError: Error, CustomStringConvertible, Equatable {
    /// A setting outside its range, e.g. a dimension of 0 or a negative noise level.
    case invalidSetting(name: String, value: String, requirement: String)
    /// The teacher reads inputs of another dimension than the task draws.
    case teacherDimension(teacher: Int, inputs: Int)
    /// A saved stream state that cannot be restored (wrong number of generator words, negative count).
    case invalidStreamState(String)

    public var description: String {
        switch self {
        case .invalidSetting(let name, let value, let requirement):
            return "\(name) = \(value) is invalid: it must be \(requirement)"
        case .teacherDimension(let teacher, let inputs):
            return "the teacher takes inputs of dimension \(teacher), but the task draws inputs of dimension \(inputs)"
        case .invalidStreamState(let detail):
            return "the saved synthetic stream state cannot be restored: \(detail)"
        }
    }
}
