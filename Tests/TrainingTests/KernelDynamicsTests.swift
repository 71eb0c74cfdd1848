import Foundation
import Tangent
import XCTest

/// Kernel tracking on a tiny real run: the MNIST CNN on 300 embedded-sample images, batch 100
/// (three steps an epoch), two epochs, a probe of 10 images (full kernel 100 × 100).
final class KernelDynamicsTests: XCTestCase {
    private func settings(tracking: KernelTrackingConfiguration, robust: Bool = false) -> TrainingSettings {
        var s = TestRuns.settings(epochs: 2, batchSize: 100, seed: 0, robustEvalSubset: robust ? 20 : 0)
        s.robustEvaluationAttack = PGDConfiguration(epsilon: 0.3, stepSize: 0.1, steps: 3)
        s.kernelTracking = tracking
        return s
    }

    /// Trains a run with the tracker (and evaluation callbacks); `extra` callbacks come last.
    private func train(_ settings: TrainingSettings, in folder: String,
                       extra: [TrainingCallback] = []) throws -> (TrainingLoop, KernelDynamicsCallback) {
        let loop = try TestRuns.loop(try TestRuns.mnistCNN(settings, train: 300, test: 100), in: folder)
        let tracker = KernelDynamicsCallback(configuration: settings.kernelTracking!, runDirectory: folder)
        loop.callbacks = [EvaluationCallback(), RobustEvaluationCallback(warn: { _ in }), tracker] + extra
        try loop.fit()
        return (loop, tracker)
    }

    private static let everyEpoch = KernelTrackingConfiguration(everyEpoch: true, probeSize: 10)

    private static func relativeError(_ a: KernelMatrix, _ b: KernelMatrix) -> Double {
        var difference = 0.0
        for (x, y) in zip(a.values, b.values) { difference += Double(x - y) * Double(x - y) }
        return difference.squareRoot() / b.frobeniusNorm
    }

    func testMetricsAndSnapshotsEveryEpoch() throws {
        let folder = TestRuns.folder(for: self, prefix: "kernel-dynamics")
        let (loop, tracker) = try train(settings(tracking: Self.everyEpoch), in: folder)

        let names = ["ntk_distance_to_initial", "ntk_norm", "ntk_concentration_top10", "ntk_concentration_top20",
                     "ntk_top_eigenvalue_1", "ntk_top_eigenvalue_5", "ntk_seconds"]
        for name in names { XCTAssertEqual(try TestRuns.rows(folder, name).count, 3, name) }
        XCTAssertEqual(try TestRuns.rows(folder, "ntk_distance_to_previous").map(\.step), [3, 6])

        let distances = try TestRuns.rows(folder, "ntk_distance_to_initial")
        XCTAssertEqual(distances.map(\.step), [0, 3, 6])
        XCTAssertEqual(distances.map(\.epoch), [0, 1, 2])
        XCTAssertEqual(distances[0].value, 0)
        XCTAssertGreaterThan(distances[1].value ?? 0, 0)
        XCTAssertGreaterThan(distances[2].value ?? 0, distances[1].value ?? 0)
        for row in try TestRuns.rows(folder, "ntk_concentration_top20") {
            XCTAssert((0...1.000001).contains(row.value ?? -1), "concentration \(String(describing: row.value))")
        }

        let index = try XCTUnwrap(try KernelSnapshotStore.readIndex(runDirectory: folder))
        XCTAssertEqual(index.snapshots.map(\.file), ["step-00000000.safetensors.zst", "step-00000003.safetensors.zst",
                                                     "step-00000006.safetensors.zst"])
        XCTAssertEqual(index.snapshots.map(\.trigger), [.initial, .epoch, .epoch])
        XCTAssertEqual(index.probe, Array(0..<10))
        XCTAssertEqual(index.samples, 10)
        XCTAssertEqual(index.classes, 10)

        // The last snapshot is the kernel of the final model on the probe, recomputed independently.
        let store = KernelSnapshotStore(runDirectory: folder, index: index)
        let saved = try store.load(index.snapshots[2])
        let (probe, _) = BatchAssembly.batch(loop.data.train, indices: 0..<10)
        let recomputed = try EmpiricalNTK.compute(loop.network, inputs: probe)
        XCTAssertEqual(saved.n, 100)
        XCTAssertEqual(saved.classCount, 10)
        XCTAssertLessThan(Self.relativeError(saved, recomputed), 1e-6)
        XCTAssertEqual(saved, tracker.previousKernel)
        XCTAssertEqual(try store.load(index.snapshots[0]), tracker.initialKernel)
        XCTAssertEqual(try TestRuns.rows(folder, "ntk_norm").last?.value ?? 0, recomputed.frobeniusNorm, accuracy: 1e-6 * recomputed.frobeniusNorm)

        let metadata = try KernelFile.read(path: (store.directory as NSString).appendingPathComponent(index.snapshots[1].file)).metadata
        XCTAssertEqual(metadata["epoch"], "1")
        XCTAssertEqual(metadata["step"], "3")
        XCTAssertEqual(metadata["kind"], "full")
        XCTAssertEqual(metadata["probe"], "0,1,2,3,4,5,6,7,8,9")
    }

    func testRunAnalysisWritesMatricesCurvesAndPlots() throws {
        let folder = TestRuns.folder(for: self, prefix: "kernel-dynamics")
        _ = try train(settings(tracking: Self.everyEpoch, robust: true), in: folder)
        let analysis = try RunAnalysis.compute(runDirectory: folder)
        let written = try analysis.write()

        XCTAssertEqual(analysis.timeAxis, "epoch")
        XCTAssertEqual(analysis.times, [0, 1, 2])
        XCTAssertEqual(analysis.distances.count, 3)
        for s in 0..<3 {
            XCTAssertEqual(analysis.distances[s].count, 3)
            XCTAssertEqual(analysis.distances[s][s], 0)
            for t in 0..<3 { XCTAssertEqual(analysis.distances[s][t], analysis.distances[t][s], accuracy: 1e-12) }
        }
        // Row 0 agrees with the distances logged during training.
        let logged = try TestRuns.rows(folder, "ntk_distance_to_initial").compactMap(\.value)
        for t in 0..<3 { XCTAssertEqual(analysis.distances[0][t], logged[t], accuracy: 1e-9) }

        for trajectory in [analysis.polar.whole, analysis.polar.top, analysis.polar.bottom] {
            XCTAssertEqual(trajectory.count, 3)
            XCTAssertEqual(trajectory[0].radius, 0)
            XCTAssertEqual(trajectory[2].radius, 1, accuracy: 1e-12)
            XCTAssertEqual(trajectory[0].angle, 0, accuracy: 1e-3)
        }
        XCTAssertEqual(analysis.concentrationRanks, [10, 20])
        XCTAssertEqual(analysis.magnitudes.count, 3)
        XCTAssertEqual(Set(analysis.accuracy.map(\.name)),
                       ["train_accuracy", "test_accuracy", "train_robust_accuracy", "test_robust_accuracy"])
        XCTAssertEqual(analysis.accuracy.first?.epochs, [1, 2])

        let names = Set(written.map { ($0 as NSString).lastPathComponent })
        XCTAssertEqual(names, ["kernel_distance.csv", "kernel_distance.svg", "polar.csv", "polar.svg", "kernel_spectrum.csv",
                               "concentration.svg", "magnitude.svg", "accuracy.csv", "accuracy.svg", "analysis.json",
                               "eigenvalue_mass.svg", "kernel_velocity.svg", "kernel_eigenvalues.csv", "spectrum.svg",
                               "kernel_entries_start.svg", "kernel_entries_end.svg", "index.html"])
        for path in written where path.hasSuffix(".svg") {
            let text = try String(contentsOfFile: path, encoding: .utf8)
            XCTAssert(text.contains("<svg") && text.contains("</svg>"), path)
        }
        let csv = try String(contentsOfFile: (folder as NSString).appendingPathComponent("analysis/kernel_distance.csv"), encoding: .utf8)
        let lines = csv.split(separator: "\n")
        XCTAssertEqual(lines.count, 4)
        XCTAssertEqual(lines[0], "epoch,0,1,2")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: (folder as NSString).appendingPathComponent("analysis/analysis.json"))))
        XCTAssertNotNil((json as? [String: Any])?["kernel_distance"])
    }

    func testStateRoundTripContinuesTheDynamicsExactly() throws {
        // Reference: an uninterrupted run.
        let reference = TestRuns.folder(for: self, prefix: "kernel-dynamics")
        _ = try train(settings(tracking: Self.everyEpoch), in: reference)

        // The same run, whose tracker is replaced after epoch 1 by a fresh one restored from its state.
        let resumed = TestRuns.folder(for: self, prefix: "kernel-dynamics")
        let swap = TrackerSwap(afterEpoch: 1) { KernelDynamicsCallback(configuration: Self.everyEpoch, runDirectory: resumed) }
        let (_, original) = try train(settings(tracking: Self.everyEpoch), in: resumed, extra: [swap])
        let restored = try XCTUnwrap(swap.restored)
        XCTAssertFalse(restored === original)
        XCTAssertEqual(original.snapshots.count, 2, "the original tracker stops after epoch 1")
        XCTAssertEqual(restored.snapshots.count, 3)
        XCTAssertEqual(try original.saveState(), swap.savedState)

        let all = try MetricRow.read(path: (reference as NSString).appendingPathComponent("metrics.jsonl"))
        let again = try MetricRow.read(path: (resumed as NSString).appendingPathComponent("metrics.jsonl"))
        let comparable = { (rows: [MetricRow]) in rows.filter { $0.name != "ntk_seconds" } }
        XCTAssertEqual(comparable(all), comparable(again))
        XCTAssertEqual(try TestRuns.rows(resumed, "ntk_distance_to_previous").count, 2)
        XCTAssertEqual(try KernelSnapshotStore.readIndex(runDirectory: resumed)?.snapshots.map(\.step), [0, 3, 6])

        // Restoring into a tracker configured for the other kernel kind is refused.
        var traced = Self.everyEpoch
        traced.kind = .traced
        XCTAssertThrowsError(try KernelDynamicsCallback(configuration: traced, runDirectory: resumed).restoreState(swap.savedState!))
    }

    func testStepScheduleTracedAdversarialProbe() throws {
        let folder = TestRuns.folder(for: self, prefix: "kernel-dynamics")
        let tracking = KernelTrackingConfiguration(everySteps: 2, everyEpoch: true, probe: .indices([5, 3, 250]),
                                                   kind: .traced, adversarialProbe: true)
        let (loop, tracker) = try train(settings(tracking: tracking), in: folder)
        let index = try XCTUnwrap(try KernelSnapshotStore.readIndex(runDirectory: folder))
        XCTAssertEqual(index.snapshots.map(\.step), [0, 2, 3, 4, 6])
        XCTAssertEqual(index.snapshots.map(\.trigger), [.initial, .step, .epoch, .step, .epoch])
        XCTAssertEqual(index.probe, [5, 3, 250])
        XCTAssertTrue(index.adversarialProbe)
        XCTAssertNil(index.classes)
        let last = try XCTUnwrap(tracker.previousKernel)
        XCTAssertEqual(last.n, 3)
        XCTAssertFalse(last.isFull)

        // The kernel was taken on the attacked probe, which differs from the clean one.
        let (clean, _) = BatchAssembly.batch(loop.data.train, indices: [5, 3, 250])
        let attacked = try tracker.probeInputs(loop)
        XCTAssertNotEqual(attacked.scalars, clean.scalars)
        let onAttacked = try EmpiricalNTK.compute(loop.network, inputs: attacked, options: tracking.engineOptions)
        XCTAssertLessThan(Self.relativeError(last, onAttacked), 1e-6)

        let analysis = try RunAnalysis.compute(runDirectory: folder)
        XCTAssertEqual(analysis.timeAxis, "step")
        XCTAssertEqual(analysis.times, [0, 2, 3, 4, 6])
        XCTAssertTrue(analysis.polar.bottom.isEmpty, "n = 3 ≤ k = 20 leaves no bottom subspace")
    }

    func testProbeParsingAndValidation() throws {
        XCTAssertEqual(try KernelTrackingConfiguration.Probe(argument: "first"), .first)
        XCTAssertEqual(try KernelTrackingConfiguration.Probe(argument: "4, 8,15"), .indices([4, 8, 15]))
        XCTAssertThrowsError(try KernelTrackingConfiguration.Probe(argument: "1,,2"))
        XCTAssertThrowsError(try KernelTrackingConfiguration.Probe(argument: "all"))
        XCTAssertThrowsError(try KernelTrackingConfiguration(everySteps: 0).validate())
        XCTAssertThrowsError(try KernelTrackingConfiguration(everyEpoch: true, probe: .indices([1, 1])).validate())
        XCTAssertThrowsError(try KernelTrackingConfiguration(everyEpoch: true, probe: .indices([-1])).validate())
        XCTAssertEqual(try KernelTrackingConfiguration(everyEpoch: true).probeIndices(batchSize: 4, trainCount: 10), [0, 1, 2, 3])
        XCTAssertThrowsError(try KernelTrackingConfiguration(everyEpoch: true, probeSize: 11).probeIndices(batchSize: 4, trainCount: 10))
        XCTAssertThrowsError(try KernelTrackingConfiguration(everyEpoch: true, probe: .indices([10])).probeIndices(batchSize: 4, trainCount: 10))
        XCTAssertFalse(KernelTrackingConfiguration().isEnabled)

        // The tracking settings survive config.json and the checkpoints' stored settings.
        var settings = TrainingSettings()
        settings.kernelTracking = KernelTrackingConfiguration(everySteps: 50, probe: .indices([2, 7]), kind: .traced)
        XCTAssertEqual(try JSONDecoder().decode(TrainingSettings.self, from: settings.jsonData()), settings)
    }
}

/// Replaces the loop's kernel tracker, after epoch `afterEpoch`, by a fresh one restored from its
/// saved state — what a checkpoint resume does to it.
private final class TrackerSwap: TrainingCallback {
    let afterEpoch: Int
    let make: () -> KernelDynamicsCallback
    var restored: KernelDynamicsCallback?
    var savedState: CallbackState?

    init(afterEpoch: Int, make: @escaping () -> KernelDynamicsCallback) {
        self.afterEpoch = afterEpoch
        self.make = make
    }

    func epochEnd(_ loop: TrainingLoop) throws {
        guard loop.epoch == afterEpoch,
              let position = loop.callbacks.firstIndex(where: { $0 is KernelDynamicsCallback }) else { return }
        let state = try loop.callbacks[position].saveState()
        let fresh = make()
        try fresh.restoreState(state)
        loop.callbacks[position] = fresh
        restored = fresh
        savedState = state
    }
}
