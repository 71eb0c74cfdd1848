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
