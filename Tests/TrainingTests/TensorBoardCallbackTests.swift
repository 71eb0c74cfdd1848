import Foundation
import Tangent
import XCTest

/// The TensorBoard callback on small real runs (an MLP on 200 embedded-sample images, batch 50: four
/// steps an epoch; the NTK of 5 images every epoch), read back with the event-file reader and viewed the
/// way TensorBoard's two loaders view a folder.
final class TensorBoardCallbackTests: XCTestCase {
    private func settings(epochs: Int) -> TrainingSettings {
        var s = TestRuns.settings(epochs: epochs)
        s.kernelTracking = KernelTrackingConfiguration(everyEpoch: true, probeSize: 5)
        return s
    }

    private func run(_ settings: TrainingSettings) throws -> RunComponents {
        var rng = Xoshiro256(seed: settings.seed)
        return RunComponents(model: Architectures.mlp(inputs: 784, hidden: [32], outputs: 10, rng: &rng),
                             optimizer: try SGD(learningRate: 0.05), data: try TestRuns.mnist(train: 200, test: 50),
                             settings: settings)
    }

    /// The standard callbacks (no progress lines) with TensorBoard's in `board`, then `stopAfterStep`.
    private func callbacks(board: @escaping (String) -> String = { $0 + "/tensorboard" },
                           stopAfterStep: Int? = nil) -> (TrainingSettings, String) -> [TrainingCallback] {
        { settings, directory in
            TrainingSession.standardCallbacks(settings, runDirectory: directory,
                                              extra: [TensorBoardCallback(directory: board(directory))], progress: false)
                + (stopAfterStep.map { [TestRuns.StopAfter(step: $0)] } ?? [])
        }
    }

    /// A point of a series: step and value (scalars) or the histogram.
    private struct Point: Equatable {
        var step: Int64
        var value: TensorBoardSummaryValue.Value
    }

    /// TensorBoard's view of a folder as its Python loader builds it: files in name order, and a session
    /// log `START` at step s drops every point read so far at step s or later.
    private func pythonView(_ folder: String) throws -> [String: [Point]] {
        var series: [String: [Point]] = [:]
        for event in try EventFileReader.events(inDirectory: folder) {
            switch event.payload {
            case .sessionLog(.start): for tag in series.keys { series[tag]!.removeAll { $0.step >= event.step } }
            case .summary(let values): for v in values { series[v.tag, default: []].append(Point(step: event.step, value: v.value)) }
            default: break
            }
        }
        return series
    }

    /// The view of TensorBoard's Rust data server: per series, a point at step s drops the points at s or later.
    private func rustView(_ folder: String) throws -> [String: [Point]] {
        var series: [String: [Point]] = [:]
        for event in try EventFileReader.events(inDirectory: folder) {
            guard case .summary(let values) = event.payload else { continue }
            for v in values {
                series[v.tag, default: []].removeAll { $0.step >= event.step }
                series[v.tag, default: []].append(Point(step: event.step, value: v.value))
            }
        }
        return series
    }

    /// Every row of the run's metric log as the scalar series TensorBoard should show.
    private func metricSeries(_ runDirectory: String) throws -> [String: [Point]] {
        var series: [String: [Point]] = [:]
        for row in try MetricRow.read(path: runDirectory + "/metrics.jsonl") {
            series[TensorBoardCallback.tag(forMetric: row.name), default: []]
                .append(Point(step: Int64(row.step), value: .scalar(Float(row.value ?? .nan))))
        }
        return series
    }

    func testTagsGroupTheMetricNames() {
        XCTAssertEqual(TensorBoardCallback.tag(forMetric: "train_loss"), "train/loss")
        XCTAssertEqual(TensorBoardCallback.tag(forMetric: "test_robust_accuracy"), "test/robust_accuracy")
        XCTAssertEqual(TensorBoardCallback.tag(forMetric: "ntk_distance_to_initial"), "ntk/distance_to_initial")
        XCTAssertEqual(TensorBoardCallback.tag(forMetric: "parameter_distance"), "parameter_distance")
        XCTAssertEqual(TensorBoardCallback.tag(forMetric: "linearized"), "linearized")
        XCTAssertEqual(TensorBoardCallback.tag(forMetric: "train_"), "train_")
    }

    func testEveryMetricStepAndKernelSpectrumIsWritten() throws {
        let dir = TestRuns.folder(for: self, prefix: "tensorboard")
        let loop = try TrainingSession.start(try run(settings(epochs: 2)), runDirectory: dir, callbacks: callbacks())
        try loop.fit()
        let files = try EventFileWriter.eventFiles(in: dir + "/tensorboard")
        XCTAssertEqual(files.count, 1)
        let events = try EventFileReader.events(inFile: dir + "/tensorboard/" + files[0])
        XCTAssertEqual(events.first?.payload, .fileVersion("brain.Event:2"))
        XCTAssertFalse(events.contains { if case .sessionLog = $0.payload { return true } else { return false } })

        let view = try pythonView(dir + "/tensorboard")
        let metrics = try metricSeries(dir)
        // Metrics logged before this callback's own fitStart (K₀'s, by the tracker) are there too.
        XCTAssertEqual(metrics["ntk/norm"]?.first?.step, 0)
        for (tag, points) in metrics { XCTAssertEqual(view[tag], points, tag) }
        XCTAssertEqual(view["train/batch_loss"]?.map(\.step), Array(1...8))
        XCTAssertEqual(view["train/learning_rate"]?.map(\.value), Array(repeating: .scalar(0.05), count: 8))
        XCTAssertEqual(Set(view.keys), Set(metrics.keys).union(["train/batch_loss", "train/learning_rate", "ntk/eigenvalues", "ntk/log10_eigenvalues"]))

        // One spectrum per kernel: all 5 × 10 eigenvalues, the largest equal to the logged top eigenvalue,
        // their sum the kernel's trace.
        let spectra = try XCTUnwrap(view["ntk/eigenvalues"])
        XCTAssertEqual(spectra.map(\.step), [0, 4, 8])
        let tops = try TestRuns.values(dir, "ntk_top_eigenvalue_1")
        for (point, top) in zip(spectra, tops) {
            guard case .histogram(let h) = point.value else { return XCTFail("not a histogram: \(point)") }
            XCTAssertEqual(h.count, 50)
            XCTAssertEqual(h.bucketCounts.reduce(0, +), 50)
            XCTAssertEqual(h.bucketCounts.count, TensorBoardCallback.histogramBucketCount)
            XCTAssertEqual(h.maximum, top, accuracy: 1e-4 * top)
        }
        let tracker = try XCTUnwrap(loop.callbacks.lazy.compactMap { $0 as? KernelDynamicsCallback }.first)
        guard case .histogram(let last) = spectra[2].value else { return XCTFail("not a histogram") }
        let trace = try XCTUnwrap(tracker.previousKernel).trace
        XCTAssertEqual(last.sum, trace, accuracy: 1e-4 * trace)
        guard case .histogram(let logarithms) = try XCTUnwrap(view["ntk/log10_eigenvalues"]?.last).value else { return XCTFail("not a histogram") }
        XCTAssertEqual(logarithms.maximum, log10(last.maximum), accuracy: 1e-12)
    }

    /// A run stopped after its checkpoint — its file holds steps the checkpoint does not — and resumed
    /// in place shows, in both loaders' views, exactly the uninterrupted run: each step once.
    func testAResumedRunShowsEachStepOnce() throws {
        let s = settings(epochs: 3)
        let whole = TestRuns.folder(for: self, prefix: "tensorboard-whole")
        try TrainingSession.start(try run(s), runDirectory: whole, callbacks: callbacks()).fit()

        let split = TestRuns.folder(for: self, prefix: "tensorboard-split")
        // Checkpoints after epoch 1 (step 4); the run goes on to step 6 and stops there.
        TestRuns.fitUntilStopped(try TrainingSession.start(try run(s), runDirectory: split, callbacks: callbacks(stopAfterStep: 6)))
        let (resumed, _) = try TrainingSession.resume(from: split, components: { _ in try self.run(s) }, callbacks: callbacks())
        XCTAssertEqual(resumed.step, 4)
        try resumed.fit()

        let files = try EventFileWriter.eventFiles(in: split + "/tensorboard")
        XCTAssertEqual(files.count, 2)
        let second = try EventFileReader.events(inFile: split + "/tensorboard/" + files[1])
        XCTAssertEqual(second[0].payload, .fileVersion("brain.Event:2"))
        XCTAssertEqual(second[1].step, 4)
        XCTAssertEqual(second[1].payload, .sessionLog(.start))
        // Then step 4's events as the first run wrote them before its checkpoint, batch loss first.
        let first = try EventFileReader.events(inFile: split + "/tensorboard/" + files[0])
        let beforeCheckpoint = first.filter { $0.step == 4 }
        XCTAssertEqual(Array(second[2..<(2 + beforeCheckpoint.count)]), beforeCheckpoint)
        XCTAssertTrue(first.contains { $0.step == 6 })

        let expected = try pythonView(whole + "/tensorboard")
        for view in [try pythonView(split + "/tensorboard"), try rustView(split + "/tensorboard")] {
            XCTAssertEqual(Set(view.keys), Set(expected.keys))
            for (tag, points) in expected {
                if tag == "ntk/seconds" {
                    XCTAssertEqual(view[tag]?.map(\.step), points.map(\.step), tag)  // wall-clock timings differ
                } else {
                    XCTAssertEqual(view[tag], points, tag)
                }
            }
        }
        // What the metric log holds now is what TensorBoard shows.
        let view = try pythonView(split + "/tensorboard")
        for (tag, points) in try metricSeries(split) { XCTAssertEqual(view[tag], points, tag) }
    }

    /// A branch into a new folder has no event files yet: its first file holds the metric log's history.
    func testABranchWritesTheRunsHistoryFromTheMetricLog() throws {
        let s = settings(epochs: 2)
        let original = TestRuns.folder(for: self, prefix: "tensorboard-original")
        try TrainingSession.start(try run(s), runDirectory: original, callbacks: callbacks()).fit()
        let branch = TestRuns.folder(for: self, prefix: "tensorboard-branch")
        var longer = s
        longer.epochs = 3
        let (loop, _) = try TrainingSession.resume(from: original, into: branch, components: { _ in try self.run(longer) },
                                                   callbacks: callbacks())
        try loop.fit()
        let view = try pythonView(branch + "/tensorboard")
        for (tag, points) in try metricSeries(branch) { XCTAssertEqual(view[tag], points, tag) }
        XCTAssertEqual(try metricSeries(branch)["train/loss"]?.map(\.step), [4, 8, 12])
        // Spectra: the restored newest kernel's (step 8) and the new one's; batch losses from the branch on.
        XCTAssertEqual(view["ntk/eigenvalues"]?.map(\.step), [8, 12])
        XCTAssertEqual(view["train/batch_loss"]?.map(\.step), Array(9...12))
        XCTAssertEqual(try EventFileWriter.eventFiles(in: original + "/tensorboard").count, 1)
    }

    func testANewRunRefusesAFolderHoldingEventFiles() throws {
        let board = TestRuns.folder(for: self, prefix: "tensorboard-shared")
        _ = try EventFileWriter(directory: board)
        let dir = TestRuns.folder(for: self, prefix: "tensorboard")
        let loop = try TrainingSession.start(try run(settings(epochs: 1)), runDirectory: dir, callbacks: callbacks(board: { _ in board }))
        XCTAssertThrowsError(try loop.fit()) { XCTAssertTrue("\($0)".contains("already holds event files"), "\($0)") }
        XCTAssertEqual(try MetricRow.read(path: dir + "/metrics.jsonl").filter { $0.name == "train_loss" }, [])
        XCTAssertThrowsError(try TensorBoardCallback.prepare(directory: board, newRun: true))
        XCTAssertNoThrow(try TensorBoardCallback.prepare(directory: board, newRun: false))
    }
}
