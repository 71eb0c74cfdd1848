import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Set by the signal handlers (and by ``Interruption/request(signal:)``), read between training steps.
/// A plain word written from a signal handler and read by the loop, as `sig_atomic_t` is in C.
nonisolated(unsafe) private var pendingInterruption: Int32 = 0

/// Stopping a run cleanly when asked: a requested stop makes `TrainingLoop.fit` finish the current
/// step, write a checkpoint and throw ``TrainingInterrupted``, so the run resumes exactly where it
/// stopped. Requests come from SIGINT/SIGTERM once ``handleSignals()`` is installed (a cluster's
/// scheduler sends SIGTERM before pre-empting a job), or from code through ``request(signal:)``.
public enum Interruption {
    /// Makes SIGINT and SIGTERM request a stop. A second SIGINT while a stop is pending ends the
    /// process at once with status 130 (work since the last checkpoint is then lost).
    public static func handleSignals() {
        for number in [SIGINT, SIGTERM] {
            signal(number) { received in
                if received == SIGINT && pendingInterruption != 0 { _exit(130) }
                pendingInterruption = received
            }
        }
    }

    /// The signal of a pending stop request, or nil.
    public static var pendingSignal: Int32? {
        pendingInterruption == 0 ? nil : pendingInterruption
    }

    /// Requests a stop as if `signal` had arrived.
    public static func request(signal: Int32 = SIGTERM) {
        pendingInterruption = signal
    }

    /// Withdraws a pending request (e.g. after an interrupted run was handled and another starts in the
    /// same process).
    public static func reset() {
        pendingInterruption = 0
    }

    /// A signal's usual name (`SIGINT`, `SIGTERM`, or its number).
    public static func name(of signal: Int32) -> String {
        switch signal {
        case SIGINT: return "SIGINT"
        case SIGTERM: return "SIGTERM"
        default: return "signal \(signal)"
        }
    }
}

/// Thrown by `TrainingLoop.fit` when it stopped on an ``Interruption`` request, after finishing the
/// step in progress and saving a checkpoint (when the run has a `CheckpointCallback`).
public struct TrainingInterrupted: Error, CustomStringConvertible {
    /// The signal that asked for the stop.
    public let signal: Int32
    /// Completed epochs and optimiser steps when the run stopped.
    public let epoch: Int, step: Int
    /// The checkpoint that holds the state at the stop (nil when the run writes no checkpoints).
    public let checkpointPath: String?

    /// A stop by `signal` after `step` optimiser steps (`epoch` epochs complete), with the state saved in
    /// `checkpointPath` (nil when none was written).
    public init(signal: Int32, epoch: Int, step: Int, checkpointPath: String?) {
        self.signal = signal
        self.epoch = epoch
        self.step = step
        self.checkpointPath = checkpointPath
    }

    public var description: String {
        let saved = checkpointPath.map { "the state is saved in \($0)" } ?? "no checkpoint was written (the run has no checkpoint callback)"
        return "stopped by \(Interruption.name(of: signal)) after step \(step) (\(epoch) epochs complete); \(saved)"
    }
}
