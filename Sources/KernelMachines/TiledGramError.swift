/// Errors of ``TiledGramStore`` and ``TiledGramOperator``, each naming the file or setting at fault.
public enum TiledGramError: Error, CustomStringConvertible, Equatable {
    /// The folder's manifest is missing, unreadable or describes no matrix.
    case notAStore(path: String, reason: String)
    /// The folder holds another matrix than the one asked for.
    case manifestMismatch(path: String, field: String, stored: String, given: String)
    /// A tile has not been computed.
    case missingTile(path: String)
    /// A tile fails its checksum, `.npy` header, shape or value checks.
    case corruptTile(path: String, reason: String)
    /// A setting out of its range.
    case invalidSetting(name: String, value: Double, requirement: String)
    /// An operation needs every tile, and some are missing or damaged.
    case incomplete(directory: String, missing: Int, corrupt: Int)
    /// A vector of the wrong length or with non-finite values was given.
    case vectorShape(expected: Int, got: Int)
    /// The conjugate-gradient solve did not reach its tolerance.
    case notConverged(iterations: Int, worstResidual: Double, tolerance: Double)

    /// A sentence naming the problem.
    public var description: String {
        switch self {
        case .notAStore(let path, let reason):
            return "\(path) is not a tiled Gram store: \(reason)"
        case .manifestMismatch(let path, let field, let stored, let given):
            return "\(path) holds another matrix: its \(field) is \(stored), this one's is \(given); use another folder"
        case .missingTile(let path):
            return "\(path) has not been computed"
        case .corruptTile(let path, let reason):
            return "\(path) is damaged (\(reason)); compute the store again to replace it"
        case .invalidSetting(let name, let value, let requirement):
            return "the \(name) must be \(requirement), got \(value)"
        case .incomplete(let directory, let missing, let corrupt):
            return "the tiled Gram store \(directory) is incomplete: \(missing) tile\(missing == 1 ? "" : "s") missing, \(corrupt) damaged; compute it first"
        case .vectorShape(let expected, let got):
            return "the vectors hold \(got) values; expected a multiple of N = \(expected) (N rows, row-major), all finite"
        case .notConverged(let iterations, let worstResidual, let tolerance):
            return "conjugate gradients stopped after \(iterations) iterations with a relative residual of \(worstResidual), above the tolerance \(tolerance); raise the iterations or add a ridge"
        }
    }
}
