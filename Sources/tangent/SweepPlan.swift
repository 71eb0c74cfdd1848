import ArgumentParser
import Foundation
import Tangent

/// What a sweep does with each run of its grid, decided from the run folders: start it, resume it,
/// or leave it (finished, or running in another process). Building it checks every run's options as
/// `tangent train` would, and that a run folder that already exists was started with the settings the
/// file now gives it (only those a resumed run may change — epochs, data folder, linearization epoch,
/// data limit — may differ), before anything is started or submitted.
struct SweepPlan {
    /// One run and what to do with it.
    struct Entry {
        var run: SweepGrid.Run
        var folder: String
        var progress: RunProgress
        /// The `tangent` arguments that start or resume it; nil when there is nothing to do.
        var arguments: [String]?
        /// Why nothing is done (finished, running), or how it is continued.
        var action: String
    }

    let spec: SweepSpec
    let entries: [Entry]

    /// Options a resumed run takes from the file (they may differ from the stored settings).
    static let resumable: Set<String> = ["epochs", "data-dir", "linearize-at-epoch", "max-data-bytes"]

    init(spec: SweepSpec) throws {
        self.spec = spec
        let runs: [SweepGrid.Run]
        do { runs = try spec.grid.runs() } catch { throw ValidationError("\((spec.path as NSString).lastPathComponent): \(error)") }
        entries = try runs.map { run in
            let options = spec.options(of: run)
            let folder = spec.folder(of: run)
            let command: TrainCommand, description: RunDescription
            do {
                command = try TrainCommand.parse(options.flatMap(\.arguments) + ["--run-dir", folder])
                description = try command.makeDescription()
            } catch {
                throw ValidationError("run \(run.name) (\(spec.locations(of: run))): \(TrainCommand.message(for: error))")
            }
            let progress: RunProgress
            do { progress = try RunProgress.read(runDirectory: folder, targetEpochs: description.epochs) }
            catch { throw ValidationError("run \(run.name): \(error)") }
            if progress.state != .notStarted {
                try Self.checkStoredSettings(of: run, in: folder, against: description, spec: spec)
            }
            var entry = Entry(run: run, folder: folder, progress: progress, arguments: nil, action: "")
            if let pid = progress.lockHolder {
                entry.action = "running (pid \(pid))"
            } else {
                switch progress.state {
                case .finished: entry.action = "finished"
                case .notStarted:
                    entry.arguments = ["train"] + options.flatMap(\.arguments) + ["--run-dir", folder]
                    entry.action = "start"
                case .started:
                    // Stopped before its first checkpoint: nothing to resume; the old files are moved aside.
                    entry.arguments = ["train"] + options.flatMap(\.arguments) + ["--run-dir", folder, "--overwrite"]
                    entry.action = "start again (no checkpoint yet)"
                case .unfinished:
                    entry.arguments = ["train", "--resume", folder]
                        + options.filter { Self.resumable.contains($0.name) }.flatMap(\.arguments)
                    entry.action = "resume from epoch \(progress.epoch), step \(progress.step)"
                }
            }
            return entry
        }
    }

    /// Refuses a run folder whose stored settings differ from the file's in anything a resumed run keeps,
    /// naming the settings, both values, and the lines of the file that set the run's options.
    private static func checkStoredSettings(of run: SweepGrid.Run, in folder: String, against wanted: RunDescription,
                                            spec: SweepSpec) throws {
        let stored = try RunDescription.stored(inRunFolder: folder)
        func comparable(_ d: RunDescription) throws -> [String: String] {
            var d = d
            d.epochs = 0
            d.dataDirectory = nil
            d.linearizeAtEpoch = nil
            d.scheduleSteps = nil
            let object = try JSONSerialization.jsonObject(with: try d.jsonData()) as? [String: Any] ?? [:]
            return object.mapValues { value in
                (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]))
                    .map { String(decoding: $0, as: UTF8.self) } ?? "\(value)"
            }
        }
        let have = try comparable(stored), want = try comparable(wanted)
        let differing = Set(have.keys).union(want.keys).filter { have[$0] != want[$0] }.sorted()
        guard !differing.isEmpty else { return }
        let list = differing.map { "\($0) \(have[$0] ?? "unset") (stored) vs \(want[$0] ?? "unset") (file)" }.joined(separator: "; ")
        throw ValidationError("run \(run.name): its folder \(folder) was started with other settings than \((spec.path as NSString).lastPathComponent) now gives it (\(spec.locations(of: run))): \(list). A resumed run keeps its stored settings (only epochs, data-dir, linearize-at-epoch and max-data-bytes may change); restore the file, or give the changed grid another runs: folder")
    }
}
