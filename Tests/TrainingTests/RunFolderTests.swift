import Foundation
import Tangent
import XCTest

/// Run folders have an owner: one writer at a time (an advisory lock naming the holder's pid), no new run
/// on top of an old one unless asked to move it aside.
final class RunFolderTests: XCTestCase {
    func testASecondWriterIsRefusedWithTheHoldersPid() throws {
        let dir = TestRuns.folder(for: self)
        let first = try TrainingSession.start(try TestRuns.mnistCNN(TestRuns.settings(epochs: 1)), runDirectory: dir,
                                              callbacks: TestRuns.callbacks())
        // The first loop holds the folder from its opening until its fit ends.
        let pid = "in use by another process (pid \(ProcessInfo.processInfo.processIdentifier))"
        XCTAssertThrowsError(try RunLock(runDirectory: dir)) { XCTAssertTrue("\($0)".contains(pid), "\($0)") }
        XCTAssertThrowsError(try TrainingSession.start(try TestRuns.mnistCNN(TestRuns.settings(epochs: 1)), runDirectory: dir,
                                                       overwrite: true, callbacks: TestRuns.callbacks())) { error in
            XCTAssertTrue("\(error)".contains(pid), "a folder in use is never moved aside: \(error)")
        }
        try first.fit()
        XCTAssertNoThrow(try RunLock(runDirectory: dir), "fit releases the lock when it returns")
    }

    func testANewRunIntoAFolderThatHoldsOneIsRefusedUnlessMovedAside() throws {
        let dir = TestRuns.folder(for: self)
        try TrainingSession.start(try TestRuns.mnistCNN(TestRuns.settings(epochs: 1)), runDirectory: dir,
                                  callbacks: TestRuns.callbacks()).fit()
        let metrics = try String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8)
        XCTAssertThrowsError(try TrainingSession.start(try TestRuns.mnistCNN(TestRuns.settings(epochs: 1, seed: 8)),
                                                       runDirectory: dir, callbacks: TestRuns.callbacks())) { error in
            XCTAssertTrue("\(error)".contains("is not empty"), "\(error)")
        }
        XCTAssertEqual(try String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8), metrics, "the old run is untouched")

        let fresh = try TrainingSession.start(try TestRuns.mnistCNN(TestRuns.settings(epochs: 1, seed: 8)), runDirectory: dir,
                                              overwrite: true, callbacks: TestRuns.callbacks())
        try fresh.fit()
        let parent = (dir as NSString).deletingLastPathComponent, name = (dir as NSString).lastPathComponent
        let aside = try FileManager.default.contentsOfDirectory(atPath: parent).filter { $0.hasPrefix(name + ".replaced-") }
        XCTAssertEqual(aside.count, 1)
        for folder in aside { addTeardownBlock { try? FileManager.default.removeItem(atPath: parent + "/" + folder) } }
        XCTAssertEqual(try String(contentsOfFile: parent + "/" + aside[0] + "/metrics.jsonl", encoding: .utf8), metrics,
                       "the old run moved aside whole")
        XCTAssertNotEqual(try String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8), metrics)
    }
}
