import Foundation
import XCTest

/// A `python3` HTTP server on a free loopback port, serving one folder plus a few misbehaving paths:
/// `/endless` (a body that never ends, no length), `/announced` (a 1 TB `Content-Length`), `/stall`
/// (headers and 1,000 of 100,000 bytes, then silence), `/silent` (accepts, never answers) and
/// `/trickle` (one byte every 0.2 s). Tests that need it are skipped with a reason when python3 is missing.
final class LocalHTTPServer {
    private let process = Process()
    let port: Int

    init(serving directory: String) throws {
        guard let python = LocalHTTPServer.findExecutable("python3") else {
            throw XCTSkip("python3 is not installed, so there is no local HTTP server for the download tests")
        }
        // The server prints its port and exits by itself after 120 s, whatever happens to the test.
        let script = """
        import functools, http.server, signal, sys, time
        signal.alarm(120)
        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args): pass
            def head(self, length=None):
                self.send_response(200)
                if length is not None: self.send_header("Content-Length", str(length))
                self.end_headers()
            def do_GET(self):
                try:
                    if self.path in ("/endless", "/announced"):
                        self.head(None if self.path == "/endless" else 1 << 40)
                        while True: self.wfile.write(bytes(65536))
                    elif self.path == "/stall":
                        self.head(100000)
                        self.wfile.write(bytes(1000))
                        time.sleep(60)
                    elif self.path == "/silent":
                        time.sleep(60)
                    elif self.path == "/trickle":
                        self.head(100000)
                        while True:
                            self.wfile.write(bytes(1))
                            time.sleep(0.2)
                    else:
                        super().do_GET()
                except OSError:
                    pass
        handler = functools.partial(Handler, directory=sys.argv[1])
        http.server.ThreadingHTTPServer.daemon_threads = True
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", script, directory]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Reading the port blocks until the line arrives or the server dies (closing the pipe).
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        guard let text = String(data: line, encoding: .utf8),
              let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            process.terminate()
            throw XCTSkip("the local python3 HTTP server did not start")
        }
        self.port = port
    }

    var baseURL: String { "http://127.0.0.1:\(port)/" }

    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    static func findExecutable(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for folder in path.split(separator: ":") {
            let candidate = "\(folder)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
