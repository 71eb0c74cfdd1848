/// One record of an event file: TensorFlow's `Event` protocol buffer (tensorflow/core/util/event.proto),
/// for the parts TensorBoard reads — the file version, summaries and session logs.
///
/// Fields as encoded: `wall_time` (1, double, seconds since 1970), `step` (2, int64), then one of
/// `file_version` (3, string), `summary` (5, a `Summary`) or `session_log` (7, a `SessionLog`).
public struct TensorBoardEvent: Sendable, Equatable {
    /// What an event carries.
    public enum Payload: Sendable, Equatable {
        /// The first event of a file: `brain.Event:2`.
        case fileVersion(String)
        /// Tagged values: scalars, histograms, images.
        case summary([TensorBoardSummaryValue])
        /// A session-log status: `start` tells TensorBoard that the run restarted at this event's step,
        /// so events it read earlier at this step or later are dropped (a resumed run rewrites them).
        case sessionLog(SessionStatus)
    }

    /// `SessionLog.SessionStatus`.
    public enum SessionStatus: Int64, Sendable, Equatable {
        /// `STATUS_UNSPECIFIED`.
        case unspecified = 0
        /// `START`: the run (re)starts at the event's step.
        case start = 1
        /// `STOP`.
        case stop = 2
        /// `CHECKPOINT`.
        case checkpoint = 3
    }

    /// The version string TensorBoard expects in every file's first event.
    public static let currentFileVersion = "brain.Event:2"

    /// Seconds since 1970-01-01 UTC when the event was written.
    public var wallTime: Double
    /// The training step the event belongs to (TensorBoard's x-axis).
    public var step: Int64
    /// The event's contents.
    public var payload: Payload

    /// An event at `step` written at `wallTime`.
    public init(wallTime: Double, step: Int64, payload: Payload) {
        self.wallTime = wallTime
        self.step = step
        self.payload = payload
    }

    /// The event's protocol-buffer bytes (the payload of its TFRecord).
    public func encoded() -> [UInt8] {
        var w = ProtobufWriter()
        w.double(1, wallTime)
        w.integer(2, step)
        switch payload {
        case .fileVersion(let version): w.string(3, version)
        case .summary(let values):
            w.message(5) { summary in
                for value in values { summary.message(1) { value.encode(into: &$0) } }
            }
        case .sessionLog(let status):
            w.message(7) { $0.integer(1, status.rawValue) }
        }
        return w.bytes
    }

    /// Decodes an event written by ``encoded()`` (or by TensorFlow, for the fields above; others are
    /// skipped). An event with none of the three payloads reads as an empty summary.
    public init(decoding bytes: [UInt8]) throws {
        var wallTime = 0.0, step: Int64 = 0
        var payload = Payload.summary([])
        for field in try ProtobufReader.fields(of: bytes, context: "an Event") {
            switch field {
            case .fixed64(1, let bits): wallTime = Double(bitPattern: bits)
            case .varint(2, let v): step = Int64(bitPattern: v)
            case .lengthDelimited(3, let text): payload = .fileVersion(String(decoding: text, as: UTF8.self))
            case .lengthDelimited(5, let summary):
                var values: [TensorBoardSummaryValue] = []
                for value in try ProtobufReader.fields(of: summary, context: "a Summary") {
                    guard case .lengthDelimited(1, let message) = value else { continue }
                    values.append(try TensorBoardSummaryValue(decoding: message))
                }
                payload = .summary(values)
            case .lengthDelimited(7, let log):
                var status = SessionStatus.unspecified
                for logField in try ProtobufReader.fields(of: log, context: "a SessionLog") {
                    if case .varint(1, let v) = logField { status = SessionStatus(rawValue: Int64(bitPattern: v)) ?? .unspecified }
                }
                payload = .sessionLog(status)
            default:
                guard [1, 2, 3, 5, 7].contains(field.number) else { continue }
                throw EventFileError("an Event has field \(field.number) with the wrong wire type")
            }
        }
        self.init(wallTime: wallTime, step: step, payload: payload)
    }
}
