import Foundation

/// Progress on the terminal: a live bar with rate and ETA when standard output is a terminal,
/// one plain line per epoch otherwise (logs, CI).
public final class ProgressCallback: TrainingCallback {
    private let interactive: Bool
    private var epochStartTime = Date()
    private var imagesThisEpoch = 0
    private let write: (String) -> Void

    /// `write` receives the text to print (default: standard output, flushed).
    public init(interactive: Bool? = nil, write: ((String) -> Void)? = nil) {
        self.interactive = interactive ?? (isatty(STDOUT_FILENO) == 1)
        self.write = write ?? { s in print(s, terminator: ""); fflush(nil) }
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
        write(String(format: "\repoch %d/%d [%@] %d/%d  loss %.4f  %.0f img/s  ETA %@ ",
                     loop.epoch + 1, loop.settings.epochs, bar, done, total, loop.lastLoss, rate,
                     Self.clock(eta)))
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
        write((interactive ? "\r\u{1B}[K" : "") + parts.joined(separator: "  ") + "\n")
    }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return String(format: "%d:%02d", s / 60, s % 60)
    }
}
