import ArgumentParser
import Tangent
#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// The `tangent` command line: train, evaluate, inspect and analyse runs; fit and attack kernel machines and
/// study their eigen-features.
@main
struct TangentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tangent",
        abstract: "Train small CNNs with empirical-NTK instrumentation, attacks and exact resume.",
        version: TangentVersion.current,
        subcommands: [TrainCommand.self, EvalCommand.self, InspectCommand.self, AnalyzeCommand.self, NTKCommand.self, KernelCommand.self, FeaturesCommand.self, TwoLayerCommand.self, SweepCommand.self, DataCommand.self, BenchCommand.self])

    /// Parses the command line with the options whose value may be left out completed first (see
    /// ``OptionalValueOptions``). Standard output is line-buffered, so a long command's progress reaches a
    /// log file or pipe as each line is printed, not when a buffer fills.
    static func main() {
        setvbuf(stdout, nil, _IOLBF, 0)
        main(OptionalValueOptions.completed(Array(CommandLine.arguments.dropFirst())))
    }
}
