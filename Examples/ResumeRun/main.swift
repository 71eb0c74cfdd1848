// Interrupts a run in the middle of its second epoch, resumes it from its newest checkpoint, and shows
// that the result is bit-identical to the same run trained straight through — through the library API.
// usage: swift run -c release ResumeRun [FOLDER]
import Foundation
import Tangent

let folder = CommandLine.arguments.dropFirst().first ?? NSTemporaryDirectory() + "tangent-resume-example"
try? FileManager.default.removeItem(atPath: folder)

var config = TrainingConfiguration.paperDefaults(model: .mnistCNN)
config.epochs = 2
config.trainSubset = 2100          // 7 steps of 300 per epoch
config.robustEvalSubset = 200
config.checkpointEverySteps = 5    // besides the checkpoint at every epoch end

/// Stops the run cleanly at `step` (think of a time limit), before that step's checkpoint is written.
final class StopAfterStep: TrainingCallback {
    let step: Int
    init(_ step: Int) { self.step = step }
    func batchEnd(_ loop: TrainingLoop) throws {
        if loop.step == step { throw StopTraining("interrupted after step \(step)") }
    }
}

// 1. The interrupted run: stops at step 10 of 14 (its checkpoints: steps 5 and 7, the end of epoch 1).
let interrupted = try TrainingSession.start(config, runDirectory: folder + "/interrupted") { c, dir in
    TrainingSession.standardCallbacks(c, runDirectory: dir, extra: [StopAfterStep(10)])
}
do { try interrupted.fit() } catch let stop as StopTraining { print(stop) }

// 2. A new loop from the newest checkpoint in that folder finishes the run.
let (resumed, checkpoint) = try TrainingSession.resume(from: folder + "/interrupted") { c, dir in
    TrainingSession.standardCallbacks(c, runDirectory: dir)
}
print("resuming from \(checkpoint) at epoch \(resumed.epoch), step \(resumed.step)")
try resumed.fit()

// 3. The same run without interruption.
let straight = try TrainingSession.start(config, runDirectory: folder + "/straight") { c, dir in
    TrainingSession.standardCallbacks(c, runDirectory: dir)
}
try straight.fit()

let same = zip(resumed.network.namedParameters, straight.network.namedParameters).allSatisfy {
    $0.parameter.value.scalars == $1.parameter.value.scalars
}
let metrics = try [folder + "/interrupted", folder + "/straight"].map {
    try String(contentsOfFile: $0 + "/metrics.jsonl", encoding: .utf8)
}
print("parameters after resume \(same ? "are" : "are NOT") bit-identical to the straight run; metric logs \(metrics[0] == metrics[1] ? "match" : "differ")")
