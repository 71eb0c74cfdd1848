// Interrupts a run in the middle of its second epoch, resumes it from its newest checkpoint with freshly
// built components (as a new process would), and shows that the result is bit-identical to the same run
// trained straight through.
// usage: swift run -c release ResumeRun [FOLDER]
import Foundation
import Tangent

let folder = CommandLine.arguments.dropFirst().first ?? NSTemporaryDirectory() + "tangent-resume-example"
try? FileManager.default.removeItem(atPath: folder)

let settings: TrainingSettings = {
    var s = TrainingSettings.paper(cifar: false)
    s.epochs = 2
    s.robustEvalSubset = 200
    s.checkpointEverySteps = 5    // besides the checkpoint at every epoch end
    return s
}()

/// The run's values, built the same way every time: the model seeded by the run's seed, Adam with a cosine
/// schedule over the whole run, 2,100 sample images (7 steps of 300 per epoch).
func components() throws -> RunComponents {
    var rng = Xoshiro256(seed: settings.seed)
    return RunComponents(model: PaperModels.mnistCNN(rng: &rng), optimizer: try Adam(learningRate: 1e-3),
                         schedule: try CosineSchedule(rate: 1e-3, totalSteps: 14),
                         data: try TrainingData.load(.mnist, directory: nil, trainSubset: 2100, testSubset: 1000),
                         settings: settings)
}

/// Stops the run cleanly at `step` (think of a time limit), before that step's checkpoint is written.
final class StopAfterStep: TrainingCallback {
    let step: Int
    init(_ step: Int) { self.step = step }
    func batchEnd(_ loop: TrainingLoop) throws {
        if loop.step == step { throw StopTraining("interrupted after step \(step)") }
    }
}

// 1. The interrupted run: stops at step 10 of 14 (its checkpoints: steps 5 and 7, the end of epoch 1).
let interrupted = try TrainingSession.start(try components(), runDirectory: folder + "/interrupted") { s, dir in
    TrainingSession.standardCallbacks(s, runDirectory: dir, extra: [StopAfterStep(10)])
}
do { try interrupted.fit() } catch let stop as StopTraining { print(stop) }

// 2. A new loop from the newest checkpoint in that folder finishes the run: same components, restored state.
let (resumed, checkpoint) = try TrainingSession.resume(from: folder + "/interrupted", components: { _ in try components() }) { s, dir in
    TrainingSession.standardCallbacks(s, runDirectory: dir)
}
print("resuming from \(checkpoint) at epoch \(resumed.epoch), step \(resumed.step)")
try resumed.fit()

// 3. The same run without interruption.
let straight = try TrainingSession.start(try components(), runDirectory: folder + "/straight") { s, dir in
    TrainingSession.standardCallbacks(s, runDirectory: dir)
}
try straight.fit()

let same = zip(resumed.network.namedParameters, straight.network.namedParameters).allSatisfy {
    $0.parameter.value.scalars == $1.parameter.value.scalars
}
let metrics = try [folder + "/interrupted", folder + "/straight"].map {
    try String(contentsOfFile: $0 + "/metrics.jsonl", encoding: .utf8)
}
print("parameters after resume \(same ? "are" : "are NOT") bit-identical to the straight run; metric logs \(metrics[0] == metrics[1] ? "match" : "differ")")
