import CBLAS
#if canImport(Glibc)
import Glibc
#endif

/// Which OpenBLAS kernel set ("core") runs Tangent's GEMMs, and the repair for processors that the
/// installed OpenBLAS does not recognise.
///
/// A `DYNAMIC_ARCH` OpenBLAS picks its kernels from the processor's model number. Debian 12's
/// OpenBLAS 0.3.21 predates recent Intel server parts (e.g. model 207, Emerald Rapids) and falls back
/// to its oldest x86-64 kernels ("Prescott", SSE3): sgemm then runs 3–6× slower than the same
/// library's AVX-512 kernels on the same machine. OpenBLAS only reads `OPENBLAS_CORETYPE` once, when
/// it loads, so before Tangent's first BLAS call `selectOnce` re-runs OpenBLAS's own dispatcher
/// with the kernel set the processor's instruction-set flags (from `/proc/cpuinfo`) support.
///
/// It changes nothing when the user has set `OPENBLAS_CORETYPE`, when `TANGENT_BLAS_CORE=keep`,
/// when OpenBLAS already runs a kernel set at least as wide, or when the library lacks the
/// `DYNAMIC_ARCH` entry points.
public enum BLASCore {
    /// The kernel set OpenBLAS runs now, as it names it (e.g. "SkylakeX", "Haswell", "Prescott").
    public static var current: String { String(cString: openblas_get_corename()) }

    /// What the selection did, for logs and benchmark records: the kernel set before and after.
    public struct Selection: Sendable, Equatable {
        /// OpenBLAS's own choice at load time.
        public let detected: String
        /// The kernel set in use after the selection (equal to `detected` when nothing changed).
        public let active: String
    }

    /// Performs the selection on first use (thread-safe, once per process) and returns its result.
    /// Every BLAS and LAPACK entry point in `Kernels` touches this first.
    public static let selectOnce: Selection = select()

    /// Vector-width tiers of OpenBLAS's x86-64 kernel sets, and the one a processor supports.
    public enum Tier: Int, Comparable, Sendable {
        case sse = 0, avx, avx2, avx512
        /// Tiers order by the width of their vector instructions.
        public static func < (a: Tier, b: Tier) -> Bool { a.rawValue < b.rawValue }

        /// The OpenBLAS kernel set to force for this tier (only the two wide tiers are ever forced).
        public var coreName: String? {
            switch self {
            case .avx512: return "SkylakeX"
            case .avx2: return "Haswell"
            default: return nil
            }
        }

        /// The tier of an OpenBLAS kernel-set name (unknown names count as SSE).
        public init(coreName: String) {
            switch coreName.lowercased() {
            case "skylakex", "cooperlake", "sapphirerapids": self = .avx512
            case "haswell", "zen": self = .avx2
            case "sandybridge", "bulldozer", "piledriver", "steamroller", "excavator": self = .avx
            default: self = .sse
            }
        }

        /// The widest tier these `/proc/cpuinfo` flags support (the kernel lists AVX-512 flags only
        /// when it also saves their register state).
        public init(cpuFlags flags: Set<Substring>) {
            if ["avx512f", "avx512bw", "avx512vl", "avx512dq"].allSatisfy(flags.contains) {
                self = .avx512
            } else if flags.contains("avx2") && flags.contains("fma") {
                self = .avx2
            } else if flags.contains("avx") {
                self = .avx
            } else {
                self = .sse
            }
        }
    }

    private static func select() -> Selection {
        let detected = current
        guard getenv("OPENBLAS_CORETYPE") == nil,
              getenv("TANGENT_BLAS_CORE").map({ String(cString: $0) }) != "keep",
              let flags = cpuFlags() else {
            return Selection(detected: detected, active: detected)
        }
        let supported = Tier(cpuFlags: flags)
        guard Tier(coreName: detected) < supported, let target = supported.coreName,
              let quit = dynamicSymbol("gotoblas_dynamic_quit"),
              let initialise = dynamicSymbol("gotoblas_dynamic_init") else {
            return Selection(detected: detected, active: detected)
        }
        typealias VoidFunction = @convention(c) () -> Void
        setenv("OPENBLAS_CORETYPE", target, 1)
        unsafeBitCast(quit, to: VoidFunction.self)()
        unsafeBitCast(initialise, to: VoidFunction.self)()
        unsetenv("OPENBLAS_CORETYPE")
        return Selection(detected: detected, active: current)
    }

    /// The processor's instruction-set flags: the `flags` line of `/proc/cpuinfo`, or nil where there is none (not Linux, not x86).
    public static func cpuFlags() -> Set<Substring>? {
        guard let file = fopen("/proc/cpuinfo", "r") else { return nil }
        defer { fclose(file) }
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0, let line {
            let text = String(cString: line)
            guard text.hasPrefix("flags") else { continue }
            guard let colon = text.firstIndex(of: ":") else { return nil }
            return Set(text[text.index(after: colon)...].split(whereSeparator: { $0 == " " || $0 == "\n" }))
        }
        return nil
    }

    /// An OpenBLAS entry point looked up at run time, so that a BLAS without them (not a
    /// `DYNAMIC_ARCH` build) still links and simply keeps its kernels.
    private static func dynamicSymbol(_ name: String) -> UnsafeMutableRawPointer? {
        #if canImport(Glibc)
        if let library = dlopen("libopenblas.so.0", RTLD_LAZY | RTLD_NOLOAD) {
            defer { dlclose(library) }
            if let symbol = dlsym(library, name) { return symbol }
        }
        return dlsym(nil, name)
        #else
        return nil
        #endif
    }
}
