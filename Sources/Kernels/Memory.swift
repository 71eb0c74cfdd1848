#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Allocation of aligned Float buffers for tensors and scratch space.
///
/// Fresh large allocations are expensive here: glibc serves blocks above its mmap threshold
/// (at most 32 MB) with `mmap` and unmaps them on `free`, so a 67 MB im2col buffer pays its page
/// faults again on every training step. Two remedies: the mmap threshold is raised to its maximum
/// once, and blocks of 4 MB or more are kept in a size-keyed cache when freed and handed out again
/// for the same size (training repeats the same shapes every step). The cache is bounded; the
/// oldest blocks are released first when it is full.
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
        var raw: UnsafeMutableRawPointer?
        let bytes = (n + 16) * MemoryLayout<Float>.stride
        let status = posix_memalign(&raw, 64, bytes)
        precondition(status == 0 && raw != nil, "out of memory allocating \(bytes) bytes")
        // The element count is stored just before the returned pointer, so `deallocate` can key
        // the cache without being told the size.
        let header = raw!.bindMemory(to: Int.self, capacity: 8)
        header[0] = n
        return (raw! + 64).bindMemory(to: Float.self, capacity: n)
    }

    /// Allocates `count` zero-filled Floats.
    public static func allocateZeroed(_ count: Int) -> UnsafeMutablePointer<Float> {
        let p = allocate(count)
        p.initialize(repeating: 0, count: max(count, 1))
        return p
    }

    /// Frees a buffer obtained from `allocate` (large ones go back to the cache).
    public static func deallocate(_ pointer: UnsafeMutablePointer<Float>) {
        let base = UnsafeMutableRawPointer(pointer) - 64
        let n = base.load(as: Int.self)
        if n >= cachedMinimum, cache.put(pointer, count: n, limit: cacheLimit) { return }
        free(base)
    }

    /// Releases every cached block to the system.
    public static func releaseCache() { cache.drain { free(UnsafeMutableRawPointer($0) - 64) } }

    static func freeBlock(_ pointer: UnsafeMutablePointer<Float>) { free(UnsafeMutableRawPointer(pointer) - 64) }
}

/// Idle large blocks by size, oldest first, behind a lock.
final class BlockCache: @unchecked Sendable {
    private let lock = NSLock()
    private var blocks: [(count: Int, pointer: UnsafeMutablePointer<Float>)] = []
    private var held = 0

    func take(count: Int) -> UnsafeMutablePointer<Float>? {
        lock.lock(); defer { lock.unlock() }
        guard let i = blocks.lastIndex(where: { $0.count == count }) else { return nil }
        held -= count
        return blocks.remove(at: i).pointer
    }

    func put(_ pointer: UnsafeMutablePointer<Float>, count: Int, limit: Int) -> Bool {
        lock.lock(); defer { lock.unlock() }
        if count > limit { return false }
        while held + count > limit, !blocks.isEmpty {
            let old = blocks.removeFirst()
            held -= old.count
            FloatBuffer.freeBlock(old.pointer)
        }
        blocks.append((count, pointer))
        held += count
        return true
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
