import Foundation
import FuzzSupport
import Tangent

/// The restore-layer fuzz target: one input is the *uncompressed* safetensors payload of a training
/// checkpoint (header JSON with metadata, then tensor bytes). It is wrapped in a valid zstd frame and
/// continued as a branch of a small run — an MLP on 60 images of the embedded MNIST sample, with
/// kernel tracking, so counters, settings, optimiser state, generator words, metric-file lengths and
/// the kernel callback's probe and kernels are all read from the mutated file. Thrown errors are the
/// expected outcome for bad input; a trap, hang or crash is a finding.
enum RestoreTarget {
    /// Scratch space for one process: the checkpoint file and the branch folders.
    static let scratch: String = {
        let path = NSTemporaryDirectory() + "tangent-fuzz-restore-\(getpid())"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    /// The data of every run: loaded once.
    static let data: TrainingData = {
        do { return try TrainingData.load(.mnist, directory: nil, trainSubset: 60, testSubset: 20) }
        catch { fatalError("the embedded MNIST sample does not load: \(error)") }
    }()

    /// The settings of the seed run: one epoch of batch 20 with the probe's NTK tracked every epoch.
    static var baseSettings: TrainingSettings {
        var s = TrainingSettings.paper(cifar: false)
        s.epochs = 1
        s.batchSize = 20
        s.seed = 11
        s.evalTrainSubset = 20
        s.robustEvalSubset = 0
        s.kernelTracking = KernelTrackingConfiguration(everyEpoch: true, probeSize: 4)
        return s
    }

    /// The run's components with `settings` (the checkpoint's own when they decode, as the command
    /// line does, so crafted settings reach validation too).
    static func components(_ settings: TrainingSettings) throws -> RunComponents {
        var rng = Xoshiro256(seed: settings.seed)
        let model = Architectures.mlp(inputs: 784, hidden: [8], outputs: 10, rng: &rng)
        return RunComponents(model: model, optimizer: try SGD(learningRate: 0.05, momentum: 0.9), data: data, settings: settings)
    }

    static func callbacks(_ settings: TrainingSettings, _ directory: String) -> [TrainingCallback] {
        TrainingSession.standardCallbacks(settings, runDirectory: directory, progress: false)
    }

    /// The seed input: the payload of the newest checkpoint of a real run of these components.
    static func seedPayload() throws -> [UInt8] {
        let run = scratch + "/seed-run"
        try? FileManager.default.removeItem(atPath: run)
        try TrainingSession.start(try components(baseSettings), runDirectory: run, callbacks: callbacks).fit()
        let loaded = try CheckpointDirectory(path: run + "/checkpoints").loadLatestValid()
        guard let checkpoint = loaded?.checkpoint else { throw ConfigurationError("the seed run wrote no checkpoint") }
        return SafeTensorsCodec.encode(checkpoint)
    }

    /// Runs one input; returns "restored" or the refusal's message (never traps on bad input).
    @discardableResult
    static func run(_ payload: [UInt8]) -> String {
        let file = scratch + "/input.safetensors.zst", branch = scratch + "/branch"
        try? FileManager.default.removeItem(atPath: branch)
        defer { try? FileManager.default.removeItem(atPath: branch) }
        do {
            try Data(try CheckpointFile.compress(payload: payload, level: 1)).write(to: URL(fileURLWithPath: file))
            let (loop, _) = try TrainingSession.resume(from: file, into: branch, components: { checkpoint in
                let stored = try TrainingCheckpoint.settings(of: checkpoint, path: file) ?? baseSettings
                return try components(stored)
            }, callbacks: callbacks)
            // The same file as a plain parameter source (what `tangent eval` and `tangent ntk` do).
            try TrainingCheckpoint.loadParameters(into: loop.network, from: try CheckpointFile.read(path: file), path: file)
        } catch {
            return "refused: \(error)"  // the expected outcome for most mutated inputs
        }
        return "restored"
    }
}

@main
struct FuzzRestore {
    static func main() throws {
        try FuzzTarget.main(seeds: { [try RestoreTarget.seedPayload()] }, replay: RestoreTarget.run) { bytes, count in
            RestoreTarget.run(Array(UnsafeBufferPointer(start: bytes, count: count)))
            return 0
        }
    }
}
