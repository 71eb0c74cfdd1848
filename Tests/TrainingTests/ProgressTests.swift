import Foundation
import Tangent
import XCTest

/// The progress display: a first line as soon as training starts, a status line for each long piece of
/// work between steps (evaluation, robust evaluation, the probe's kernel, checkpoints), and the run's
/// elapsed time and ETA.
final class ProgressTests: XCTestCase {
    final class Output: @unchecked Sendable { var text = "" }

    func run(interactive: Bool) throws -> String {
        var settings = TestRuns.settings(epochs: 2, robustEvalSubset: 20)
        settings.kernelTracking = KernelTrackingConfiguration(everyEpoch: true, probeSize: 4)
        let output = Output()
        let progress = ProgressCallback(interactive: interactive) { output.text += $0 }
        let dir = TestRuns.folder(for: self)
        let loop = try TrainingSession.start(try TestRuns.mnistCNN(settings, train: 100, test: 20), runDirectory: dir,
                                             callbacks: { s, folder in
            var list = TrainingSession.standardCallbacks(s, runDirectory: folder, progress: false)
            list.insert(progress, at: list.count - 1)  // before checkpointing, as the standard list has it
            return list
        })
        try loop.fit()
        return output.text
    }

    func testAStatusLineNamesTheWorkBetweenStepsWithTheRunsETA() throws {
        let text = try run(interactive: true)
        XCTAssertTrue(text.hasPrefix("training 2 epochs of 2 steps\n"), text)
        for status in ["computing the probe's NTK (4 images)…", "evaluating (100 training, 20 test images)…",
                       "robust evaluation (PGD-2 on 20 training and test images)…", "writing a checkpoint…"] {
            XCTAssertTrue(text.contains(status), "missing '\(status)' in \(text.debugDescription)")
        }
        XCTAssertTrue(text.contains("run ETA"), text)
        XCTAssertTrue(text.contains("epoch 2/2  loss"), text)
    }

    func testPipedOutputIsPlainLinesStartingAtOnce() throws {
        let text = try run(interactive: false)
        let lines = text.split(separator: "\n")
        XCTAssertEqual(lines.count, 3, text)
        XCTAssertEqual(lines.first, "training 2 epochs of 2 steps")
        XCTAssertFalse(text.contains("\r"), text)
        XCTAssertFalse(text.contains("…"), "no status lines in logs: \(text)")
        XCTAssertTrue(lines[2].contains("run ETA 0:00"), String(lines[2]))
    }

    func testClockFormatsMinutesAndHours() {
        XCTAssertEqual(ProgressCallback.clockText(75), "1:15")
        XCTAssertEqual(ProgressCallback.clockText(3 * 3600 + 62), "3:01:02")
        XCTAssertEqual(ProgressCallback.clockText(.infinity), ProgressCallback.clockText(1e9))
        XCTAssertEqual(ProgressCallback.clockText(-5), "0:00")
        XCTAssertEqual(ProgressCallback.clockText(.nan), "0:00")
    }
}
