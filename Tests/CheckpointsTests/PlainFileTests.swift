import Checkpoints
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// ``PlainFile``: reads only regular files, and sweeps exactly the temporary files of interrupted
/// atomic writes whose writer the caller calls abandoned.
final class PlainFileTests: XCTestCase {
    func testReadsRegularFilesAndRefusesOthersNamingThem() throws {
        let root = try makeTemporaryDirectory(self)
        try writeRaw([1, 2, 3], to: root + "/data.jsonl")
        XCTAssertEqual(try PlainFile.read(root + "/data.jsonl"), [1, 2, 3])
        assertCheckpointError(try PlainFile.read(root), kind: .io, path: root, mentions: "not a regular file (a directory)")
        assertCheckpointError(try PlainFile.read(root + "/missing"), kind: .io, path: root + "/missing", mentions: "cannot open")
    }

    func testRemovesOnlyRegularTemporaryFilesOfAbandonedWriters() throws {
        let root = try makeTemporaryDirectory(self)
        let abandoned = ".step-00000001.safetensors.zst.tmp-5"
        for name in [abandoned, ".index.json.tmp-6", "plain.tmp-5", ".notes", ".x.tmp-"] { try writeRaw([0], to: root + "/" + name) }
        XCTAssertEqual(mkfifo(root + "/.fifo.tmp-5", 0o644), 0)
        try FileManager.default.createDirectory(atPath: root + "/.folder.tmp-5", withIntermediateDirectories: false)

        let removed = try PlainFile.removeTemporaryFiles(in: root) { $0 == 5 }
        XCTAssertEqual(removed, [root + "/" + abandoned])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root).sorted(), [".fifo.tmp-5", ".folder.tmp-5", ".index.json.tmp-6", ".notes", ".x.tmp-", "plain.tmp-5"])
        XCTAssertEqual(try PlainFile.removeTemporaryFiles(in: root + "/missing") { _ in true }, [])
    }

    func testProcessExists() throws {
        XCTAssertTrue(PlainFile.processExists(getpid()))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/true")
        try p.run()
        p.waitUntilExit()
        XCTAssertFalse(PlainFile.processExists(p.processIdentifier))
        XCTAssertFalse(PlainFile.processExists(0))
    }
}
