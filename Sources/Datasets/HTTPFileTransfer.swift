import CCurl
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One HTTP(S) GET streamed into an open file with libcurl, never holding more than a chunk in memory.
///
/// libcurl waits on its sockets with `poll`, so a stalled server costs no CPU. (FoundationNetworking's
/// `URLSession` on Linux drives the same library from libdispatch and keeps a core busy while a
/// connection is silent; it also buffers downloads in its own temporary files outside the target
/// folder.)
enum HTTPFileTransfer {
    /// The bounds of one transfer.
    struct Limits {
        /// The most body bytes accepted; the transfer stops as soon as the server sends more.
        var maximumBytes: Int
        /// The most seconds the whole transfer may take.
        var timeout: Double
        /// The most seconds without a byte arriving (connecting counts too), checked about once a second.
        var idleTimeout: Double
    }

    /// What arrived: the byte count and the MD5 of the bytes, computed as they were written.
    struct Received {
        var bytes: Int
        var md5: String
    }

    /// libcurl's one-time global setup, which must not run concurrently with itself.
    private static let globalInitialization: CURLcode = curl_global_init(Int(CURL_GLOBAL_DEFAULT))

    /// Fetches `url` and appends its body to `descriptor`. Failures are
    /// ``DatasetError/downloadFailed(url:path:detail:)`` naming `path`, the file being downloaded.
    static func fetch(url: String, into descriptor: Int32, path: String, limits: Limits) throws -> Received {
        func failure(_ detail: String) -> DatasetError { .downloadFailed(url: url, path: path, detail: detail) }
        guard globalInitialization == CURLE_OK else { throw failure("libcurl could not start (code \(globalInitialization.rawValue))") }
        guard let handle = curl_easy_init() else { throw failure("libcurl could not create a transfer") }
        defer { curl_easy_cleanup(handle) }
        let errorText = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorText.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        defer { errorText.deallocate() }
        let sink = Sink(descriptor: descriptor, maximumBytes: limits.maximumBytes, idleTimeout: limits.idleTimeout)
        let context = Unmanaged.passUnretained(sink).toOpaque()
        let setup: [CURLcode] = [
            tangent_curl_setopt_string(handle, CURLOPT_URL, url),
            tangent_curl_allow_only_http(handle),
            tangent_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 1),
            tangent_curl_setopt_long(handle, CURLOPT_MAXREDIRS, 10),
            tangent_curl_setopt_long(handle, CURLOPT_FAILONERROR, 1),
            tangent_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1),
            tangent_curl_setopt_string(handle, CURLOPT_USERAGENT, "Tangent"),
            tangent_curl_setopt_offset(handle, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(limits.maximumBytes)),
            // At least 1 ms: 0 would mean no timeout at all.
            tangent_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, max(1, Int(min(limits.timeout, 1e12) * 1000))),
            tangent_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorText),
            tangent_curl_setopt_write_function(handle, { data, size, count, context in
                guard let context else { return 0 }
                let sink = Unmanaged<Sink>.fromOpaque(context).takeUnretainedValue()
                let length = size * count
                return sink.accept(UnsafeRawBufferPointer(start: data, count: length)) ? length : 0
            }),
            tangent_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, context),
            // libcurl calls this at least about once a second, even while a connection is silent.
            tangent_curl_setopt_progress_function(handle, { context, _, _, _, _ in
                guard let context else { return 1 }
                return Unmanaged<Sink>.fromOpaque(context).takeUnretainedValue().hasStalled() ? 1 : 0
            }),
            tangent_curl_setopt_pointer(handle, CURLOPT_XFERINFODATA, context),
            tangent_curl_setopt_long(handle, CURLOPT_NOPROGRESS, 0),
        ]
        if let bad = setup.first(where: { $0 != CURLE_OK }) {
            throw failure("libcurl refused a setting: \(String(cString: curl_easy_strerror(bad)))")
        }

        let code = withExtendedLifetime(sink) { curl_easy_perform(handle) }
        // An error status comes first: its page is never written, but its length may exceed the limit.
        var status = 0
        if tangent_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK, status >= 400 {
            throw failure("HTTP status \(status)")
        }
        if let problem = sink.failure { throw failure(problem) }
        switch code {
        case CURLE_OK:
            return Received(bytes: sink.received, md5: sink.md5.hexDigest())
        case CURLE_FILESIZE_EXCEEDED:
            throw failure("the server announces more than the \(limits.maximumBytes) bytes this file has")
        case CURLE_OPERATION_TIMEDOUT:
            throw failure("timed out: the transfer took more than \(limits.timeout) s")
        default:
            let detail = String(cString: errorText)
            throw failure(detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail)
        }
    }

    /// Receives the body chunks on libcurl's thread (the calling one): writes them, counts them, hashes
    /// them, and stops the transfer on the first byte over the limit, a failed write, or a silence
    /// longer than the idle timeout.
    private final class Sink {
        let descriptor: Int32
        let maximumBytes: Int
        let idleTimeout: Double
        var received = 0
        var md5 = MD5()
        var failure: String?
        /// When the last bytes arrived (or the transfer started).
        private var lastActivity = monotonicSeconds()

        init(descriptor: Int32, maximumBytes: Int, idleTimeout: Double) {
            self.descriptor = descriptor
            self.maximumBytes = maximumBytes
            self.idleTimeout = idleTimeout
        }

        /// Whether nothing has arrived for longer than the idle timeout (then the failure is recorded).
        func hasStalled() -> Bool {
            guard monotonicSeconds() - lastActivity > idleTimeout else { return false }
            failure = "timed out: no data arrived for \(idleTimeout) s (the connection stalled)"
            return true
        }

        /// Whether the chunk was stored; `false` aborts the transfer.
        func accept(_ chunk: UnsafeRawBufferPointer) -> Bool {
            guard let base = chunk.baseAddress, chunk.count > 0 else { return true }
            guard chunk.count <= maximumBytes - received else {
                failure = "the server sent more than the \(maximumBytes) bytes this file has; stopped"
                return false
            }
            var offset = 0
            while offset < chunk.count {
                let written = write(descriptor, base + offset, chunk.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    failure = "cannot write the download: \(systemErrorMessage(errno))"
                    return false
                }
                offset += written
            }
            md5.update(chunk)
            received += chunk.count
            lastActivity = monotonicSeconds()
            return true
        }
    }

    private static func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}
