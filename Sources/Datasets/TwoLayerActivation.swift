import Foundation

/// The activation σ of a two-layer network f(x) = (α/√m) Σ_r a_r σ(w_r·x): ReLU, or a smooth one.
/// Shared by synthetic teacher networks (evaluated here on scalars) and the trained networks.
public enum TwoLayerActivation: String, Codable, Sendable, CaseIterable {
    /// max(z, 0).
    case relu
    /// log(1 + eᶻ), a smooth ReLU.
    case softplus
    /// tanh z.
    case tanh

    /// σ(z) in Double.
    public func callAsFunction(_ z: Double) -> Double {
        switch self {
        case .relu: return max(z, 0)
        case .softplus: return z > 30 ? z : log1p(exp(z))
        case .tanh: return Foundation.tanh(z)
        }
    }

    /// The activation called `name` (`relu`, `softplus`, `tanh`), with an error listing the choices.
    public init(name: String) throws {
        guard let a = TwoLayerActivation(rawValue: name) else {
            throw SyntheticDataError.invalidSetting(name: "activation", value: "'\(name)'",
                                                    requirement: "one of \(Self.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = a
    }
}
