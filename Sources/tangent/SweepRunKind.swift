import ArgumentParser
import Foundation
import Tangent

/// The command every run of a grid is: `tangent train` (a `train:` section, or none) or `tangent
/// two-layer` (a `two-layer:` section). It knows how to check the file's options as that command
/// would, which options the sweep sets itself or a resumed run may change, how to read a run folder's
/// progress and stored settings, and the command lines that start and resume a run.
enum SweepRunKind: String, CaseIterable {
    case train
    case twoLayer = "two-layer"

    /// The grid file's section of shared options (`train:`, `two-layer:`), and the subcommand.
    var section: String { rawValue }

    /// Options the sweep sets itself, refused in the file, with the reason.
    var reserved: [String: String] {
        var reasons = [
            "run-dir": "each run's folder is RUNS/NAME (set `runs:` to choose RUNS)",
            "resume": "the sweep resumes unfinished runs itself",
        ]
        if self == .train { reasons["overwrite"] = "the sweep never replaces a run that has started" }
        return reasons
    }

    /// Options that are limits of one process, not settings stored with a run: fine among the shared
    /// options, but an axis over them would name runs after something the runs do not keep.
    var notStored: Set<String> { self == .train ? ["max-data-bytes"] : [] }

    /// Options a resumed run takes from the file (they may differ from the stored settings).
    var resumable: [String] {
        switch self {
        case .train: return ["epochs", "data-dir", "linearize-at-epoch", "max-data-bytes"]
        case .twoLayer: return ["epochs"]
        }
    }

    /// What the command says of `arguments` when it cannot read them (an unknown option, a missing or
    /// malformed value); nil when it reads them. Checks of settings together are left to the whole
    /// run's options, where the others are known.
    func parseProblem(_ arguments: [String]) -> String? {
        let message: String
        switch self {
        case .train:
            do { _ = try TrainCommand.parse(arguments); return nil } catch { message = TrainCommand.message(for: error) }
        case .twoLayer:
            // With its required run folder given, so that its absence does not hide the option's problem.
            do { _ = try TwoLayerCommand.parse(arguments + ["--run-dir", "RUN"]); return nil } catch { message = TwoLayerCommand.message(for: error) }
        }
        let unreadable = ["Unknown option", "is invalid for", "Missing value", "Unexpected argument"].contains { message.contains($0) }
        return unreadable ? message : nil
    }

    /// A run's settings as the file gives them.
    struct Settings {
        /// The epochs the run trains to.
        var epochs: Int
        /// Every setting a resumed run keeps, as JSON (those it may change are blanked).
        var kept: Any
    }

    /// Checks a run's command-line `arguments` (its options and `--run-dir`) as the command would and
    /// returns its settings, or throws the command's message.
    func settings(arguments: [String]) throws -> Settings {
        switch self {
        case .train:
            do {
                let description = try TrainCommand.parse(arguments).makeDescription()
                return Settings(epochs: description.epochs, kept: try Self.kept(description))
            } catch { throw ValidationError(TrainCommand.message(for: error)) }
        case .twoLayer:
            do {
                let experiment = try TwoLayerCommand.parse(arguments).describedExperiment()
                return Settings(epochs: experiment.training.epochs, kept: try Self.kept(experiment))
            } catch { throw ValidationError(TwoLayerCommand.message(for: error)) }
        }
    }

    /// The progress of the run in `folder`, finished at `targetEpochs`.
    func progress(of folder: String, targetEpochs: Int) throws -> RunProgress {
        switch self {
        case .train: return try RunProgress.read(runDirectory: folder, targetEpochs: targetEpochs)
        case .twoLayer: return try TwoLayerRunFolder(path: folder).progress(targetEpochs: targetEpochs)
        }
    }

    /// The settings stored in the started run folder `folder` that a resumed run keeps, as JSON; nil when
    /// the folder has no stored settings yet (a run being set up by a live process).
    func storedSettings(in folder: String) throws -> Any? {
        switch self {
        case .train:
            guard FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent("config.json")) else { return nil }
            return try Self.kept(try RunDescription.stored(inRunFolder: folder))
        case .twoLayer:
            let runFolder = TwoLayerRunFolder(path: folder)
            guard FileManager.default.fileExists(atPath: runFolder.experimentPath) else { return nil }
            return try Self.kept(try runFolder.storedExperiment())
        }
    }

    /// The `tangent` arguments that take the run in `folder` on from `progress`, with what they do; nil
    /// for a finished run. `options` are the file's options of the run, `epochs` the epochs it trains to.
    func continuation(of progress: RunProgress, options: [SweepSpec.Option], folder: String,
                      epochs: Int) -> (arguments: [String], action: String)? {
        let start = [section] + options.flatMap(\.arguments) + ["--run-dir", folder]
        let resumeAction = "resume from epoch \(progress.epoch), step \(progress.step)"
        switch (self, progress.state) {
        case (_, .finished): return nil
        case (_, .notStarted): return (start, "start")
        case (.train, .started):
            // Stopped before its first checkpoint: nothing to resume; the old files are moved aside.
            return (start + ["--overwrite"], "start again (no checkpoint yet)")
        case (.train, .unfinished):
            return (["train", "--resume", folder] + options.filter { resumable.contains($0.name) }.flatMap(\.arguments), resumeAction)
        case (.twoLayer, .started):
            // Its stored experiment (the file's, as checked) starts again from epoch 0.
            return (["two-layer", "--resume", "--run-dir", folder, "--epochs", "\(epochs)"], "start again (no checkpoint yet)")
        case (.twoLayer, .unfinished):
            return (["two-layer", "--resume", "--run-dir", folder, "--epochs", "\(epochs)"], resumeAction)
        }
    }

    /// A run description as JSON with the settings a resumed run may change blanked.
    private static func kept(_ description: RunDescription) throws -> Any {
        var d = description
        d.epochs = 0
        d.dataDirectory = nil
        d.linearizeAtEpoch = nil
        d.scheduleSteps = nil
        return try JSONSerialization.jsonObject(with: try d.jsonData())
    }

    /// An experiment as JSON with its epochs blanked.
    private static func kept(_ experiment: TwoLayerExperiment) throws -> Any {
        var e = experiment
        e.training.epochs = 0
        return try JSONSerialization.jsonObject(with: try JSONEncoder().encode(e))
    }

    /// The settings in which `stored` and `wanted` (JSON values) differ, as `name stored (stored) vs
    /// wanted (file)`: objects are compared key by key, the names joined by `.`; long values are
    /// shortened.
    static func differences(stored: Any?, wanted: Any?, path: String = "") -> [String] {
        if let a = stored as? [String: Any], let b = wanted as? [String: Any] {
            return Set(a.keys).union(b.keys).sorted().flatMap { key in
                differences(stored: a[key], wanted: b[key], path: path.isEmpty ? key : path + "." + key)
            }
        }
        func canonical(_ value: Any?) -> String? {
            guard let value, !(value is NSNull) else { return nil }
            return (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]))
                .map { String(decoding: $0, as: UTF8.self) } ?? "\(value)"
        }
        func text(_ value: Any?) -> String {
            guard let written = canonical(value) else { return "unset" }
            return written.count > 60 ? written.prefix(57) + "…" : written
        }
        guard canonical(stored) != canonical(wanted) else { return [] }
        return ["\(path) \(text(stored)) (stored) vs \(text(wanted)) (file)"]
    }
}
