#if canImport(Glibc)
import Glibc
#endif

/// Allocation of aligned Float buffers for tensors and scratch space.
///
/// glibc serves large blocks with `mmap` and returns them on `free`, so every large tensor
/// allocated afresh pays for page faults (tens of milliseconds for a 40 MB conv buffer here).
/// Raising the mmap and trim thresholds once keeps freed blocks in the heap for reuse; that
/// is a process-wide allocator setting, applied lazily on the first allocation.
public enum FloatBuffer {
    private static let allocatorTuned: Bool = {
        #if os(Linux)
        _ = glibcMallopt(-3 /* M_MMAP_THRESHOLD */, 1 << 30)
        _ = glibcMallopt(-1 /* M_TRIM_THRESHOLD */, Int32.max)
        #endif
        return true
    }()

    /// Allocates `count` Floats aligned to 64 bytes (uninitialised). Free with `deallocate`.
    public static func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        _ = allocatorTuned
        var raw: UnsafeMutableRawPointer?
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        let status = posix_memalign(&raw, 64, bytes)
        precondition(status == 0 && raw != nil, "out of memory allocating \(bytes) bytes")
        return raw!.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    /// Allocates `count` zero-filled Floats.
    public static func allocateZeroed(_ count: Int) -> UnsafeMutablePointer<Float> {
        let p = allocate(count)
        p.initialize(repeating: 0, count: max(count, 1))
        return p
    }

    /// Frees a buffer obtained from `allocate`.
    public static func deallocate(_ pointer: UnsafeMutablePointer<Float>) {
        free(pointer)
    }
}

/// A reusable scratch buffer that grows on demand and is kept between calls, for hot paths
/// (im2col patches, transposed gradients) that would otherwise allocate the same size each step.
public final class ScratchBuffer {
    public private(set) var capacity: Int = 0
    public private(set) var pointer: UnsafeMutablePointer<Float>

    public init() { pointer = FloatBuffer.allocate(1) }
    deinit { FloatBuffer.deallocate(pointer) }

    /// Returns a buffer of at least `count` Floats; contents are unspecified.
    public func reserve(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count > capacity {
            FloatBuffer.deallocate(pointer)
            pointer = FloatBuffer.allocate(count)
            capacity = count
        }
        return pointer
    }
}

#if os(Linux)
/// glibc's `mallopt` (declared in <malloc.h>, which the Glibc module does not export).
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif
