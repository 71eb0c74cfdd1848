import Foundation
import NTK

/// Settings of kernel tracking (PAPER.md Section 5): which fixed probe batch the empirical NTK is
/// computed on, how often, and which kernel. Stored in `TrainingSettings.kernelTracking`, so
/// `config.json` and checkpoints record it and a resumed run tracks the same way.
///
/// Tracking is on when ``everySteps`` or ``everyEpoch`` asks for kernels (``isEnabled``); the
/// initial kernel K_0 is always computed at the start of training.
public struct KernelTrackingConfiguration: Codable, Sendable, Equatable {
    /// Which training images form the probe batch. In JSON: `"first"` or an array of indices (runs
    /// written before wrote Swift's enum encoding, `{"first": {}}` / `{"indices": {"_0": […]}}`, which
    /// still decodes).
    public enum Probe: Codable, Sendable, Equatable {
        /// The first ``KernelTrackingConfiguration/probeSize`` training images (file order, so the
        /// probe is the same whatever the shuffling).
        case first
        /// These training-set indices, in this order.
        case indices([Int])

        /// Parses `first` or comma-separated indices such as `0,5,17`.
        public init(argument: String) throws {
            let text = argument.trimmingCharacters(in: .whitespaces)
            if text == "first" {
                self = .first
                return
            }
            let parts = text.split(separator: ",", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            let values = parts.compactMap { Int($0) }
            guard !parts.isEmpty, values.count == parts.count else {
                throw ConfigurationError("the NTK probe is 'first' or comma-separated training indices such as 0,5,17; got '\(argument)'")
            }
            self = .indices(values)
        }

        private enum EnumKey: String, CodingKey { case first, indices }
        private enum PayloadKey: String, CodingKey { case payload = "_0" }

        public init(from decoder: Decoder) throws {
            if let single = try? decoder.singleValueContainer() {
                if let text = try? single.decode(String.self) {
                    guard text == "first" else {
                        throw DecodingError.dataCorruptedError(in: single, debugDescription: "a probe is \"first\" or an array of training indices, not '\(text)'")
                    }
                    self = .first
                    return
                }
                if let indices = try? single.decode([Int].self) {
                    self = .indices(indices)
                    return
                }
            }
            let container = try decoder.container(keyedBy: EnumKey.self)
            if container.contains(.first) {
                self = .first
            } else {
                let payload = try container.nestedContainer(keyedBy: PayloadKey.self, forKey: .indices)
                self = .indices(try payload.decode([Int].self, forKey: .payload))
            }
        }

        public func encode(to encoder: Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .first: try container.encode("first")
            case .indices(let indices): try container.encode(indices)
            }
        }

        /// The command-line spelling (`first`, or the indices joined by commas).
        public var argument: String {
            switch self {
            case .first: return "first"
            case .indices(let i): return i.map(String.init).joined(separator: ",")
            }
        }
    }

    /// Compute a kernel after every this many optimiser steps (nil: not by steps).
    public var everySteps: Int?
    /// Compute a kernel after every epoch.
    public var everyEpoch: Bool
    /// The probe batch.
    public var probe: Probe
    /// Size of a `.first` probe; nil uses the training batch size (the paper's first batch).
    public var probeSize: Int?
    /// The full NC×NC kernel (the paper's, default) or the traced N×N one.
    public var kind: KernelKind
    /// Compute each kernel on the probe's PGD version against the current model (the run's robust
    /// evaluation attack) instead of the clean probe.
    public var adversarialProbe: Bool
    /// The NTK engine's memory budget, in megabytes.
    public var memoryBudgetMB: Int

    /// Tracking settings; the defaults are the paper's (full kernel on the clean first batch) with no
    /// schedule — set ``everySteps`` and/or ``everyEpoch``.
    public init(everySteps: Int? = nil, everyEpoch: Bool = false, probe: Probe = .first, probeSize: Int? = nil,
                kind: KernelKind = .full, adversarialProbe: Bool = false, memoryBudgetMB: Int = 4096) {
        self.everySteps = everySteps
        self.everyEpoch = everyEpoch
        self.probe = probe
        self.probeSize = probeSize
        self.kind = kind
        self.adversarialProbe = adversarialProbe
        self.memoryBudgetMB = memoryBudgetMB
    }

    /// Whether any kernel besides K_0 is scheduled.
    public var isEnabled: Bool { everyEpoch || everySteps != nil }

    /// The NTK engine options these settings ask for.
    public var engineOptions: EmpiricalNTK.Options {
        EmpiricalNTK.Options(kind: kind, memoryBudgetBytes: memoryBudgetMB << 20)
    }

    /// Checks values tracking cannot start with (indices are checked against the data at fit start).
    public func validate() throws {
        if let n = everySteps, n < 1 { throw ConfigurationError("the kernel-tracking period must be positive, got \(n)") }
        if let n = probeSize, n < 1 { throw ConfigurationError("the NTK probe size must be positive, got \(n)") }
        if memoryBudgetMB < 1 { throw ConfigurationError("the NTK memory budget must be positive, got \(memoryBudgetMB) MB") }
        if case .indices(let indices) = probe {
            if indices.isEmpty { throw ConfigurationError("the NTK probe needs at least one index") }
            if let bad = indices.first(where: { $0 < 0 }) { throw ConfigurationError("NTK probe index \(bad) is negative") }
            if Set(indices).count != indices.count { throw ConfigurationError("the NTK probe lists an index twice") }
            if probeSize != nil { throw ConfigurationError("a probe size applies only to the 'first' probe, not to listed indices") }
        }
    }

    /// The probe's training-set indices for a run with this batch size and training-set size.
    public func probeIndices(batchSize: Int, trainCount: Int) throws -> [Int] {
        switch probe {
        case .first:
            let n = probeSize ?? batchSize
            guard n <= trainCount else {
                throw ConfigurationError("the NTK probe needs \(n) training images but the training set has \(trainCount) (use a smaller probe)")
            }
            return Array(0..<n)
        case .indices(let indices):
            try Self.checkProbe(indices, trainCount: trainCount)
            return indices
        }
    }

    /// Checks probe indices against a training set of `trainCount` images before they select images.
    public static func checkProbe(_ indices: [Int], trainCount: Int) throws {
        if let bad = indices.first(where: { $0 < 0 || $0 >= trainCount }) {
            throw ConfigurationError("NTK probe index \(bad) is outside the training set (0..<\(trainCount))")
        }
    }
}
