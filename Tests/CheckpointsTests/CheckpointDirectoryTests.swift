import Checkpoints
import Foundation
import XCTest

final class CheckpointDirectoryTests: XCTestCase {
    private func checkpoint(step: Int) throws -> Checkpoint {
        try Checkpoint(tensors: [StoredTensor(name: "w", values: [Float(step)])], metadata: ["step": String(step)])
    }

    private func names(in path: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path).sorted()
    }

    func testSaveListsSortedByStepAndPrunesToKeepLast() throws {
        let root = try makeTemporaryDirectory(self)
        let directory = CheckpointDirectory(path: root + "/run/checkpoints", keepLast: 2)
        XCTAssertEqual(try directory.list(), [], "a missing directory has no checkpoints")
        XCTAssertNil(try directory.latest())
        XCTAssertNil(try directory.loadLatestValid())

        for step in [5, 100, 20, 1000] { try directory.save(checkpoint(step: step), step: step) }
        // After saving 20 the files were {20, 100}; 1000 then pruned 20.
        XCTAssertEqual(try directory.list().map(\.step), [100, 1000])
        XCTAssertEqual(try directory.latest()?.step, 1000)
        XCTAssertEqual(try directory.latest()?.path, directory.path + "/step-00001000.safetensors.zst")
        XCTAssertEqual(try directory.load(step: 100), try checkpoint(step: 100))
        let loaded = try XCTUnwrap(directory.loadLatestValid())
        XCTAssertEqual(loaded.entry.step, 1000)
        XCTAssertEqual(loaded.checkpoint, try checkpoint(step: 1000))
        XCTAssertTrue(loaded.skipped.isEmpty)
    }

    func testKeepLastOneKeepsTheFileJustSavedEvenBelowNewerSteps() throws {
        let root = try makeTemporaryDirectory(self)
        let directory = CheckpointDirectory(path: root, keepLast: 0) // treated as 1
        XCTAssertEqual(directory.keepLast, 1)
        try directory.save(checkpoint(step: 300), step: 300)
        try directory.save(checkpoint(step: 200), step: 200) // e.g. resumed from an older file
        XCTAssertEqual(try directory.list().map(\.step), [200, 300])
        try directory.save(checkpoint(step: 400), step: 400)
        XCTAssertEqual(try directory.list().map(\.step), [400])
        // Re-saving a step replaces it.
        try directory.save(checkpoint(step: 7), step: 400)
        XCTAssertEqual(try directory.load(step: 400), try checkpoint(step: 7))
    }

    func testStaleTemporaryFilesAreIgnoredAndCleaned() throws {
        let root = try makeTemporaryDirectory(self)
        let directory = CheckpointDirectory(path: root, keepLast: 3)
        // A half-written file from a writer process that no longer exists, one from a live process (ours is
        // not used: pid 1 always exists), and an unrelated file.
        let deadPID = 2_147_483_000
        let stale = ".step-00000900.safetensors.zst.tmp-\(deadPID)"
        let live = ".step-00000950.safetensors.zst.tmp-1"
        try writeRaw([1, 2, 3], to: root + "/" + stale)
        try writeRaw([1, 2, 3], to: root + "/" + live)
        try writeRaw([9], to: root + "/notes.txt")
        XCTAssertEqual(try directory.list(), [])
        XCTAssertNil(try directory.loadLatestValid())

        try directory.save(checkpoint(step: 10), step: 10)
        XCTAssertEqual(try names(in: root), [live, "notes.txt", "step-00000010.safetensors.zst"])
        XCTAssertEqual(try directory.list().map(\.step), [10])
    }

    func testLoadLatestValidFallsBackWithALoggedReason() throws {
        let root = try makeTemporaryDirectory(self)
        let directory = CheckpointDirectory(path: root, keepLast: 5)
        for step in [1, 2, 3] { try directory.save(checkpoint(step: step), step: step) }
        // Corrupt the newest two: truncation and a foreign file.
        let newest = directory.path(forStep: 3)
        let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: newest)))
        try writeRaw(Array(bytes.prefix(bytes.count - 7)), to: newest)
        try writeRaw(Array("not a checkpoint".utf8), to: directory.path(forStep: 2))

        var messages: [String] = []
        let loaded = try XCTUnwrap(directory.loadLatestValid { messages.append($0) })
        XCTAssertEqual(loaded.entry.step, 1)
        XCTAssertEqual(loaded.checkpoint, try checkpoint(step: 1))
        XCTAssertEqual(loaded.skipped.map(\.path), [newest, directory.path(forStep: 2)])
        XCTAssertEqual(messages.count, 2)
        XCTAssertTrue(messages[0].contains(newest) && messages[0].contains("step 3"), messages[0])
        XCTAssertTrue(messages[1].contains("wrong magic number"), messages[1])

        // Nothing readable at all: one error listing every reason.
        try writeRaw([], to: directory.path(forStep: 1))
        let error = assertCheckpointError(try directory.loadLatestValid { _ in }, kind: .noValidCheckpoint, path: root)
        XCTAssertTrue(error?.description.contains("none of the 3 checkpoint files") ?? false)
    }

    func testAtomicWriteLeavesNoTemporaryFileAndReplacesOldContent() throws {
        let root = try makeTemporaryDirectory(self)
        let path = root + "/model.safetensors.zst"
        try CheckpointFile.write(checkpoint(step: 1), to: path)
        try CheckpointFile.write(checkpoint(step: 2), to: path, level: 19)
        XCTAssertEqual(try names(in: root), ["model.safetensors.zst"])
        XCTAssertEqual(try CheckpointFile.read(path: path), try checkpoint(step: 2))
        // A relative path in the current directory works too.
        let previous = FileManager.default.currentDirectoryPath
        FileManager.default.changeCurrentDirectoryPath(root)
        defer { FileManager.default.changeCurrentDirectoryPath(previous) }
        try CheckpointFile.write(checkpoint(step: 3), to: "relative.safetensors.zst")
        XCTAssertEqual(try CheckpointFile.read(path: "relative.safetensors.zst"), try checkpoint(step: 3))
    }
}
