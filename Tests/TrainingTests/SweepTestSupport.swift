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

    /// Writes each case's grid file into its own folder under `root` and runs `tangent sweep FILE
    /// --local`: it must fail with the case's expected text in its output, without a trap, and write
    /// nothing beside the file.
    static func assertRefused(_ cases: [(String, String)], in root: String,
                              file: StaticString = #filePath, line: UInt = #line) throws {
        for (index, (text, expected)) in cases.enumerated() {
            let folder = root + "/case\(index)"
            let spec = try writeSpec(text, in: folder)
            let result = try run(["sweep", spec, "--local"])
            XCTAssertNotEqual(result.status, 0, text, file: file, line: line)
            XCTAssertTrue(result.output.contains(expected), "case \(index): expected '\(expected)' in: \(result.output)", file: file, line: line)
            XCTAssertFalse(result.output.contains("Fatal error"), result.output, file: file, line: line)
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["grid.yaml"], "something was written for case \(index)",
                           file: file, line: line)
        }
    }

    /// The model's parameters in the newest checkpoint of `run` (name → bytes).
    static func parameters(of run: String) throws -> [String: [UInt8]] {
        let (_, checkpoint) = try TestRuns.latestCheckpoint(run)
        var result: [String: [UInt8]] = [:]
        for name in TestRuns.parameterNames(in: checkpoint) { result[name] = try checkpoint.tensor(named: name).bytes }
        return result
    }
}
