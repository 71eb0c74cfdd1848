import ArgumentParser
import Foundation
import Tangent
#if canImport(Glibc)
import Glibc
#endif

/// `tangent sweep`: a grid of `tangent train` or `tangent two-layer` runs from a YAML file (see ``SweepSpec``), run here
/// (`--local -j N`) or as one Slurm job array (`--slurm`), with `status` and `collect`.
struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep", abstract: "Run a grid of training runs here or as a Slurm job array; show its state; collect its metrics.",
        subcommands: [SweepRunCommand.self, SweepStatusCommand.self, SweepCollectCommand.self, SweepTaskCommand.self],
        defaultSubcommand: SweepRunCommand.self)

    /// This executable's absolute path (the runs and array tasks run it again).
    static func ownExecutable() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
    }
}

/// `tangent sweep SPEC --local -j N | --slurm`: starts or resumes every unfinished run of the grid.
struct SweepRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Start or resume the grid's unfinished runs, here (--local) or through sbatch (--slurm).")

    @Argument(help: "The grid file (YAML).") var spec: String
    @Flag(help: "Run here, at most -j at a time.") var local = false
    @Option(name: .short, help: "With --local: runs at a time.") var j: Int = 1
    @Option(help: "With --local: threads per run (default: the cores divided by -j, at least 1).") var threads: Int?
    @Flag(help: "Submit one sbatch --array job, a task per unfinished run.") var slurm = false
    @Flag(help: "Print what would run (with --slurm: the batch script) and start or submit nothing.") var dryRun = false
    @OptionGroup var resources: SlurmResourceOptions

    func validate() throws {
        try requireOption(local != slurm, "give one of --local and --slurm")
        try requireOption(j >= 1, "-j must be at least 1, got \(j)")
        if let threads { try requireOption(threads >= 1, "--threads must be at least 1, got \(threads)") }
        try requireOption(!(slurm && threads != nil), "--threads is for --local; under Slurm each task gets its --cpus")
    }

    func run() throws {
        let plan = try SweepPlan(spec: SweepSpec(path: spec))
        let pending = plan.entries.filter { $0.arguments != nil }
        for entry in plan.entries where entry.arguments == nil { print("\(entry.run.name): \(entry.action)") }
        if pending.isEmpty { print("nothing to do: every run of the grid is finished or running"); return }
        if local { try runLocally(plan, pending) } else { try submit(plan, pending) }
    }

    private func runLocally(_ plan: SweepPlan, _ pending: [SweepPlan.Entry]) throws {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let perRun = threads ?? max(1, cores / min(j, pending.count))
        if dryRun {
            for entry in pending { print("\(entry.run.name) (\(entry.action)): TANGENT_THREADS=\(perRun) tangent \(entry.arguments!.joined(separator: " "))") }
            return
        }
        print("\(pending.count) runs, \(min(j, pending.count)) at a time, \(perRun) threads each")
        let results = try SweepLocalRunner(plan: plan, parallel: j, threadsPerRun: perRun, executable: SweepCommand.ownExecutable()).run()
        let failed = results.compactMap { r -> String? in if case .failed(let s) = r.outcome { return "\(r.entry.run.name) (status \(s))" }; return nil }
        let interrupted = results.filter { if case .interrupted = $0.outcome { return true }; return false }
        if !failed.isEmpty {
            throw ValidationError("\(failed.count) of \(pending.count) runs failed: \(failed.joined(separator: ", ")); their logs are in \(plan.spec.runsFolder)/logs")
        }
        if !interrupted.isEmpty || results.count < pending.count {
            print("stopped: \(pending.count - results.count + interrupted.count) runs unfinished; start the sweep again to resume them")
            throw ExitCode(TrainCommand.interruptedStatus)
        }
        print("all \(pending.count) runs finished")
    }

    private func submit(_ plan: SweepPlan, _ pending: [SweepPlan.Entry]) throws {
        let s = plan.spec.slurm
        let resources = SweepSlurm.Resources(partition: self.resources.partition ?? s.partition, time: self.resources.time ?? s.time,
                                             cpus: self.resources.cpus ?? s.cpus ?? 1, memory: self.resources.memory ?? s.memory,
                                             signalSeconds: s.signalSeconds, maxParallel: s.maxParallel)
        let names = pending.map(\.run.name)
        let text = SweepSlurm.script(spec: plan.spec, entries: pending, resources: resources,
                                     tangent: s.tangent ?? SweepCommand.ownExecutable())
        if dryRun { print(text, terminator: ""); return }
        guard SweepSlurm.executableInPath("sbatch") != nil else {
            throw ValidationError("sbatch is not on PATH (\(ProcessInfo.processInfo.environment["PATH"] ?? "")): run this on a Slurm login node, or use --local")
        }
        let folder = plan.spec.runsFolder
        try RunDirectory.create((folder as NSString).appendingPathComponent("logs"))
        let scriptPath = (folder as NSString).appendingPathComponent(SweepSlurm.scriptName)
        try text.write(toFile: scriptPath, atomically: true, encoding: .utf8)
        let job = try SweepSlurm.submit(scriptPath: scriptPath)
        let jobsPath = (folder as NSString).appendingPathComponent(SweepSlurm.jobsName)
        let line = ([job] + names).joined(separator: " ") + "\n"
        if let handle = FileHandle(forWritingAtPath: jobsPath) {
            handle.seekToEndOfFile()
            handle.write(Data(line.utf8))
            try handle.close()
        } else {
            try line.write(toFile: jobsPath, atomically: true, encoding: .utf8)
        }
        print("submitted job \(job): \(names.count) array tasks (\(scriptPath)); `tangent sweep status \(spec)` shows their state")
    }
}

/// `tangent sweep status SPEC`: each run's state from its folder, and its Slurm task's state.
struct SweepStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show each run's state (from its folder, and squeue/sacct for submitted runs).")

    @Argument(help: "The grid file (YAML).") var spec: String

    func run() throws {
        let plan = try SweepPlan(spec: SweepSpec(path: spec))
        let slurm = SweepSlurm.states(runsFolder: plan.spec.runsFolder)
        let width = plan.entries.map(\.run.name.count).max() ?? 0
        var counts: [String: Int] = [:]
        for entry in plan.entries {
            counts[entry.progress.state.rawValue, default: 0] += 1
            let pad = String(repeating: " ", count: width - entry.run.name.count)
            print("\(entry.run.name)\(pad)  \(entry.progress.summary)" + (slurm[entry.run.name].map { "  [\($0)]" } ?? ""))
        }
        print(counts.keys.sorted().map { "\(counts[$0]!) \($0)" }.joined(separator: ", "))
    }
}

/// `tangent sweep collect SPEC`: the grid's metrics in one table, with overlay plots by axis.
struct SweepCollectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collect", abstract: "Write final and per-epoch metrics of every run as CSV and JSON, with overlay plots by axis.")

    @Argument(help: "The grid file (YAML).") var spec: String
    @Option(help: "Output folder (default: RUNS/collected).") var output: String?

    func run() throws {
        let plan = try SweepPlan(spec: SweepSpec(path: spec))
        let results = try SweepResults.collect(axes: plan.spec.grid.axes.map(\.name),
                                               runs: plan.entries.map { ($0.run, $0.folder, $0.progress.state.rawValue) })
        let folder = output ?? (plan.spec.runsFolder as NSString).appendingPathComponent("collected")
        let written = try results.write(to: folder)
        print("\(plan.entries.count) runs (\(plan.entries.filter { $0.progress.state == .finished }.count) finished), \(results.metricNames.count) metrics: \(folder)")
        for path in written { print("  \((path as NSString).lastPathComponent)") }
    }
}

/// `tangent sweep task SPEC NAME`: one run of the grid, started or resumed (what an array task runs).
/// It becomes the run's `tangent train` or `tangent two-layer` process, so signals reach the run directly.
struct SweepTaskCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "task", abstract: "Start or resume one run of the grid (what each Slurm array task runs).", shouldDisplay: false)

    @Argument(help: "The grid file (YAML).") var spec: String
    @Argument(help: "The run's name.") var name: String

    func run() throws {
        let plan = try SweepPlan(spec: SweepSpec(path: spec))
        guard let entry = plan.entries.first(where: { $0.run.name == name }) else {
            throw ValidationError("\(spec) has no run named '\(name)' (it has \(plan.entries.prefix(5).map(\.run.name).joined(separator: ", "))\(plan.entries.count > 5 ? ", …" : ""))")
        }
        guard let arguments = entry.arguments else { print("\(name): \(entry.action)"); return }
        print("\(name): \(entry.action)")
        guard FileManager.default.changeCurrentDirectoryPath(plan.spec.directory) else {
            throw ValidationError("cannot enter \(plan.spec.directory)")
        }
        let executable = SweepCommand.ownExecutable()
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        fflush(nil)
        execv(executable, argv)
        throw ValidationError("cannot run \(executable): \(String(cString: strerror(errno)))")
    }
}
