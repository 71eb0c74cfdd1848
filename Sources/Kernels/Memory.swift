#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Allocation of aligned Float buffers for tensors and scratch space.
///
/// Fresh large allocations are expensive here: glibc serves blocks above its mmap threshold
/// (at most 32 MB) with `mmap` and unmaps them on `free`, so a 67 MB im2col buffer pays its page
/// faults again on every training step. Blocks of 4 MB or more are therefore kept in a size-keyed
/// cache when freed and handed out again for the same size (training repeats the same shapes every
/// step); the cache is bounded, and the oldest blocks are released first when it is full. Those
/// blocks are mapped one by one, so a released block's memory goes back to the system at once;
/// smaller ones come from the heap, whose mmap threshold is raised to its maximum once.
public enum FloatBuffer {
    /// Blocks at least this large (in Floats) are cached on free.
    static let cachedMinimum = 1 << 20
    /// The most memory (in Floats) the cache holds idle: 1 GiB.
    static let cacheLimit = 1 << 28

    private static let allocatorTuned: Bool = {
        #if os(Linux)
        _ = glibcMallopt(-3 /* M_MMAP_THRESHOLD */, 32 << 20)
        _ = glibcMallopt(-1 /* M_TRIM_THRESHOLD */, Int32.max)
        #endif
        return true
    }()

    private static let cache = BlockCache()

    /// Allocates `count` Floats aligned to 64 bytes (uninitialised). Free with `deallocate`.
    public static func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        _ = allocatorTuned
        let n = max(count, 1)
        if n >= cachedMinimum, let reused = cache.take(count: n) { return reused }
        let bytes = (n + 16) * MemoryLayout<Float>.stride
        let raw: UnsafeMutableRawPointer
        if n >= cachedMinimum {
            // Large blocks are mapped on their own, so that freeing one gives its memory back to the
            // system at once: on the heap, blocks of many sizes freed and allocated in turn leave
            // holes that grow the process far beyond its live memory.
            guard let mapped = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
                  mapped != MAP_FAILED else {
                preconditionFailure("out of memory mapping \(bytes) bytes")
            }
            raw = mapped
        } else {
            var allocated: UnsafeMutableRawPointer?
            let status = posix_memalign(&allocated, 64, bytes)
            precondition(status == 0 && allocated != nil, "out of memory allocating \(bytes) bytes")
            raw = allocated!
        }
        // The element count is stored just before the returned pointer, so `deallocate` can key
        // the cache and release the block without being told the size.
        let header = raw.bindMemory(to: Int.self, capacity: 8)
        header[0] = n
        return (raw + 64).bindMemory(to: Float.self, capacity: n)
    }

    /// Allocates `count` zero-filled Floats.
    public static func allocateZeroed(_ count: Int) -> UnsafeMutablePointer<Float> {
        let p = allocate(count)
        p.initialize(repeating: 0, count: max(count, 1))
        return p
    }

    /// Frees a buffer obtained from `allocate` (large ones go back to the cache).
    public static func deallocate(_ pointer: UnsafeMutablePointer<Float>) {
        let n = (UnsafeMutableRawPointer(pointer) - 64).load(as: Int.self)
        if n >= cachedMinimum, cache.put(pointer, count: n, limit: cacheLimit) { return }
        freeBlock(pointer)
    }

    /// Releases every cached block to the system.
    public static func releaseCache() { cache.drain(freeBlock) }

    /// Runs `body` with at most `bytes` kept idle in the cache (less when an enclosing call set less),
    /// evicting the oldest blocks beyond it now: for work that promises a memory bound, whose
    /// temporaries would otherwise stay resident beside its live memory up to the cache's own limit.
    public static func withIdleLimit<R>(bytes: Int, _ body: () throws -> R) rethrows -> R {
        cache.pushLimit(max(0, bytes / MemoryLayout<Float>.stride))
        defer { cache.popLimit() }
        return try body()
    }

    /// Gives a block back to the system (unmapped when large, to the heap otherwise).
    static func freeBlock(_ pointer: UnsafeMutablePointer<Float>) {
        let base = UnsafeMutableRawPointer(pointer) - 64
        let n = base.load(as: Int.self)
        if n >= cachedMinimum {
            munmap(base, (n + 16) * MemoryLayout<Float>.stride)
        } else {
            free(base)
        }
    }
}

/// Idle large blocks by size, oldest first, behind a lock.
final class BlockCache: @unchecked Sendable {
    private let lock = NSLock()
    private var blocks: [(count: Int, pointer: UnsafeMutablePointer<Float>)] = []
    private var held = 0
    private var limits: [Int] = []

    func pushLimit(_ limit: Int) {
        lock.lock(); defer { lock.unlock() }
        limits.append(min(limit, limits.last ?? limit))
        evict(toFit: 0, limit: limits.last!)
    }

    func popLimit() { lock.lock(); limits.removeLast(); lock.unlock() }

    func take(count: Int) -> UnsafeMutablePointer<Float>? {
        lock.lock(); defer { lock.unlock() }
        guard let i = blocks.lastIndex(where: { $0.count == count }) else { return nil }
        held -= count
        return blocks.remove(at: i).pointer
    }

    func put(_ pointer: UnsafeMutablePointer<Float>, count: Int, limit: Int) -> Bool {
        lock.lock(); defer { lock.unlock() }
        let limit = min(limit, limits.last ?? limit)
        if count > limit { return false }
        evict(toFit: count, limit: limit)
        blocks.append((count, pointer))
        held += count
        return true
    }

    /// Frees the oldest blocks until `count` more fit under `limit` (lock held).
    private func evict(toFit count: Int, limit: Int) {
        while held + count > limit, !blocks.isEmpty {
            let old = blocks.removeFirst()
            held -= old.count
            FloatBuffer.freeBlock(old.pointer)
        }
    }

    func drain(_ release: (UnsafeMutablePointer<Float>) -> Void) {
        lock.lock(); defer { lock.unlock() }
        for b in blocks { release(b.pointer) }
        blocks.removeAll()
        held = 0
    }
}

#if os(Linux)
/// glibc's `mallopt` (declared in <malloc.h>, which the Glibc module does not export).
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif
