import Dispatch

/// Splits `0..<count` into contiguous chunks and runs `body(range)` on each, in parallel when the
/// work is large enough to pay for a thread hand-off. Chunks never overlap, so bodies that write
/// only to their own range need no locking.
@inlinable
public func parallelChunks(_ count: Int, minimumPerChunk: Int = 1 << 15,
                           _ body: (Range<Int>) -> Void) {
    let workers = min(ProcessInfoCores.count, max(1, count / max(minimumPerChunk, 1)))
    if workers <= 1 { body(0..<count); return }
    let chunk = (count + workers - 1) / workers
    withoutActuallyEscaping(body) { escapable in
        let task = UncheckedSendable(escapable)
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            let lo = w * chunk, hi = min(count, lo + chunk)
            if lo < hi { task.value(lo..<hi) }
        }
    }
}

/// Carries a value across a concurrency boundary the compiler cannot check. Used only where the
/// callers guarantee disjoint writes (each parallel chunk touches its own range).
@usableFromInline
struct UncheckedSendable<T>: @unchecked Sendable {
    @usableFromInline let value: T
    @usableFromInline init(_ value: T) { self.value = value }
}

/// The number of threads Tangent's kernels and its OpenBLAS calls use: the online cores, or the
/// `TANGENT_THREADS` environment variable when set (e.g. 1 to run two jobs side by side without
/// oversubscribing the cores — OpenBLAS threads busy-wait, so oversubscription is very costly).
public enum ProcessInfoCores {
    /// Worker threads: `TANGENT_THREADS` when set to a positive number, else the online processors.
    public static let count: Int = {
        if let value = getenv("TANGENT_THREADS"), let n = Int(String(cString: value)), n > 0 { return n }
        #if canImport(Glibc)
        let n = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        return max(1, Int(n))
        #else
        return 2
        #endif
    }()
}

#if canImport(Glibc)
import Glibc
#endif
