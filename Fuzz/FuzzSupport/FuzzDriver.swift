import Foundation

/// libFuzzer's driver (linked in by `-sanitize=fuzzer`): runs the fuzzing loop with the process's
/// command-line arguments, calling `testOneInput` for every input. Declared by symbol name because
/// SwiftPM gives every executable target its own `main`, so libFuzzer's `main` cannot be used.
@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ testOneInput: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

/// The shared `main` of the fuzz targets. Built with `-DFUZZING` (Fuzz/run.sh), it writes the seed
/// inputs `seeds` makes into the folder `TANGENT_FUZZ_SEEDS` names (once) and hands over to libFuzzer
/// with `testOneInput`. Built plainly, `TARGET --make-seeds DIR` writes the seeds and `TARGET FILE…`
/// replays inputs (e.g. a finding) through `replay`, printing what became of each (loaded, or the error).
public enum FuzzTarget {
    public static func main(seeds: () throws -> [[UInt8]], replay: ([UInt8]) -> String,
                            testOneInput: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) throws {
        #if FUZZING
        if let folder = ProcessInfo.processInfo.environment["TANGENT_FUZZ_SEEDS"] {
            try write(seeds: seeds, into: folder)
        }
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, testOneInput))
        #else
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "--make-seeds", arguments.count == 2 {
            try write(seeds: seeds, into: arguments[1])
            return
        }
        for path in arguments {
            print("\(path): \(replay([UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))))")
        }
        #endif
    }

    /// Writes `seed-0`, `seed-1`, … into `folder` unless `seed-0` is there already.
    static func write(seeds: () throws -> [[UInt8]], into folder: String) throws {
        guard !FileManager.default.fileExists(atPath: folder + "/seed-0") else { return }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (index, seed) in try seeds().enumerated() {
            try Data(seed).write(to: URL(fileURLWithPath: folder + "/seed-\(index)"))
        }
    }
}
