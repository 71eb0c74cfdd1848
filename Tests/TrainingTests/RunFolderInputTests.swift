import Dispatch
import Foundation
import Tangent
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Files a run folder holds besides checkpoints, as `tangent analyze`, `inspect` and `--resume` meet
/// them: `kernels/index.json` entries that lead out of the kernels folder, kernel files of the wrong
/// size or with non-finite entries, FIFOs named like the files they expect, and temporary files left by
/// interrupted writers.
final class RunFolderInputTests: XCTestCase {
    private func trainedCopy() throws -> String { try TrackedRun.copy(for: self) }

    override class func tearDown() {
        TrackedRun.remove()
        super.tearDown()
    }

    /// Rewrites `RUN/kernels/index.json` with `change` applied to its JSON object.
    private func editIndex(_ run: String, _ change: (inout [String: Any]) throws -> Void) throws {
        let path = run + "/kernels/index.json"
        var object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        try change(&object)
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
    }

    /// Sets the file name of snapshot `i` in the index.
    private func setSnapshotFile(_ run: String, _ i: Int, to name: String) throws {
        try editIndex(run) { object in
            var snapshots = try XCTUnwrap(object["snapshots"] as? [[String: Any]])
            snapshots[i]["file"] = name
            object["snapshots"] = snapshots
        }
    }

    private func assertAnalysisRefused(_ run: String, naming expected: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try RunAnalysis.compute(runDirectory: run), file: file, line: line) { error in
            for phrase in expected {
                XCTAssertTrue("\(error)".contains(phrase), "'\(error)' does not name \(phrase)", file: file, line: line)
            }
        }
    }

    func testIndexEntriesMustStayInsideTheKernelsFolder() throws {
        // A valid kernel file outside the kernels folder, reachable by `../`.
        let run = try trainedCopy()
        try FileManager.default.copyItem(atPath: run + "/kernels/step-00000004.safetensors.zst", toPath: run + "/outside.safetensors.zst")
        XCTAssertNoThrow(try RunAnalysis.compute(runDirectory: run), "the unaltered copy analyses")
        try setSnapshotFile(run, 1, to: "../outside.safetensors.zst")
        assertAnalysisRefused(run, naming: ["index.json", "'../outside.safetensors.zst'", "not a file name inside the kernels folder"])

        let absolute = try trainedCopy()
        try setSnapshotFile(absolute, 0, to: absolute + "/outside.safetensors.zst")
        assertAnalysisRefused(absolute, naming: ["index.json", "snapshot 0", "not a file name inside the kernels folder"])

        // A symbolic link inside the folder that leads out of it.
        let linked = try trainedCopy()
        let kernel = linked + "/kernels/step-00000004.safetensors.zst"
        try FileManager.default.moveItem(atPath: kernel, toPath: linked + "/moved.safetensors.zst")
        try FileManager.default.createSymbolicLink(atPath: kernel, withDestinationPath: "../moved.safetensors.zst")
        assertAnalysisRefused(linked, naming: ["'step-00000004.safetensors.zst'", "outside the kernels folder"])
    }

    func testEveryIndexValueIsChecked() throws {
        let cases: [((inout [String: Any]) throws -> Void, [String])] = [
            ({ $0["samples"] = 1_000_000_000_000 }, ["'probe' lists 5 indices but 'samples' = 1000000000000"]),
            ({ $0["classes"] = 0 }, ["'classes' = 0"]),
            ({ $0["classes"] = 4_611_686_018_427_387_904 }, ["'classes' = 4611686018427387904", "too large"]),
            ({ $0["probe"] = [0, 1, 2, 3, -4] }, ["'probe' holds -4"]),
            ({ $0["version"] = 7 }, ["'version' = 7"]),
            ({ object in
                var snapshots = try XCTUnwrap(object["snapshots"] as? [[String: Any]])
                snapshots[1]["step"] = -4
                object["snapshots"] = snapshots
            }, ["snapshot 1", "'step' = -4"]),
            ({ object in
                var snapshots = try XCTUnwrap(object["snapshots"] as? [[String: Any]])
                snapshots[1]["step"] = 0
                object["snapshots"] = snapshots
            }, ["snapshot 1", "does not follow step 0"]),
            ({ object in
                var snapshots = try XCTUnwrap(object["snapshots"] as? [[String: Any]])
                snapshots[0]["norm"] = -1
                object["snapshots"] = snapshots
            }, ["snapshot 0", "'norm' = -1"]),
            ({ object in
                var snapshots = try XCTUnwrap(object["snapshots"] as? [[String: Any]])
                snapshots[0]["checksum"] = "5B11924F91A6E50B361D3D491BB49ED0"
                object["snapshots"] = snapshots
            }, ["snapshot 0", "'checksum' = '5B11924F91A6E50B361D3D491BB49ED0'", "not an MD5 digest"]),
        ]
        for (change, expected) in cases {
            let run = try trainedCopy()
            try editIndex(run, change)
            assertAnalysisRefused(run, naming: ["index.json"] + expected)
        }
    }

    /// Records the checksum of snapshot 1's file as it is now, as if the index had been crafted with it.
    private func recordChecksumOfSnapshot1(_ run: String) throws {
        let checksum = KernelFile.checksum(of: try PlainFile.read(run + "/kernels/step-00000004.safetensors.zst"))
        try editIndex(run) { object in
            var snapshots = try XCTUnwrap(object["snapshots"] as? [[String: Any]])
            snapshots[1]["checksum"] = checksum
            object["snapshots"] = snapshots
        }
    }

    func testKernelFilesOfTheWrongSizeOrWithNonFiniteEntriesAreRefused() throws {
        let run = try trainedCopy()
        let path = run + "/kernels/step-00000004.safetensors.zst"
        let wrong = KernelMatrix(full: [Float](repeating: 0.25, count: 40 * 40), samples: 4, classes: 10)
        try KernelFile.write(wrong, to: path)
        // A file replaced after its checksum was recorded; then the same file with an index that agrees.
        assertAnalysisRefused(run, naming: [path, "MD5", "replaced or damaged"])
        try recordChecksumOfSnapshot1(run)
        assertAnalysisRefused(run, naming: [path, "40×40", "5 samples × 10 classes (50×50)"])

        // The same size without descriptors, but with a NaN entry.
        var values = try KernelFile.read(path: run + "/kernels/step-00000000.safetensors.zst").kernel.values
        values[7] = .nan
        try KernelFile.write(KernelMatrix(n: 50, values: values), to: path)
        try recordChecksumOfSnapshot1(run)
        assertAnalysisRefused(run, naming: [path, "entry (0, 7) is nan"])

        // Descriptors that do not multiply to the side (an overflowing product included).
        for (samples, classes) in [("5", "11"), ("4611686018427387904", "4"), ("-5", "-10")] {
            var c = try CheckpointFile.read(path: run + "/kernels/step-00000000.safetensors.zst")
            c.metadata["samples"] = samples
            c.metadata["classes"] = classes
            try CheckpointFile.write(c, to: path)
            try recordChecksumOfSnapshot1(run)
            assertAnalysisRefused(run, naming: [path, "metadata 'samples'"])
        }
    }

    /// `tangent analyze` ends such a folder with a clear error and a non-zero status, not a trap.
    func testAnalyzeCommandRefusesAnEscapingIndexEntry() throws {
        let run = try trainedCopy()
        try setSnapshotFile(run, 1, to: "../../etc/passwd")
        let (status, output) = try TangentProcess.run(["analyze", run])
        XCTAssertNotEqual(status, 0, output)
        XCTAssertTrue(output.contains("'../../etc/passwd'") && output.contains("not a file name inside the kernels folder"), output)
        XCTAssertFalse(output.contains("Fatal error"), output)
    }

    // MARK: FIFOs

    /// The result of `body`, or nil (and a failure) when it has not returned after `seconds` — then
    /// every FIFO in `fifos` is opened for writing, so a reader blocked on one wakes up and the test ends
    /// instead of hanging.
    private func promptly<T: Sendable>(unblocking fifos: [String], seconds: Double = 20, _ what: String,
                                       _ body: @escaping @Sendable () -> T, file: StaticString = #filePath,
                                       line: UInt = #line) -> T? {
        let done = DispatchSemaphore(value: 0), outcome = Outcome<T>()
        DispatchQueue.global().async { outcome.value = body(); done.signal() }
        guard done.wait(timeout: .now() + seconds) == .timedOut else { return outcome.value }
        XCTFail("\(what) waited on a FIFO for \(seconds) s", file: file, line: line)
        for fifo in fifos {
            let fd = open(fifo, O_WRONLY | O_NONBLOCK)
            if fd >= 0 { close(fd) }
        }
        done.wait()
        return nil
    }

    /// The error `body` throws, found without waiting on `fifo`.
    private func errorPromptly(reading fifo: String, _ what: String, _ body: @escaping @Sendable () throws -> Void,
                               file: StaticString = #filePath, line: UInt = #line) -> String {
        let outcome = promptly(unblocking: [fifo], what, { () -> String in
            do { try body(); return "no error" } catch { return "\(error)" }
        }, file: file, line: line)
        return outcome ?? "timed out"
    }

    private func makeFIFO(_ path: String) throws {
        try? FileManager.default.removeItem(atPath: path)
        XCTAssertEqual(mkfifo(path, 0o644), 0, "mkfifo \(path)")
    }

    func testFIFOsNamedLikeRunFilesAreRefusedWithoutWaiting() throws {
        let run = try trainedCopy()
        // A loose checkpoint file (inspect, --resume FILE).
        let loose = run + "/loose.safetensors.zst"
        try makeFIFO(loose)
        let read = errorPromptly(reading: loose, "reading a FIFO checkpoint") { _ = try CheckpointFile.read(path: loose) }
        XCTAssertTrue(read.contains(loose) && read.contains("not a regular file (a FIFO)"), read)
        let located = errorPromptly(reading: loose, "locating a FIFO checkpoint") { _ = try TrainingSession.locate(loose) }
        XCTAssertTrue(located.contains("FIFO"), located)

        // The newest checkpoint of a run folder: skipped with its reason, the older one is used.
        let newest = run + "/checkpoints/step-99999999.safetensors.zst"
        try makeFIFO(newest)
        let found = promptly(unblocking: [newest], "locating a run folder's newest checkpoint") { try? TrainingSession.locate(run).checkpointPath }
        XCTAssertEqual(found, run + "/checkpoints/step-00000004.safetensors.zst")

        // analyze: a kernel file, index.json, metrics.jsonl.
        for name in ["/kernels/step-00000004.safetensors.zst", "/kernels/index.json", "/metrics.jsonl"] {
            let copy = try trainedCopy()
            let path = copy + name
            try makeFIFO(path)
            let error = errorPromptly(reading: path, "analysing with a FIFO \(name)") { _ = try RunAnalysis.compute(runDirectory: copy) }
            XCTAssertTrue(error.contains(path) && error.contains("FIFO"), error)
        }

        // config.json, which `tangent ntk RUN` and `eval RUN` read.
        let configuration = run + "/config.json"
        try makeFIFO(configuration)
        let configured = errorPromptly(reading: configuration, "reading a FIFO config.json") { _ = try RunDirectory.readConfiguration(from: run) }
        XCTAssertTrue(configured.contains(configuration) && configured.contains("FIFO"), configured)
    }

    func testAnalysisOptionsAreChecked() throws {
        let run = try trainedCopy()
        for (options, expected) in [(RunAnalysis.Options(topK: 0), "top eigenvalues"), (RunAnalysis.Options(memoryBudgetMB: 0), "memory budget"),
                                    (RunAnalysis.Options(eigenvalueCount: -1), "eigenvalues cannot be negative")] {
            XCTAssertThrowsError(try RunAnalysis.compute(runDirectory: run, options: options)) { XCTAssertTrue("\($0)".contains(expected), "\($0)") }
        }
    }

    /// The `tangent inspect` command on a FIFO exits with an error instead of waiting forever.
    func testInspectCommandRefusesAFIFO() throws {
        let folder = TestRuns.folder(for: self)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let fifo = folder + "/step-00000001.safetensors.zst"
        try makeFIFO(fifo)
        let executable = try TangentProcess.executable()
        let result = promptly(unblocking: [fifo], "tangent inspect on a FIFO") { try? TangentProcess.run(["inspect", fifo], executable: executable) }
        let (status, output) = try XCTUnwrap(result ?? nil)
        XCTAssertNotEqual(status, 0, output)
        XCTAssertTrue(output.contains(fifo) && output.contains("FIFO"), output)
    }

    // MARK: Stale temporary files

    /// The id of a process that has exited.
    private func exitedProcessID() throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/true")
        try p.run()
        p.waitUntilExit()
        return p.processIdentifier
    }

    func testOpeningARunRemovesOnlyItsAbandonedTemporaryFiles() throws {
        let run = try trainedCopy()
        let dead = try exitedProcessID(), me = getpid()
        let outside = (run as NSString).deletingLastPathComponent + "/.beside-\(UUID().uuidString).tmp-\(dead)"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: outside) }
        let removed = ["/checkpoints/.step-00000008.safetensors.zst.tmp-\(dead)",
                       "/kernels/.step-00000008.safetensors.zst.tmp-\(dead)",
                       "/kernels/.step-00000012.safetensors.zst.tmp-1",  // a live process that is not a writer of this run
                       "/.config.json.tmp-\(dead)"]
        let kept = ["/kernels/.step-00000016.safetensors.zst.tmp-\(me)",  // this process's own
                    "/kernels/notes.tmp-\(dead)", "/.hidden-notes",
                    "/kernels/nested/.step-00000008.safetensors.zst.tmp-\(dead)"]
        try FileManager.default.createDirectory(atPath: run + "/kernels/nested", withIntermediateDirectories: true)
        for name in removed + kept { XCTAssertTrue(FileManager.default.createFile(atPath: run + name, contents: Data([1, 2, 3]))) }
        XCTAssertTrue(FileManager.default.createFile(atPath: outside, contents: Data([1])))
        try FileManager.default.createDirectory(atPath: run + "/kernels/.folder.tmp-\(dead)", withIntermediateDirectories: false)

        let (loop, _) = try TrainingSession.resume(from: run, components: { _ in
            try TestRuns.mnistCNN(TrackedRun.settings(epochs: 2))
        }, callbacks: TestRuns.callbacks())
        for name in removed { XCTAssertFalse(TestRuns.exists(run + name), "\(name) should have been removed") }
        for name in kept { XCTAssertTrue(TestRuns.exists(run + name), "\(name) should have been kept") }
        XCTAssertTrue(TestRuns.exists(outside), "nothing outside the run folder is touched")
        XCTAssertTrue(TestRuns.exists(run + "/kernels/.folder.tmp-\(dead)"), "only regular files are removed")
        withExtendedLifetime(loop) {}
    }
}

/// The result of work on another thread, read after a semaphore says it is written.
private final class Outcome<T>: @unchecked Sendable {
    var value: T?
}
