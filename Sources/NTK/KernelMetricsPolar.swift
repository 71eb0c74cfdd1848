extension KernelMetrics {
    /// One point of a kernel's polar trajectory (PAPER.md Eq. 13).
    public struct PolarPoint: Sendable, Equatable {
        /// `‖K_t − K_0‖ / ‖K_T − K_0‖`: 0 at the start, 1 at the final kernel.
        public var radius: Double
        /// `arccos(sim(K_t, K_0))` in radians: how far the kernel has rotated away from `K_0`.
        public var angle: Double

        /// A point with the given radius and angle (radians).
        public init(radius: Double, angle: Double) {
            self.radius = radius
            self.angle = angle
        }
    }

    /// Polar dynamics of a kernel sequence `K_0 … K_T` (PAPER.md Eq. 13), relative to the first and
    /// last kernels: `radius(t) = ‖K_t − K_0‖ / ‖K_T − K_0‖`, `angle(t) = arccos(sim(K_t, K_0))`
    /// (radians, similarity clamped to [−1, 1]).
    ///
    /// If the final kernel equals the initial one (`‖K_T − K_0‖ = 0`) the radius is 0 where `K_t = K_0`
    /// too and `+∞` elsewhere. Throws when the kernels differ in size.
    public static func polarDynamics(_ kernels: [KernelMatrix]) throws -> [PolarPoint] {
        try polarDynamics(count: kernels.count) { kernels[$0] }
    }

    /// ``polarDynamics(_:)`` loading kernel `t` on demand: only `K_0`, `K_T` and the current kernel are
    /// held; each kernel is loaded once (`K_0` and `K_T` up front).
    public static func polarDynamics(count: Int, load: (Int) throws -> KernelMatrix) throws -> [PolarPoint] {
        guard count > 0 else { return [] }
        let initial = try load(0)
        let final = count > 1 ? try load(count - 1) : initial
        var displacements: [Double] = []
        var angles: [Double] = []
        for t in 0..<count {
            let kernel = t == 0 ? initial : (t == count - 1 ? final : try load(t))
            displacements.append(try differenceNorm(kernel, initial))
            angles.append(try angle(kernel, initial))
        }
        return polarDynamics(displacements: displacements, angles: angles)
    }

    /// Polar dynamics from per-epoch records: `displacements[t] = ‖K_t − K_0‖` and `angles[t]` in
    /// radians (see ``differenceNorm(_:_:)`` and ``angle(_:_:)``). Radii are normalised by the last
    /// displacement — which lets a training callback record as it goes and normalise at the end.
    public static func polarDynamics(displacements: [Double], angles: [Double]) -> [PolarPoint] {
        precondition(displacements.count == angles.count, "polarDynamics: one angle per displacement")
        guard let scale = displacements.last else { return [] }
        return zip(displacements, angles).map { displacement, angle in
            let radius = scale > 0 ? displacement / scale : (displacement == 0 ? 0 : .infinity)
            return PolarPoint(radius: radius, angle: angle)
        }
    }

    /// Polar dynamics of the spectral truncations: each kernel is replaced by its own rank-k
    /// truncation (``truncate(_:to:)``, e.g. `.top(20)` or `.bottom(n − 20)`) before the same formulas.
    public static func polarDynamics(_ kernels: [KernelMatrix], truncation: SpectralPart) throws -> [PolarPoint] {
        try polarDynamics(count: kernels.count, truncation: truncation) { kernels[$0] }
    }

    /// The truncated polar dynamics loading kernel `t` on demand (each kernel loaded and truncated once).
    public static func polarDynamics(count: Int, truncation: SpectralPart,
                                     load: (Int) throws -> KernelMatrix) throws -> [PolarPoint] {
        guard count > 0 else { return [] }
        let initial = try truncate(load(0), to: truncation)
        let final = count > 1 ? try truncate(load(count - 1), to: truncation) : initial
        return try polarDynamics(count: count) { t in
            t == 0 ? initial : (t == count - 1 ? final : try truncate(load(t), to: truncation))
        }
    }
}
