// Trains one epoch, stops, and resumes the same run from its checkpoint for a second epoch, through
// the library API. The result is bit-identical to two epochs straight.
// usage: swift run -c release ResumeRun [RUN_DIR]
import Foundation
import Tangent

let runDirectory = CommandLine.arguments.dropFirst().first ?? NSTemporaryDirectory() + "tangent-resume-example"
try? FileManager.default.removeItem(atPath: runDirectory)

var config = TrainingConfiguration.paperDefaults(model: .mnistCNN)
config.epochs = 1
config.trainSubset = 2000
config.robustEvalSubset = 200

// First session: one epoch, checkpointed at its end (the default).
let first = try TrainingSession.start(config, runDirectory: runDirectory) { c, dir in
    TrainingSession.standardCallbacks(c, runDirectory: dir)
}
try first.fit()
print("stopped after epoch \(first.epoch), step \(first.step)")

// Second session: a new loop from the newest checkpoint, extended to two epochs.
let (resumed, checkpoint) = try TrainingSession.resume(from: runDirectory, adjust: { $0.epochs = 2 }) { c, dir in
    TrainingSession.standardCallbacks(c, runDirectory: dir)
}
print("resumed from \(checkpoint)")
try resumed.fit()
print("finished at epoch \(resumed.epoch), step \(resumed.step); metrics in \(runDirectory)/metrics.jsonl")
