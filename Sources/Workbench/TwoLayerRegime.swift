/// How a two-layer network f(x) = (α/√m) Σ_r a_r σ(w_r·x) is trained: which layers move, whether the
/// network or its linearization around the initialisation is trained (the lazy regime), the scale α, and
/// whether the initial function f(θ₀, x) is subtracted (centring).
public struct TwoLayerRegime: Codable, Sendable, Equatable {
    /// Train the first layer w.
    public var trainsFirstLayer: Bool
    /// Train the output layer a.
    public var trainsOutputLayer: Bool
    /// Train the linearization f(θ₀) + J(θ₀)(θ − θ₀) instead of the network (lazy training).
    public var linearized: Bool
    /// The output scale α (> 0).
    public var alpha: Float
    /// Subtract f(θ₀, x), so the model is zero at initialisation.
    public var centred: Bool

    /// A regime from its parts; see ``validate()``.
    public init(trainsFirstLayer: Bool, trainsOutputLayer: Bool, linearized: Bool = false, alpha: Float = 1, centred: Bool = false) {
        self.trainsFirstLayer = trainsFirstLayer
        self.trainsOutputLayer = trainsOutputLayer
        self.linearized = linearized
        self.alpha = alpha
        self.centred = centred
    }

    /// Random features: only the output layer is trained (the model is linear in it already).
    public static func randomFeatures(alpha: Float = 1) -> TwoLayerRegime {
        TwoLayerRegime(trainsFirstLayer: false, trainsOutputLayer: true, alpha: alpha)
    }

    /// Full (non-linear) training of both layers.
    public static func full(alpha: Float = 1) -> TwoLayerRegime {
        TwoLayerRegime(trainsFirstLayer: true, trainsOutputLayer: true, alpha: alpha)
    }

    /// Lazy training: the linearization around the initialisation, both layers, scale α, optionally centred.
    public static func lazy(alpha: Float, centred: Bool) -> TwoLayerRegime {
        TwoLayerRegime(trainsFirstLayer: true, trainsOutputLayer: true, linearized: true, alpha: alpha, centred: centred)
    }

    /// Throws for α that is not finite and positive, or a regime that trains neither layer.
    public func validate() throws {
        guard alpha.isFinite, alpha > 0 else {
            throw WorkbenchError.invalidSetting(name: "alpha (initialisation scale)", value: "\(alpha)", requirement: "finite and > 0")
        }
        guard trainsFirstLayer || trainsOutputLayer else { throw WorkbenchError.nothingTrained }
    }

    /// A short description for logs and plots, e.g. `lazy α=4 centred`.
    public var label: String {
        let layers = trainsFirstLayer && trainsOutputLayer ? "both layers" : trainsFirstLayer ? "first layer" : "output layer"
        let kind = linearized ? "lazy (\(layers))" : trainsFirstLayer ? "full (\(layers))" : "random features"
        return "\(kind) α=\(alpha)\(centred ? " centred" : "")"
    }
}
