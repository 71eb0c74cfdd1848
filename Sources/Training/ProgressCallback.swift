import Foundation

/// Progress on the terminal. When standard output is a terminal: a live bar with the epoch's rate and
/// ETA, the run's elapsed time and ETA, and a status line naming the work between steps (evaluation,
/// attacks, kernels, checkpoints). Otherwise (logs, CI, a pipe): a line when training starts and one
/// plain line per epoch.
public final class ProgressCallback: TrainingCallback {
    private let interactive: Bool
    private let write: (String) -> Void
    private var epochStartTime = Date()
    private var imagesThisEpoch = 0
    /// When `fit` started (nil outside `fit`) and at which step, for the run's elapsed time and ETA.
    private var fitStartTime: Date?
    private var fitStartStep = 0

    /// `write` receives the text to print (default: standard output, flushed).
    public init(interactive: Bool? = nil, write: ((String) -> Void)? = nil) {
        self.interactive = interactive ?? (isatty(STDOUT_FILENO) == 1)
        self.write = write ?? { s in print(s, terminator: ""); fflush(nil) }
    }

    public func fitStart(_ loop: TrainingLoop) throws {
        startIfNeeded(loop)
    }

    /// The first line, at the first event of a `fit` (another callback's work may come before this one's
    /// `fitStart`, e.g. the initial kernel).
    private func startIfNeeded(_ loop: TrainingLoop) {
        guard fitStartTime == nil else { return }
        fitStartTime = Date()
        fitStartStep = loop.step
        let perEpoch = loop.batchOrder.batchesPerEpoch
        let resumed = loop.step > 0 ? " from epoch \(loop.epoch), step \(loop.step)" : ""
        write("training \(loop.settings.epochs) epochs of \(perEpoch) steps\(resumed)\n")
    }

    public func fitEnd(_ loop: TrainingLoop) throws {
        fitStartTime = nil
    }

    public func epochStart(_ loop: TrainingLoop) throws {
        epochStartTime = Date()
        imagesThisEpoch = 0
    }

    public func batchEnd(_ loop: TrainingLoop) throws {
        imagesThisEpoch += loop.batch?.labels.count ?? 0
        guard interactive else { return }
        let total = loop.batchOrder.batchesPerEpoch, done = loop.batchOrder.batchIndexInEpoch
        let elapsed = Date().timeIntervalSince(epochStartTime)
        let rate = Double(imagesThisEpoch) / max(elapsed, 1e-9)
        let eta = done > 0 ? elapsed / Double(done) * Double(total - done) : 0
        let width = 24, filled = total > 0 ? width * done / total : width
        let bar = String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
        write(String(format: "\r\u{1B}[Kepoch %d/%d [%@] %d/%d  loss %.4f  %.0f img/s  ETA %@  %@",
                     loop.epoch + 1, loop.settings.epochs, bar, done, total, loop.lastLoss, rate,
                     Self.clockText(eta), runTimes(loop)))
    }

    public func activity(_ loop: TrainingLoop, _ description: String) {
        startIfNeeded(loop)
        guard interactive else { return }
        write("\r\u{1B}[Kepoch \(loop.epoch)/\(loop.settings.epochs): \(description)…  \(runTimes(loop))")
    }

    public func epochEnd(_ loop: TrainingLoop) throws {
        let elapsed = Date().timeIntervalSince(epochStartTime)
        var parts = ["epoch \(loop.epoch)/\(loop.settings.epochs)"]
        let shown: [(String, String)] = [("train_loss", "loss"), ("train_accuracy", "train acc"),
                                         ("test_accuracy", "test acc"), ("train_robust_accuracy", "train robust"),
                                         ("test_robust_accuracy", "test robust"), ("ntk_distance_to_initial", "ntk dist₀")]
        for (key, label) in shown {
            if let v = loop.log.latest[key] { parts.append(String(format: "%@ %.4f", label, v)) }
        }
        parts.append(String(format: "%.1fs", elapsed))
        parts.append(runTimes(loop))
        write((interactive ? "\r\u{1B}[K" : "") + parts.joined(separator: "  ") + "\n")
    }

    /// "elapsed M:SS, run ETA M:SS": the run's time since `fit` started and the time left at the pace
    /// so far (evaluation, attacks and kernels included, as they recur every epoch).
    func runTimes(_ loop: TrainingLoop) -> String {
        let elapsed = Date().timeIntervalSince(fitStartTime ?? Date())
        let done = loop.step - fitStartStep
        let remaining = loop.settings.epochs * loop.batchOrder.batchesPerEpoch - loop.step
        guard done > 0 else { return "elapsed \(Self.clockText(elapsed))" }
        return "elapsed \(Self.clockText(elapsed)), run ETA \(Self.clockText(elapsed / Double(done) * Double(max(remaining, 0))))"
    }

    /// Seconds as M:SS, or H:MM:SS from an hour on (negative as 0, huge or infinite capped).
    public static func clockText(_ seconds: Double) -> String {
        let s = seconds.isNaN ? 0 : Int(max(0, min(seconds, 1e9)).rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
