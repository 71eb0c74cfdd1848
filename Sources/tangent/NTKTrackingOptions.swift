import ArgumentParser
import Tangent

/// `tangent train`'s kernel-tracking options. Tracking is off unless `--ntk-every` or
/// `--ntk-every-epoch` is given; K_0 is then computed before the first step.
struct NTKTrackingOptions: ParsableArguments {
    @Option(name: .customLong("ntk-every"), help: ArgumentHelp("Compute the probe's NTK every N optimiser steps.", valueName: "N"))
    var everySteps: Int?

    @Flag(name: .customLong("ntk-every-epoch"), help: "Compute the probe's NTK after every epoch.")
    var everyEpoch = false

    @Option(name: .customLong("ntk-probe"), help: ArgumentHelp("The probe batch: 'first' (the first --ntk-probe-size training images) or comma-separated training indices.", valueName: "first|INDICES"))
    var probe: String = "first"

    @Option(name: .customLong("ntk-probe-size"), help: ArgumentHelp("Size of a 'first' probe (default: the batch size).", valueName: "N"))
    var probeSize: Int?

    @Option(name: .customLong(NTKKindOption.name), help: NTKKindOption.help)
    var kind: KernelKind?

    /// The former name of `--ntk-kind`, still read (see ``NTKKindOption``).
    @Option(name: .customLong("ntk-kernel"), help: .hidden)
    var legacyKind: KernelKind?

    @Flag(name: .customLong("ntk-adversarial-probe"), help: "Compute each kernel on the probe's PGD version against the current model (the robust-evaluation attack).")
    var adversarialProbe = false

    @Option(name: .customLong("ntk-memory-budget"), help: ArgumentHelp("Memory budget of the NTK engine.", valueName: "MB"))
    var memoryBudget: Int = 4096

    /// The tracking settings, or nil when no schedule was asked for.
    func configuration() throws -> KernelTrackingConfiguration? {
        guard everySteps != nil || everyEpoch else { return nil }
        let kind = try NTKKindOption.chosen(kind, legacy: legacyKind, legacyName: "ntk-kernel") ?? .full
        let config = KernelTrackingConfiguration(
            everySteps: everySteps, everyEpoch: everyEpoch, probe: try KernelTrackingConfiguration.Probe(argument: probe),
            probeSize: probeSize, kind: kind, adversarialProbe: adversarialProbe, memoryBudgetMB: memoryBudget)
        try config.validate()
        return config
    }

    func validate() throws {
        let tracking = everySteps != nil || everyEpoch
        if !tracking && (probe != "first" || probeSize != nil || kind != nil || legacyKind != nil || adversarialProbe || memoryBudget != 4096) {
            throw ValidationError("NTK options need --ntk-every N or --ntk-every-epoch to switch kernel tracking on")
        }
        do { _ = try configuration() } catch let error as ConfigurationError { throw ValidationError(error.description) }
    }
}
