import Foundation
import XCTest

/// A headless Chromium (installed by scripts/install-test-tools.sh) that renders a page to a PNG
/// screenshot. Tests that need it skip, saying why, when none is installed.
enum HeadlessBrowser {
    /// The browser: `TANGENT_CHROMIUM` when set, else the first of the usual Chromium names on the PATH.
    static func executable() throws -> String {
        if let given = ProcessInfo.processInfo.environment["TANGENT_CHROMIUM"], !given.isEmpty { return given }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for name in ["chromium-headless-shell", "chromium", "chromium-browser", "google-chrome"] {
            for folder in path.split(separator: ":") {
                let candidate = "\(folder)/\(name)"
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            }
        }
        throw XCTSkip("no headless Chromium installed (scripts/install-test-tools.sh installs chromium-headless-shell)")
    }

    /// Renders the page at `htmlPath` in a `width` × `height` window and returns the screenshot's path
    /// (beside the page). Fails when the browser errs or takes longer than two minutes.
    static func screenshot(of htmlPath: String, width: Int = 1600, height: Int = 4000) throws -> String {
        let browser = try executable()
        let output = (htmlPath as NSString).deletingLastPathComponent + "/screenshot-\(UUID().uuidString).png"
        let profile = NSTemporaryDirectory() + "chromium-profile-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: profile) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: browser)
        var arguments = ["--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--user-data-dir=\(profile)",
                         "--window-size=\(width),\(height)", "--virtual-time-budget=10000", "--screenshot=\(output)",
                         URL(fileURLWithPath: htmlPath).absoluteString]
        if !browser.hasSuffix("headless-shell") { arguments.insert("--headless", at: 0) }
        process.arguments = arguments
        // Messages go to a file, not a pipe, so a browser that never exits cannot block the test on a read.
        let logPath = output + ".log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: logPath) }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        defer { try? log.close() }
        process.standardOutput = log
        process.standardError = log
        let finished = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in finished.signal() }
        try process.run()
        if finished.wait(timeout: .now() + 120) == .timedOut {
            process.terminate()
            finished.wait()
            XCTFail("\(browser) did not finish rendering \(htmlPath) in two minutes")
        }
        guard process.terminationStatus == 0, FileManager.default.fileExists(atPath: output) else {
            let messages = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            throw PNGImage.DecodingError(description: "\(browser) exited with \(process.terminationStatus) and no screenshot: \(messages.suffix(2000))")
        }
        return output
    }
}
