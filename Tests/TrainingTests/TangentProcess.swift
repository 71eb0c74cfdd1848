import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Runs the real `tangent` executable from tests (crash safety, thread-count determinism).
enum TangentProcess {
    /// The `tangent` executable built beside the test bundle (skips the test when it is not built).
    static func executable() throws -> String {
        let bundleDir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [bundleDir, bundleDir.deletingLastPathComponent()] {
            let path = candidate.appendingPathComponent("tangent").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw XCTSkip("the tangent executable is not built beside the tests (run `swift build --build-tests` first)")
    }

    /// A fresh temporary folder for `test`'s runs, removed when the test ends.
    static func temporaryFolder(for test: XCTestCase, prefix: String) -> String {
        let root = NSTemporaryDirectory() + "\(prefix)-\(UUID().uuidString)"
        test.addTeardownBlock { try? FileManager.default.removeItem(atPath: root) }
        return root
    }

    /// Runs `tangent ARGUMENTS` (or any `executable`) to the end, in `directory` when given and with
    /// `environment` added to this process's, and returns its exit status and its standard output and
    /// error together.
    static func run(_ arguments: [String], executable: String? = nil, in directory: String? = nil,
                    environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try executable ?? Self.executable())
        p.arguments = arguments
        if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        if let directory { p.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Starts `tangent ARGUMENTS` (standard output discarded; standard error to `errors` when given),
    /// with `environment` added to this process's environment.
    static func launch(_ arguments: [String], errors: String? = nil, environment: [String: String] = [:]) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try executable())
        p.arguments = arguments
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        p.standardOutput = FileHandle.nullDevice
        if let errors {
            _ = FileManager.default.createFile(atPath: errors, contents: nil)
            p.standardError = FileHandle(forWritingAtPath: errors)
        } else {
            p.standardError = FileHandle.nullDevice
        }
        try p.run()
        return p
    }

    /// Waits until `process` has written `path` (its run has begun), lets it run `after` seconds more,
    /// sends it SIGTERM and waits for its end; returns its status and the text of `errors` (its standard
    /// error). Fails the test if the process ended before the signal.
    static func stopWithSIGTERM(_ process: Process, once path: String, after seconds: Double = 0.3, errors: String,
                                file: StaticString = #filePath, line: UInt = #line) -> (status: Int32, errors: String) {
        for _ in 0..<400 where !FileManager.default.fileExists(atPath: path) { usleep(50_000) }
        usleep(UInt32(seconds * 1_000_000))
        XCTAssertTrue(process.isRunning, "the process ended before the signal", file: file, line: line)
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        return (process.terminationStatus, (try? String(contentsOfFile: errors, encoding: .utf8)) ?? "")
    }
}
