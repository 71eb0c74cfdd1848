import Foundation
import Tangent
import XCTest

/// Grid expansion and run naming (`SweepGrid`), and a run folder's progress before it starts (`RunProgress`).
final class SweepGridTests: XCTestCase {
    func testTheGridIsEveryCombinationFirstAxisSlowestNamedAfterItsValues() throws {
        let grid = try SweepGrid(axes: [SweepGrid.Axis(name: "eps", values: ["0.1", "0.3"], location: "line 2"),
                                        SweepGrid.Axis(name: "seed", values: ["0", "1", "2"], location: "line 3")])
        let runs = try grid.runs()
        XCTAssertEqual(runs.map(\.name), ["eps-0.1_seed-0", "eps-0.1_seed-1", "eps-0.1_seed-2",
                                          "eps-0.3_seed-0", "eps-0.3_seed-1", "eps-0.3_seed-2"])
        XCTAssertEqual(runs[4].value(of: "eps"), "0.3")
        XCTAssertEqual(runs[4].value(of: "seed"), "1")
        XCTAssertNil(runs[4].value(of: "lr"))
        XCTAssertEqual(try SweepGrid(axes: []).runs().map(\.name), ["base"])
        XCTAssertEqual(SweepGrid.runName([("hidden", "512,256"), ("data-dir", "../x y")]), "hidden-512-256_data-dir-..-x-y")
    }

    func testCollisionsRepeatsAndEmptyAxesAreRefusedNamingThem() throws {
        let colliding = try SweepGrid(axes: [SweepGrid.Axis(name: "data-dir", values: ["a/b", "a b"], location: "grid.yaml line 4")])
        XCTAssertThrowsError(try colliding.runs()) { error in
            XCTAssertTrue("\(error)".contains("share the name 'data-dir-a-b': data-dir=a/b and data-dir=a b"), "\(error)")
        }
        XCTAssertThrowsError(try SweepGrid(axes: [SweepGrid.Axis(name: "lr", values: ["0.1", "0.1"], location: "grid.yaml line 4")])) {
            XCTAssertTrue("\($0)".contains("grid.yaml line 4: axis 'lr' lists the value '0.1' twice"), "\($0)")
        }
        XCTAssertThrowsError(try SweepGrid(axes: [SweepGrid.Axis(name: "lr", values: [], location: "grid.yaml line 5")])) {
            XCTAssertTrue("\($0)".contains("grid.yaml line 5: axis 'lr' has no values"), "\($0)")
        }
        XCTAssertThrowsError(try SweepGrid(axes: [SweepGrid.Axis(name: "lr", values: ["1"], location: "line 5"),
                                                  SweepGrid.Axis(name: "lr", values: ["2"], location: "line 6")])) {
            XCTAssertTrue("\($0)".contains("line 6: axis 'lr' is already given at line 5"), "\($0)")
        }
    }

    func testAFolderThatIsMissingOrEmptyHasNotStartedAndOneWithoutConfigurationIsRefused() throws {
        let root = TestRuns.folder(for: self)
        XCTAssertEqual(try RunProgress.read(runDirectory: root + "/missing").state, .notStarted)
        try FileManager.default.createDirectory(atPath: root + "/empty", withIntermediateDirectories: true)
        XCTAssertEqual(try RunProgress.read(runDirectory: root + "/empty").state, .notStarted)
        try FileManager.default.createDirectory(atPath: root + "/stray", withIntermediateDirectories: true)
        try "x".write(toFile: root + "/stray/notes.txt", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try RunProgress.read(runDirectory: root + "/stray")) {
            XCTAssertTrue("\($0)".contains("stray/config.json does not exist"), "\($0)")
        }
        try "{\"epochs\": \"ten\"}".write(toFile: root + "/empty/config.json", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try RunProgress.read(runDirectory: root + "/empty")) {
            XCTAssertTrue("\($0)".contains("has no whole number 'epochs'"), "\($0)")
        }
    }
}
