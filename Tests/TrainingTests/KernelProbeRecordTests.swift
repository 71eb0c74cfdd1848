import Foundation
import Tangent
import XCTest

/// What kernel tracking records beyond the paper's metrics: the eigenvalue-based concentration of every
/// kernel, and — with an attacked probe — the probe inputs each kernel was computed on, so the kernel can be
/// recomputed from the model at that step.
final class KernelProbeRecordTests: XCTestCase {
    private static func relativeError(_ a: KernelMatrix, _ b: KernelMatrix) -> Double {
        (try? KernelMetrics.differenceNorm(a, b)).map { $0 / b.frobeniusNorm } ?? .infinity
    }

    func testEigenvalueMassIsLoggedForEveryKernel() throws {
        let run = try ComparedRuns.standard()
        let index = try XCTUnwrap(try KernelSnapshotStore.readIndex(runDirectory: run))
        let store = KernelSnapshotStore(runDirectory: run, index: index)
        let logged = [10: try TestRuns.values(run, "ntk_eigenvalue_mass_top10"), 20: try TestRuns.values(run, "ntk_eigenvalue_mass_top20")]
        XCTAssertEqual(try TestRuns.rows(run, "ntk_eigenvalue_mass_top20").map(\.epoch), [0, 1, 2])
        for (t, snapshot) in index.snapshots.enumerated() {
            let kernel = try store.load(snapshot)
            // By hand: the top eigenvalues' sum over the diagonal's sum.
            let eigenvalues = try KernelMetrics.topEigenvalues(kernel, count: 20)
            var trace = 0.0
            for i in 0..<kernel.n { trace += Double(kernel.values[i * kernel.n + i]) }
            for k in [10, 20] {
                let expected = eigenvalues.prefix(k).reduce(0, +) / trace
                XCTAssertEqual(logged[k]![t], expected, accuracy: 1e-6, "kernel \(t), top \(k)")
                XCTAssertLessThan(logged[k]![t], 1)
            }
            // Squaring concentrates: the paper's mass is the larger of the two.
            XCTAssertGreaterThan(try TestRuns.values(run, "ntk_concentration_top10")[t], logged[10]![t])
        }
    }

    func testAttackedProbeInputsAreSavedAndReproduceEachKernel() throws {
        let folder = TestRuns.folder(for: self, prefix: "attacked-probe")
        let tracking = KernelTrackingConfiguration(everyEpoch: true, probe: .indices([7, 2, 40, 11]), adversarialProbe: true)
        var settings = ComparedRuns.settings(adversarial: false, epochs: 1, tracking: tracking)
        settings.batchSize = 50
        let loop = try TrainingSession.start(try TestRuns.mnistCNN(settings, train: 100, test: 50), runDirectory: folder,
                                             callbacks: TestRuns.callbacks())
        try loop.fit()

        let index = try XCTUnwrap(try KernelSnapshotStore.readIndex(runDirectory: folder))
        XCTAssertEqual(index.snapshots.map(\.step), [0, 2])
        let (clean, labels) = BatchAssembly.batch(loop.data.train, indices: [7, 2, 40, 11])
        // The model at each kernel's step: a fresh one from the seed (step 0) and the trained one (step 2).
        let initialModel = try TestRuns.mnistCNN(settings, train: 100, test: 50).model
        for (snapshot, model) in zip(index.snapshots, [initialModel, loop.network]) {
            let path = folder + "/kernels/" + snapshot.file
            let saved = try KernelFile.read(path: path).kernel
            let probe = try XCTUnwrap(try KernelFile.readProbeInputs(path: path), "\(snapshot.file) holds its probe")
            XCTAssertEqual(probe.inputs.shape, [4, 1, 28, 28])
            XCTAssertEqual(probe.labels, labels)
            XCTAssertNotEqual(probe.inputs.scalars, clean.scalars, "the stored probe is the attacked one")
            let maximum = zip(probe.inputs.scalars, clean.scalars).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThanOrEqual(maximum, ComparedRuns.attack.epsilon + 1e-6, "inside the ε-ball")
            let recomputed = try EmpiricalNTK.compute(model, inputs: probe.inputs, options: tracking.engineOptions)
            XCTAssertLessThan(Self.relativeError(recomputed, saved), 1e-6, snapshot.file)
            XCTAssertGreaterThan(Self.relativeError(try EmpiricalNTK.compute(model, inputs: clean, options: tracking.engineOptions), saved), 1e-4,
                                 "the clean probe gives another kernel")
        }

        // A clean probe is the training images at the index's indices: nothing extra is stored.
        let cleanRun = try ComparedRuns.standard()
        let first = try XCTUnwrap(try KernelSnapshotStore.readIndex(runDirectory: cleanRun)?.snapshots.first)
        XCTAssertNil(try KernelFile.readProbeInputs(path: cleanRun + "/kernels/" + first.file))
    }

    func testMalformedStoredProbesAreRefusedByName() throws {
        let kernel = KernelMatrix(n: 2, values: [1, 0, 0, 1], sampleCount: 2, classCount: nil)
        let inputs = Tensor(shape: [2, 1, 2, 2], scalars: [Float](repeating: 0.5, count: 8))
        let cases: [([StoredTensor], String)] = [
            ([try StoredTensor(name: "inputs", values: inputs.scalars, shape: inputs.shape)], "no 'labels'"),
            (try KernelFile.probeTensors(inputs: Tensor(shape: [3, 1, 2, 2], scalars: [Float](repeating: 0, count: 12)), labels: [0, 1, 2]),
             "holds 3 inputs but the kernel has 2 samples"),
            (try KernelFile.probeTensors(inputs: inputs, labels: [1]), "expected [2]"),
            (try KernelFile.probeTensors(inputs: Tensor(shape: [2, 1, 2, 2], scalars: [0, 0, 0, .nan, 0, 0, 0, 0]), labels: [0, 1]), "element 3 is nan"),
            ([try StoredTensor(name: "inputs", values: [0.5, 0.5], shape: [2]), try StoredTensor(name: "labels", values: [Int32(0), 1])],
             "expected a batch"),
        ]
        let folder = TestRuns.folder(for: self, prefix: "bad-probe")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (extra, expected) in cases {
            let path = folder + "/kernel.safetensors.zst"
            try KernelFile.write(kernel, extraTensors: extra, to: path)
            XCTAssertThrowsError(try KernelFile.readProbeInputs(path: path)) {
                XCTAssertTrue("\($0)".contains(expected) && "\($0)".contains(path), "\($0)")
            }
        }
    }
}
