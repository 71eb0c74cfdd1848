import ArgumentParser
import Foundation
import Tangent

/// What a sweep does with each run of its grid, decided from the run folders: start it, resume it,
/// or leave it (finished, or running in another process). Building it checks every run's options as
/// its command (`tangent train`, `tangent two-layer`) would, and that a run folder that already exists
/// was started with the settings the file now gives it (only those a resumed run may change — for
/// `train` epochs, data folder, linearization epoch and data limit, for `two-layer` the epochs — may
/// differ), before anything is started or submitted.
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

    init(spec: SweepSpec) throws {
        self.spec = spec
        let kind = spec.kind
        let runs: [SweepGrid.Run]
        do { runs = try spec.grid.runs() } catch { throw ValidationError("\((spec.path as NSString).lastPathComponent): \(error)") }
        entries = try runs.map { run in
            let options = spec.options(of: run)
            let folder = spec.folder(of: run)
            let settings: SweepRunKind.Settings
            do { settings = try kind.settings(arguments: options.flatMap(\.arguments) + ["--run-dir", folder]) }
            catch { throw ValidationError("run \(run.name) (\(spec.locations(of: run))): \(error)") }
            let progress: RunProgress
            do { progress = try kind.progress(of: folder, targetEpochs: settings.epochs) }
            catch { throw ValidationError("run \(run.name): \(error)") }
            if progress.state != .notStarted {
                try Self.checkStoredSettings(of: run, in: folder, against: settings, spec: spec)
            }
            var entry = Entry(run: run, folder: folder, progress: progress, arguments: nil, action: "")
            if let pid = progress.lockHolder {
                entry.action = "running (pid \(pid))"
            } else if let next = kind.continuation(of: progress, options: options, folder: folder, epochs: settings.epochs) {
                (entry.arguments, entry.action) = (next.arguments, next.action)
            } else {
                entry.action = "finished"
            }
            return entry
        }
    }

    /// Refuses a run folder whose stored settings differ from the file's in anything a resumed run keeps,
    /// naming the settings, both values, and the lines of the file that set the run's options.
    private static func checkStoredSettings(of run: SweepGrid.Run, in folder: String, against wanted: SweepRunKind.Settings,
                                            spec: SweepSpec) throws {
        let stored: Any?
        do { stored = try spec.kind.storedSettings(in: folder) } catch { throw ValidationError("run \(run.name): \(error)") }
        guard let stored else { return }  // being set up by a live process: nothing stored to compare yet
        let differing = SweepRunKind.differences(stored: stored, wanted: wanted.kept)
        guard !differing.isEmpty else { return }
        let changeable = spec.kind.resumable.joined(separator: ", ")
        throw ValidationError("run \(run.name): its folder \(folder) was started with other settings than \((spec.path as NSString).lastPathComponent) now gives it (\(spec.locations(of: run))): \(differing.joined(separator: "; ")). A resumed run keeps its stored settings (only \(changeable) may change); restore the file, or give the changed grid another runs: folder")
    }
}
