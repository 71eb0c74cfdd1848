import Foundation
import Tangent
import XCTest

/// The same seed gives the same run bit for bit whatever the number of threads: convolutions sum
/// their batch reductions in fixed image groups and GEMM splits never cut the summed dimension.
/// Eigenvalue-based kernel metrics are the exception: LAPACK runs on OpenBLAS's own threads, whose
/// reductions differ in the last bits with the thread count.
final class ThreadCountDeterminismTests: XCTestCase {
    func testOneThreadAndTwoThreadsTrainTheSameRun() throws {
        let root = TangentProcess.temporaryFolder(for: self, prefix: "tangent-threads")
        // Standard training, a PGD-trained epoch with robust evaluation, and kernel tracking: every hot path.
        let common = ["train", "--train-subset", "600", "--test-subset", "100", "--batch-size", "100", "--epochs", "2",
                      "--eval-train-subset", "100", "--robust-eval-subset", "50", "--adversarial", "pgd", "--steps", "3",
                      "--ntk-every-epoch", "--ntk-probe-size", "8", "--seed", "5"]
        var runs: [String] = []
        for threads in [1, 2] {
            let dir = root + "/threads\(threads)", log = root + "/threads\(threads).log"
            let p = try TangentProcess.launch(common + ["--run-dir", dir], errors: log,
                                              environment: ["TANGENT_THREADS": "\(threads)"])
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
            runs.append(dir)
        }
        let checkpoints = try runs.map { try XCTUnwrap(try CheckpointDirectory(path: $0 + "/checkpoints").loadLatestValid()).checkpoint }
        for tensor in checkpoints[0].tensors where tensor.name.contains("weight") || tensor.name.contains("bias") {
            XCTAssertEqual(tensor.bytes, try checkpoints[1].tensor(named: tensor.name).bytes, "\(tensor.name) differs")
        }
        let metrics = try runs.map { try String(contentsOfFile: $0 + "/metrics.jsonl", encoding: .utf8) }
        // Wall-clock timings and LAPACK's eigenvalues (and the concentration computed from them) may differ.
        let exact = metrics.map {
            $0.split(separator: "\n").filter { !$0.contains("_seconds") && !$0.contains("eigenvalue") && !$0.contains("concentration") }
        }
        XCTAssertEqual(exact[0], exact[1])
        XCTAssertTrue(exact[0].contains { $0.contains("ntk_norm") } && exact[0].contains { $0.contains("train_loss") })
    }
}
