#if canImport(Glibc)
import Glibc
#endif

/// The process's peak resident memory, for benchmarks.
public enum PeakMemory {
    /// Peak resident set size so far, in megabytes (getrusage's ru_maxrss, in KiB on Linux).
    public static func residentMegabytes() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024
    }
}
