import ArgumentParser
import Dispatch
import Foundation
import Tangent

/// Runs a sweep's pending runs on this machine, at most `parallel` at a time, each a `tangent train` or `tangent two-layer`
/// process with `TANGENT_THREADS` set to its share of the cores and its output in `RUNS/logs/NAME.log`.
/// SIGINT or SIGTERM stops starting runs and passes SIGTERM on to the running ones, which checkpoint
/// and exit 75; starting the sweep again resumes them.
struct SweepLocalRunner {
    let plan: SweepPlan
    let parallel: Int
    let threadsPerRun: Int
    let executable: String

    /// What happened to a run this sweep launched.
    enum Outcome { case finished, interrupted, failed(Int32) }

    /// Runs the plan's pending runs; returns each launched run's outcome, in launch order.
    func run() throws -> [(entry: SweepPlan.Entry, outcome: Outcome)] {
        let pending = plan.entries.filter { $0.arguments != nil }
        let logs = (plan.spec.runsFolder as NSString).appendingPathComponent("logs")
        try RunDirectory.create(logs)

        let stop = SignalForwarding()
        defer { stop.restore() }
        var queue = pending[...]
        var active: [(entry: SweepPlan.Entry, process: Process)] = []
        var results: [(entry: SweepPlan.Entry, outcome: Outcome)] = []
        while !queue.isEmpty || !active.isEmpty {
            while active.count < parallel, !stop.requested, let entry = queue.popFirst() {
                let process = try launch(entry, logs: logs)
                active.append((entry, process))
                stop.children.append(process.processIdentifier)
                print("started \(entry.run.name) (\(entry.action)); log: \(logs)/\(entry.run.name).log")
            }
            if stop.requested { queue.removeAll() }
            usleep(100_000)
            for (index, item) in active.enumerated().reversed() where !item.process.isRunning {
                active.remove(at: index)
                stop.children.removeAll { $0 == item.process.processIdentifier }
                let status = item.process.terminationStatus
                let outcome: Outcome = status == 0 ? .finished : status == TrainCommand.interruptedStatus ? .interrupted : .failed(status)
                results.append((item.entry, outcome))
                switch outcome {
                case .finished: print("finished \(item.entry.run.name)")
                case .interrupted: print("stopped \(item.entry.run.name) after a checkpoint (resumes when the sweep starts again)")
                case .failed(let s): print("FAILED \(item.entry.run.name) with status \(s); see \(logs)/\(item.entry.run.name).log")
                }
            }
        }
        return results
    }

    private func launch(_ entry: SweepPlan.Entry, logs: String) throws -> Process {
        let logPath = (logs as NSString).appendingPathComponent(entry.run.name + ".log")
        if !FileManager.default.fileExists(atPath: logPath) { _ = FileManager.default.createFile(atPath: logPath, contents: nil) }
        guard let log = FileHandle(forWritingAtPath: logPath) else { throw ValidationError("cannot write the run log \(logPath)") }
        log.seekToEndOfFile()
        let arguments = entry.arguments ?? []
        log.write(Data("\n$ tangent \(arguments.joined(separator: " "))\n".utf8))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: plan.spec.directory)
        process.environment = ProcessInfo.processInfo.environment.merging(["TANGENT_THREADS": "\(threadsPerRun)"]) { $1 }
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { throw ValidationError("cannot start \(executable) for run \(entry.run.name): \(error)") }
        return process
    }
}

/// While alive, SIGINT and SIGTERM do not end this process: they set `requested` and are passed on as
/// SIGTERM to `children` (a second SIGINT from a terminal reaches them directly and would end them
/// without a checkpoint, so only SIGTERM is sent).
final class SignalForwarding: @unchecked Sendable {
    private let lock = NSLock()
    private var _requested = false
    private var _children: [Int32] = []
    private var sources: [DispatchSourceSignal] = []

    /// Whether a stop was asked for.
    var requested: Bool { locked { _requested } }
    /// The processes to pass the stop on to.
    var children: [Int32] {
        get { locked { _children } }
        set { locked { _children = newValue } }
    }

    private func locked<T>(_ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    init() {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in
                guard let self else { return }
                let children = self.locked { () -> [Int32] in self._requested = true; return self._children }
                FileHandle.standardError.write(Data("stopping: the running runs checkpoint and stop (SIGTERM passed on)\n".utf8))
                for pid in children { kill(pid, SIGTERM) }
            }
            source.resume()
            sources.append(source)
        }
    }

    /// Puts the default handlers back.
    func restore() {
        for source in sources { source.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}
