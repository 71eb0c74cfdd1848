import Foundation
import XCTest

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
}
