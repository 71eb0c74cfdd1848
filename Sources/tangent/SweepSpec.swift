import ArgumentParser
import Foundation
import Tangent
import Yams

/// A grid file of `tangent sweep`, in YAML:
///
/// ```yaml
/// runs: eps-grid          # folder of the run folders, relative to this file (default: the file's name)
/// train:                  # `tangent train` options every run shares, without the leading --
///                         # (or two-layer: with `tangent two-layer` options, for runs of that command)
///   epochs: 2
///   adversarial: pgd
/// grid:                   # the axes: an option and its values; one run per combination
///   eps: [0.1, 0.3]
///   seed: [0, 1]
/// slurm:                  # defaults for --slurm (the command's options override them)
///   partition: gpu
///   time: "04:00:00"
///   cpus: 4
///   memory: 16G
/// ```
///
/// Every option is checked as the command (`tangent train` or `tangent two-layer`) would check it, and
/// errors name the file and line.
/// Runs start in the file's folder, so relative paths in it (`data-dir`, `runs`) are relative to it.
struct SweepSpec {
    /// One option of the runs' command as written: `lr: 0.01` at line 4.
    struct Option {
        var name: String
        var value: String
        var location: String
        /// The command-line words: `--lr 0.01`; a switch gives `--flip` for true and nothing for false.
        var arguments: [String]
    }

    /// Slurm settings from the file's `slurm:` section.
    struct SlurmSettings {
        var partition: String?
        var time: String?
        var cpus: Int?
        var memory: String?
        /// SIGTERM this many seconds before the time limit, so the run checkpoints and requeues.
        var signalSeconds = 300
        /// At most this many array tasks at once (`--array=…%N`).
        var maxParallel: Int?
        /// The tangent executable the tasks run (default: this one).
        var tangent: String?
    }

    /// The file (absolute path) and its folder, where runs start.
    let path: String, directory: String
    /// The command the runs are.
    let kind: SweepRunKind
    /// The folder holding one folder per run.
    let runsFolder: String
    /// Options shared by every run.
    let base: [Option]
    /// The axes, and the option behind each.
    let grid: SweepGrid
    let axisOptions: [String: [Option]]
    let slurm: SlurmSettings

    /// Reads and checks the grid file at `path`.
    init(path givenPath: String) throws {
        path = URL(fileURLWithPath: givenPath).standardizedFileURL.path
        directory = (path as NSString).deletingLastPathComponent
        let file = (givenPath as NSString).lastPathComponent
        let text: String
        do { text = String(decoding: try PlainFile.read(path), as: UTF8.self) }
        catch { throw ValidationError("cannot read the grid file \(givenPath): \(error)") }
        let root: Node?
        do { root = try Yams.compose(yaml: text) }
        catch { throw ValidationError("\(file) is not valid YAML: \(error)") }
        func at(_ node: Node) -> String { "\(file) line \(node.mark?.line ?? 0)" }
        guard let root, let top = root.mapping else {
            throw ValidationError("\(file): expected a mapping with train: (or two-layer:), grid:, runs: and slurm:")
        }
        let sections = try Self.entries(of: top, in: file)
        let commandSections = sections.filter { key, _, _ in SweepRunKind(rawValue: key) != nil }
        if commandSections.count > 1 {
            throw ValidationError("\(at(commandSections[1].1)): a grid runs one command: give \(commandSections[0].0): (line \(commandSections[0].1.mark?.line ?? 0)) or \(commandSections[1].0):, not both")
        }
        let kind = commandSections.first.flatMap { SweepRunKind(rawValue: $0.0) } ?? .train

        var runs: String?
        var base: [Option] = [], axes: [SweepGrid.Axis] = [], axisOptions: [String: [Option]] = [:]
        var slurm = SlurmSettings()
        for (key, keyNode, value) in sections {
            switch key {
            case "runs": runs = try Self.scalar(value, "runs", at(value))
            case kind.section:
                guard let mapping = value.mapping else { throw ValidationError("\(at(value)): \(key): takes option: value lines") }
                for (name, nameNode, v) in try Self.entries(of: mapping, in: file) {
                    base.append(try Self.option(name, try Self.scalar(v, name, at(v)), at(nameNode), axis: false, kind: kind))
                }
            case "grid":
                guard let mapping = value.mapping else { throw ValidationError("\(at(value)): grid: takes option: [values] lines") }
                for (name, nameNode, v) in try Self.entries(of: mapping, in: file) {
                    let values: [String]
                    if let sequence = v.sequence {
                        values = try sequence.map { try Self.scalar($0, name, at($0)) }
                    } else {
                        values = [try Self.scalar(v, name, at(v))]
                    }
                    let options = try values.map { try Self.option(name, $0, at(nameNode), axis: true, kind: kind) }
                    axes.append(SweepGrid.Axis(name: name, values: values, location: at(nameNode)))
                    axisOptions[name] = options
                }
            case "slurm":
                guard let mapping = value.mapping else { throw ValidationError("\(at(value)): slurm: takes setting: value lines") }
                for (name, _, v) in try Self.entries(of: mapping, in: file) {
                    let text = try Self.scalar(v, name, at(v))
                    func whole(_ minimum: Int) throws -> Int {
                        guard let n = Int(text), n >= minimum else {
                            throw ValidationError("\(at(v)): slurm \(name) takes a whole number of at least \(minimum), not '\(text)'")
                        }
                        return n
                    }
                    switch name {
                    case "partition": slurm.partition = text
                    case "time": slurm.time = text
                    case "cpus": slurm.cpus = try whole(1)
                    case "memory": slurm.memory = text
                    case "signal-seconds": slurm.signalSeconds = try whole(1)
                    case "max-parallel": slurm.maxParallel = try whole(1)
                    case "tangent": slurm.tangent = text
                    default:
                        throw ValidationError("\(at(v)): unknown slurm setting '\(name)' (known: partition, time, cpus, memory, signal-seconds, max-parallel, tangent)")
                    }
                }
            default:
                throw ValidationError("\(at(keyNode)): unknown section '\(key)' (known: runs, train, two-layer, grid, slurm)")
            }
        }
        for option in base where axisOptions[option.name] != nil {
            throw ValidationError("\(option.location): '\(option.name)' is both a \(kind.section): option and an axis (\(axisOptions[option.name]![0].location)); keep one")
        }
        do { grid = try SweepGrid(axes: axes) } catch { throw ValidationError("\(error)") }
        self.kind = kind
        self.base = base
        self.axisOptions = axisOptions
        self.slurm = slurm
        let defaultRuns = ((file as NSString).deletingPathExtension as NSString).lastPathComponent
        runsFolder = URL(fileURLWithPath: runs ?? defaultRuns, relativeTo: URL(fileURLWithPath: directory + "/")).standardizedFileURL.path
    }

    /// The mapping's entries as (key, key node, value), refusing non-text and repeated keys.
    private static func entries(of mapping: Node.Mapping, in file: String) throws -> [(String, Node, Node)] {
        var seen: [String: Int] = [:]
        return try mapping.map { key, value in
            let line = key.mark?.line ?? 0
            guard let name = key.scalar?.string else { throw ValidationError("\(file) line \(line): a key must be plain text") }
            if let first = seen[name] { throw ValidationError("\(file) line \(line): '\(name)' is already given at line \(first)") }
            seen[name] = line
            return (name, key, value)
        }
    }

    private static func scalar(_ node: Node, _ name: String, _ location: String) throws -> String {
        guard let scalar = node.scalar else { throw ValidationError("\(location): '\(name)' takes a single value here") }
        return scalar.string
    }

    /// Checks `name: value` as the runs' command would, and turns it into command-line words.
    private static func option(_ name: String, _ value: String, _ location: String, axis: Bool, kind: SweepRunKind) throws -> Option {
        if let reason = kind.reserved[name] { throw ValidationError("\(location): '\(name)' is set by the sweep: \(reason)") }
        if axis && kind.notStored.contains(name) {
            throw ValidationError("\(location): '\(name)' cannot be an axis: it is a limit of one process, not a setting stored with a run (a resumed run could not tell its value); put it under \(kind.section):")
        }
        let isSwitch = kind.parseProblem(["--" + name]) == nil
        let arguments: [String]
        if isSwitch {
            switch value {
            case "true": arguments = ["--" + name]
            case "false": arguments = []
            default: throw ValidationError("\(location): '\(name)' is a switch: write true or false, not '\(value)'")
            }
        } else {
            arguments = ["--" + name, value]
        }
        if let problem = kind.parseProblem(arguments) {
            throw ValidationError("\(location): '\(name): \(value)' is not a tangent \(kind.section) option: \(problem)")
        }
        return Option(name: name, value: value, location: location, arguments: arguments)
    }

    /// The options of `run`: the shared ones, then the run's axis values.
    func options(of run: SweepGrid.Run) -> [Option] {
        base + run.values.compactMap { pair in axisOptions[pair.axis]?.first { $0.value == pair.value } }
    }

    /// The folder of `run`.
    func folder(of run: SweepGrid.Run) -> String { (runsFolder as NSString).appendingPathComponent(run.name) }

    /// Where the run's options were written, for errors.
    func locations(of run: SweepGrid.Run) -> String {
        let lines = options(of: run).map(\.location)
        return lines.isEmpty ? "no options" : lines.joined(separator: ", ")
    }
}
