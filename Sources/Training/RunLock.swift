import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An advisory lock (`flock`) on a run folder's `.lock` file, held for as long as this object lives, so two
/// processes never write the same run: a second writer is refused with the holder's process id. Taking
/// it clears the temporary files earlier writers of the run left behind
/// (``RunDirectory/removeAbandonedTemporaryFiles(in:)``).
public final class RunLock {
    /// The lock file.
    public let path: String
    private let descriptor: Int32

    /// Takes the lock of `runDirectory` (which must exist), or throws naming the process that holds it.
    public init(runDirectory: String) throws {
        path = (runDirectory as NSString).appendingPathComponent(".lock")
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw ConfigurationError("cannot open the run lock \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            close(fd)
            throw ConfigurationError("run folder \(runDirectory) is in use by another process (pid \(holder.flatMap { $0.isEmpty ? nil : $0 } ?? "unknown")); wait for it to finish or choose another folder")
        }
        descriptor = fd
        let pid = "\(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = pid.withCString { pwrite(fd, $0, strlen($0), 0) }
        try RunDirectory.removeAbandonedTemporaryFiles(in: runDirectory)
    }

    deinit {
        _ = ftruncate(descriptor, 0)
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
