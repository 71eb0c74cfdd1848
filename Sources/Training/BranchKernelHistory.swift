import Checkpoints
import Foundation
import NTK

/// The kernels a branch inherits from the run it branches from.
///
/// A checkpoint's kernel-tracking state lists every kernel taken up to it (`kernels/index.json` of the
/// run at that point). A branch — the continuation of a checkpoint in a new run folder — starts with that
/// history, so its own `kernels/` folder must hold those files: an index that names files the folder
/// does not have could not be analysed. Each listed file of the original run folder is hard-linked into
/// the branch (copied when the two folders lie on different file systems), so the branch stays whole
/// when the original run is deleted, at no cost in disk space where links work; kernel files are only
/// ever replaced by renaming a new file over them, never rewritten in place, so a link never changes
/// under the branch.
///
/// A file that cannot be found there (a checkpoint file outside its run folder, or a kernel deleted
/// since) is rewritten from the checkpoint itself when it holds it: the tracking state keeps K₀ (the
/// first snapshot) and the newest kernel (the last). Kernels between them that cannot be found are left
/// out of the branch's index — its analysis then covers the kernels it has — and reported in
/// ``Outcome/missing``.
enum BranchKernelHistory {
    /// What the branch received.
    struct Outcome: Equatable {
        /// Snapshots linked or copied from the original run folder.
        var inherited: [KernelSnapshot] = []
        /// Snapshots written from the checkpoint's tracking state (K₀, the newest kernel). With an
        /// attacked probe these files lack the probe inputs (the state does not hold them).
        var rewritten: [KernelSnapshot] = []
        /// Snapshots whose kernel exists neither in the original run folder nor in the checkpoint,
        /// left out of the branch's index.
        var missing: [KernelSnapshot] = []
    }

    /// The metadata key of the tracking state's snapshot index in a checkpoint.
    static let indexKey = RestoredKernelTracking.keyPrefix + "index"

    /// Gives `branchDirectory/kernels` the kernels listed in `checkpoint`'s tracking state, writes the
    /// branch's `kernels/index.json` listing exactly those it now holds, and replaces the state's index in
    /// `checkpoint` with it (so the tracker restored from `checkpoint` continues that index). `sourceRun`
    /// is the run folder the checkpoint belongs to (nil for a checkpoint file outside a run folder).
    /// Returns nil, changing nothing, when the checkpoint holds no kernels.
    static func inherit(_ checkpoint: inout Checkpoint, path: String, sourceRun: String?,
                        branchDirectory: String) throws -> Outcome? {
        guard let state = try TrainingCheckpoint.callbackState(checkpoint, key: "kernel_dynamics", path: path) else { return nil }
        let restored = try RestoredKernelTracking(state, expectedKind: nil, path: path, run: nil)
        guard let index = restored.index, !index.snapshots.isEmpty else { return nil }

        let sourceKernels = sourceRun.map { ($0 as NSString).appendingPathComponent(KernelSnapshotStore.folderName) }
        var outcome = Outcome()
        var plan: [(snapshot: KernelSnapshot, source: Source)] = []
        for (i, snapshot) in index.snapshots.enumerated() {
            if let sourceKernels, let file = originalFile(of: snapshot, in: sourceKernels) {
                plan.append((snapshot, .file(file)))
                outcome.inherited.append(snapshot)
            } else if i == 0, let initial = restored.initialKernel {
                plan.append((snapshot, .kernel(initial)))
                outcome.rewritten.append(snapshot)
            } else if i == index.snapshots.count - 1, let newest = restored.previousKernel {
                plan.append((snapshot, .kernel(newest)))
                outcome.rewritten.append(snapshot)
            } else {
                outcome.missing.append(snapshot)
            }
        }

        // K₀ and the newest kernel are referenced rather than embedded: the branch cannot go on without them.
        if let references = restored.references,
           let lost = [references.initial, references.previous].first(where: { outcome.missing.contains($0) }) {
            throw ConfigurationError("\(path) references the kernel '\(lost.file)' (\(lost == references.initial ? "K₀" : "the newest kernel")) of its run, which is not found in \(sourceKernels ?? "a run folder (the checkpoint lies outside one)"); branch from the checkpoint inside its run folder, with its kernels/ beside it")
        }
        var kept = index
        kept.snapshots = plan.map(\.snapshot)
        let store = KernelSnapshotStore(runDirectory: branchDirectory, index: kept)
        try RunDirectory.create(store.directory)
        for (snapshot, source) in plan {
            let target = (store.directory as NSString).appendingPathComponent(snapshot.file)
            switch source {
            case .file(let file): try linkOrCopy(file, to: target)
            case .kernel(let kernel): try store.writeFile(kernel, for: snapshot)
            }
        }
        try store.writeIndex()
        checkpoint.metadata[indexKey] = String(decoding: try kept.jsonData(), as: UTF8.self)
        return outcome
    }

    /// Where a snapshot's kernel comes from.
    private enum Source {
        /// A regular file of the original run's kernels folder (symbolic links resolved).
        case file(String)
        /// A kernel held by the checkpoint.
        case kernel(KernelMatrix)
    }

    /// The regular file holding `snapshot` inside `kernelsFolder` (symbolic links resolved, never
    /// leading out of the folder), or nil when there is none.
    private static func originalFile(of snapshot: KernelSnapshot, in kernelsFolder: String) -> String? {
        guard let path = try? KernelSnapshotStore.containedPath(of: snapshot, in: kernelsFolder) else { return nil }
        let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        let type = (try? FileManager.default.attributesOfItem(atPath: resolved))?[.type] as? FileAttributeType
        return type == .typeRegular ? resolved : nil
    }

    /// A hard link to `file` at `target`, or a copy where links are not possible.
    private static func linkOrCopy(_ file: String, to target: String) throws {
        if (try? FileManager.default.linkItem(atPath: file, toPath: target)) != nil { return }
        do { try FileManager.default.copyItem(atPath: file, toPath: target) }
        catch { throw ConfigurationError("cannot copy the kernel \(file) into the branch as \(target): \(error.localizedDescription)") }
    }
}
