import Checkpoints
import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension RunDirectory {
    /// The folders a run's writers fill through temporary files renamed into place (`.NAME.tmp-PID`):
    /// the run folder itself, `checkpoints/` and `kernels/`.
    static func atomicWriteFolders(of runDirectory: String) -> [String] {
        [runDirectory] + ["checkpoints", KernelSnapshotStore.folderName].map { (runDirectory as NSString).appendingPathComponent($0) }
    }

    /// Deletes the temporary files (`.NAME.tmp-PID`) that interrupted writes of other processes left in
    /// a run folder, its `checkpoints/` and its `kernels/`, and returns their paths. This process's own
    /// temporary files, other files, and anything outside those folders are left alone.
    ///
    /// Call it holding the run's lock (``RunLock`` does as it is taken): no other process writes the run
    /// then, so a live process with a leftover's id is an unrelated one that reused the number.
    @discardableResult
    public static func removeAbandonedTemporaryFiles(in runDirectory: String) throws -> [String] {
        let me = getpid()
        return try atomicWriteFolders(of: runDirectory).flatMap { folder in
            try PlainFile.removeTemporaryFiles(in: folder) { $0 != me }
        }
    }
}
