import Foundation
import Plots
import TensorBoard
import XCTest

/// Event files on disk: names, a round trip through the reader, damaged files refused with the offset,
/// folders that cannot take files refused; and the same files read by the real `tensorboard` package.
final class EventFileTests: XCTestCase {
    private func folder() -> String {
        let path = NSTemporaryDirectory() + "tensorboard-test-\(UUID().uuidString)"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    private func sampleEvents() throws -> [TensorBoardEvent] {
        let picture = try RasterImage(width: 2, height: 2, colorModel: .grey, pixels: [0, 64, 128, 255])
        return [
            TensorBoardEvent(wallTime: 1_700_000_001, step: 1, payload: .summary([TensorBoardSummaryValue(tag: "train/loss", .scalar(2.5))])),
            TensorBoardEvent(wallTime: 1_700_000_002, step: 2, payload: .summary([
                TensorBoardSummaryValue(tag: "train/loss", .scalar(1.25)),
                TensorBoardSummaryValue(tag: "ntk/eigenvalues", .histogram(try TensorBoardHistogram(values: [0.5, 1, 4, 9], bucketCount: 3))),
                TensorBoardSummaryValue(tag: "picture", .image(try TensorBoardImage(picture))),
            ])),
        ]
    }

    func testWriterNamesTheFileAndStartsWithTheFileVersion() throws {
        let dir = folder()
        let date = Date(timeIntervalSince1970: 1_700_000_000.75)
        let writer = try EventFileWriter(directory: dir + "/nested", date: date, host: "box")
        XCTAssertEqual((writer.path as NSString).lastPathComponent, "events.out.tfevents.1700000000.box")
        let events = try sampleEvents()
        try writer.write(events)
        let read = try EventFileReader.events(inFile: writer.path)
        XCTAssertEqual(read.first, TensorBoardEvent(wallTime: 1_700_000_000.75, step: 0, payload: .fileVersion("brain.Event:2")))
        XCTAssertEqual(Array(read.dropFirst()), events)
    }

    func testALaterWriterInTheSameSecondSortsAfterTheFirst() throws {
        let dir = folder()
        let date = Date(timeIntervalSince1970: 1_700_000_000)
        let first = try EventFileWriter(directory: dir, date: date, host: "box")
        let second = try EventFileWriter(directory: dir, date: date, host: "box")
        let third = try EventFileWriter(directory: dir, date: date, host: "abc")  // a host name sorting first
        XCTAssertEqual(try EventFileWriter.eventFiles(in: dir), [first.path, second.path, third.path].map { ($0 as NSString).lastPathComponent })
        XCTAssertEqual((second.path as NSString).lastPathComponent, "events.out.tfevents.1700000001.box")
    }

    func testDamagedFilesAreRefusedWithTheOffset() throws {
        let dir = folder()
        let writer = try EventFileWriter(directory: dir, host: "box")
        try writer.write(try sampleEvents())
        let good = [UInt8](try Data(contentsOf: URL(fileURLWithPath: writer.path)))
        let firstRecord = TFRecord.frame(try EventFileReader.events(in: good, source: "x")[0].encoded()).count

        var flipped = good
        flipped[firstRecord + 20] ^= 0x01  // inside the second record's payload
        XCTAssertThrowsError(try EventFileReader.events(in: flipped, source: "f")) {
            XCTAssertTrue("\($0)".contains("data checksum of the record at offset \(firstRecord)"), "\($0)")
        }
        var badLength = good
        badLength[firstRecord] ^= 0x40
        XCTAssertThrowsError(try EventFileReader.events(in: badLength, source: "f")) {
            XCTAssertTrue("\($0)".contains("length checksum of the record at offset \(firstRecord)"), "\($0)")
        }
        XCTAssertThrowsError(try EventFileReader.events(in: Array(good.dropLast(3)), source: "f")) {
            XCTAssertTrue("\($0)".contains("declares"), "\($0)")
        }
        XCTAssertThrowsError(try EventFileReader.events(in: good + [1, 2, 3], source: "f")) {
            XCTAssertTrue("\($0)".contains("too few for a record header"), "\($0)")
        }
        // A well-framed record whose payload is not an Event.
        XCTAssertThrowsError(try EventFileReader.events(in: TFRecord.frame([0x0F]), source: "f")) {
            XCTAssertTrue("\($0)".contains("malformed"), "\($0)")
        }
        // Appending bytes that are not whole records is refused before anything is written.
        XCTAssertThrowsError(try writer.write(records: Array(good.prefix(5))))
        XCTAssertEqual([UInt8](try Data(contentsOf: URL(fileURLWithPath: writer.path))), good)
    }

    func testFoldersThatCannotTakeFilesAreRefused() throws {
        let dir = folder()
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let file = dir + "/plain-file"
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        XCTAssertThrowsError(try EventFileWriter(directory: file)) { XCTAssertTrue("\($0)".contains("is a file, not a folder"), "\($0)") }
        XCTAssertThrowsError(try EventFileWriter(directory: file + "/sub")) {
            XCTAssertTrue("\($0)".contains("cannot create the TensorBoard folder \(file)/sub"), "\($0)")
        }
        XCTAssertThrowsError(try EventFileReader.events(inFile: dir)) { XCTAssertTrue("\($0)".contains("not a regular file"), "\($0)") }
    }

    /// The real reader: TensorBoard's own record reader (which checks both checksums) and its event
    /// accumulator must see the scalars, the histogram and the image as written.
    func testTheTensorBoardPackageReadsTheFile() throws {
        let check = Process()
        check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        check.arguments = ["python3", "-c", "import tensorboard.backend.event_processing.event_accumulator"]
        check.standardOutput = FileHandle.nullDevice
        check.standardError = FileHandle.nullDevice
        guard (try? check.run()) != nil, { check.waitUntilExit(); return check.terminationStatus == 0 }() else {
            throw XCTSkip("python3 with the tensorboard package is not installed (python3 -m pip install tensorboard)")
        }
        let dir = folder()
        let writer = try EventFileWriter(directory: dir, host: "box")
        try writer.write(try sampleEvents())
        try writer.write([TensorBoardEvent(wallTime: 1_700_000_003, step: 3, payload: .summary([TensorBoardSummaryValue(tag: "train/loss", .scalar(9))])),
                          TensorBoardEvent(wallTime: 1_700_000_004, step: 3, payload: .sessionLog(.start)),
                          TensorBoardEvent(wallTime: 1_700_000_005, step: 3, payload: .summary([TensorBoardSummaryValue(tag: "train/loss", .scalar(0.75))]))])
        let script = #"""
        import sys
        from tensorboard.backend.event_processing import event_file_loader
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
        path, folder = sys.argv[1], sys.argv[2]
        events = list(event_file_loader.LegacyEventFileLoader(path).Load())
        assert events[0].file_version == "brain.Event:2", events[0]
        assert events[1].step == 1 and events[1].summary.value[0].simple_value == 2.5, events[1]
        assert events[4].session_log.status == 1, events[4]
        acc = EventAccumulator(folder, size_guidance={"scalars": 0, "histograms": 0, "images": 0})
        acc.Reload()
        # The START at step 3 drops the value written before it at step 3; the one written after it stays.
        assert [(e.step, e.value) for e in acc.Scalars("train/loss")] == [(1, 2.5), (2, 1.25), (3, 0.75)], acc.Scalars("train/loss")
        (h,) = acc.Histograms("ntk/eigenvalues")
        v = h.histogram_value
        assert (h.step, v.min, v.max, v.num, v.sum, v.sum_squares) == (2, 0.5, 9.0, 4.0, 14.5, 98.25), h
        assert list(v.bucket_limit) == [3.3333333333333335, 6.166666666666667, 9.0] and list(v.bucket) == [2.0, 1.0, 1.0], v
        (img,) = acc.Images("picture")
        assert (img.step, img.width, img.height) == (2, 2, 2), img
        assert img.encoded_image_string[:8] == b"\x89PNG\r\n\x1a\n"
        print("OK")
        """#
        let run = Process()
        run.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        run.arguments = ["python3", "-c", script, writer.path, dir]
        let pipe = Pipe()
        run.standardOutput = pipe
        run.standardError = pipe
        try run.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        run.waitUntilExit()
        XCTAssertEqual(run.terminationStatus, 0, output)
        XCTAssertTrue(output.contains("OK"), output)
    }
}
