import Dispatch
import Synchronization

/// Splits `0..<count` into contiguous chunks and runs `body(range)` on each, in parallel when the
/// work is large enough to pay for a thread hand-off. Chunks never overlap, so bodies that write
/// only to their own range need no locking.
///
/// There are up to ``chunksPerWorker`` chunks per worker, each taken by whichever worker is free
/// next: on a machine shared with another process, a worker whose core is busy takes fewer chunks
/// instead of holding the others at the end with a static half of the work. Bodies must not depend
/// on where the chunk boundaries fall (they already vary with the thread count).
@inlinable
public func parallelChunks(_ count: Int, minimumPerChunk: Int = 1 << 15,
                           _ body: (Range<Int>) -> Void) {
    let largest = max(1, count / max(minimumPerChunk, 1))
    let workers = min(ProcessInfoCores.count, largest)
    if workers <= 1 { body(0..<count); return }
    let chunks = min(largest, workers * chunksPerWorker)
    let chunk = (count + chunks - 1) / chunks
    let next = ChunkCounter()
    withoutActuallyEscaping(body) { escapable in
        let task = UncheckedSendable(escapable)
        // One iteration per worker (Dispatch would otherwise use every core, not the thread policy's
        // count); each worker takes the next untaken chunk until none are left.
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while true {
                let lo = next.take() * chunk
                if lo >= count { break }
                task.value(lo..<min(count, lo + chunk))
            }
        }
    }
}

/// The index of the next chunk nobody has taken yet, shared by the workers of one
/// ``parallelChunks(_:minimumPerChunk:_:)`` call.
@usableFromInline
final class ChunkCounter: Sendable {
    private let next = Atomic<Int>(0)
    @usableFromInline init() {}
    /// Returns the next chunk index and advances it, atomically.
    @usableFromInline func take() -> Int { next.add(1, ordering: .relaxed).oldValue }
}

/// How many chunks per worker ``parallelChunks(_:minimumPerChunk:_:)`` cuts large work into. Four
/// lets a worker on a core shared with another process fall up to three chunks behind without the
/// others waiting for it, at the cost of a few more hand-offs (an atomic increment each).
public let chunksPerWorker = 4

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
