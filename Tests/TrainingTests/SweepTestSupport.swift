import Foundation
import Tangent
import XCTest

/// Grid files and processes for the `tangent sweep` tests.
enum SweepTestSupport {
    /// `train:` options of a run of a second or two on the embedded MNIST sample.
    static let tinyRun = """
    train:
      model: mlp
      hidden: 16
      epochs: 2
      train-subset: 300
      test-subset: 50
      batch-size: 50
      eval-train-subset: 50
      robust-eval-subset: 0

    """

    /// `two-layer:` options of a run of a fraction of a second: a quadratic teacher in dimension 6, 40
    /// training samples in batches of 10 (4 steps an epoch), width 16, an ℓ2 evaluation attack.
    static let tinyTwoLayer = """
    two-layer:
      dimension: 6
      quadratic-rank: 2
      train-size: 40
      test-size: 20
      width: 16
      batch-size: 10
      lr: 0.05
      eval-epsilon: 0.1
      attack-steps: 2
      centred: true
      epochs: 2

    """

    /// The command-line options of ``tinyTwoLayer`` (its epochs excepted).
    static let tinyTwoLayerArguments = ["--dimension", "6", "--quadratic-rank", "2", "--train-size", "40", "--test-size", "20",
                                        "--width", "16", "--batch-size", "10", "--lr", "0.05", "--eval-epsilon", "0.1",
                                        "--attack-steps", "2", "--centred"]

    /// Writes `text` as `name` in `folder` (created) and returns its path.
    static func writeSpec(_ text: String, named name: String = "grid.yaml", in folder: String) throws -> String {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Runs `tangent ARGUMENTS` to the end with `environment` added (or PATH replaced), returning its
    /// status and its output and errors together.
    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
        try TangentProcess.run(arguments, environment: environment)
    }

    /// The model's parameters in the newest checkpoint of `run` (name → bytes).
    static func parameters(of run: String) throws -> [String: [UInt8]] {
        let (_, checkpoint) = try TestRuns.latestCheckpoint(run)
        var result: [String: [UInt8]] = [:]
        for name in TestRuns.parameterNames(in: checkpoint) { result[name] = try checkpoint.tensor(named: name).bytes }
        return result
    }
}
