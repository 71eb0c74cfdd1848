import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Tangent
import XCTest

/// Two small tracked runs — plain SGD and PGD adversarial training of the MNIST CNN on 300 sample images,
/// batch 100, two epochs, the full kernel of the same 10-image probe every epoch, robust evaluation with
/// PGD-3 at ε 0.3 — trained once through `TrainingSession` (so `config.json` holds their settings) and
/// shared by the tests, which only read them.
enum ComparedRuns {
    nonisolated(unsafe) private static var folders: [String: String] = [:]

    /// The runs' robust-evaluation (and PGD-training) attack.
    static let attack = PGDConfiguration(epsilon: 0.3, stepSize: 0.1, steps: 3)

    /// Settings of a run tracking `tracking` (default: the 10-image probe's full kernel each epoch).
    static func settings(adversarial: Bool, epochs: Int = 2,
                         tracking: KernelTrackingConfiguration = KernelTrackingConfiguration(everyEpoch: true, probeSize: 10)) -> TrainingSettings {
        var s = TestRuns.settings(epochs: epochs, batchSize: 100, seed: 0, robustEvalSubset: 20)
        s.robustEvaluationAttack = attack
        if adversarial { s.adversarial = .pgd(attack) }
        s.kernelTracking = tracking
        return s
    }

    /// The run folder trained with `settings` under `name` (trained on first use).
    static func folder(_ name: String, _ settings: @autoclosure () -> TrainingSettings, train: Int = 300) throws -> String {
        if let existing = folders[name], TestRuns.exists(existing) { return existing }
        let dir = NSTemporaryDirectory() + "tangent-compared-\(name)-\(UUID().uuidString)"
        try TrainingSession.start(try TestRuns.mnistCNN(settings(), train: train, test: 100), runDirectory: dir,
                                  callbacks: TestRuns.callbacks()).fit()
        folders[name] = dir
        return dir
    }

    static func standard() throws -> String { try folder("standard", settings(adversarial: false)) }
    static func adversarial() throws -> String { try folder("pgd", settings(adversarial: true)) }

    /// Deletes every trained run.
    static func remove() {
        for dir in folders.values { try? FileManager.default.removeItem(atPath: dir) }
        folders = [:]
    }
}

/// `RunComparison` and `tangent analyze A B …`: overlays labelled per run, ε from the runs' stored settings,
/// refusal of kernels that are not comparable, the index pages (rendered in headless Chromium), and old
/// run folders.
final class RunComparisonTests: XCTestCase {
    override class func tearDown() {
        ComparedRuns.remove()
        super.tearDown()
    }

    private func comparison(_ folders: [String], labels: [String]) throws -> RunComparison {
        try RunComparison(runs: zip(folders, labels).map { folder, label in
            RunComparison.Run(label: label, analysis: try RunAnalysis.compute(runDirectory: folder))
        })
    }

    /// Every text of the SVG file at `path`.
    private func texts(_ path: String) throws -> [String] {
        let document = try XMLDocument(contentsOf: URL(fileURLWithPath: path), options: [])
        return try document.nodes(forXPath: "//*[local-name()='text']").compactMap(\.stringValue)
    }

    /// The x-axis tick labels of the line chart at `path` (centred 11-pixel texts).
    private func xTickLabels(_ path: String) throws -> [String] {
        let document = try XMLDocument(contentsOf: URL(fileURLWithPath: path), options: [])
        return try document.nodes(forXPath: "//*[local-name()='text'][@text-anchor='middle'][@font-size='11']").compactMap(\.stringValue)
    }

    func testOverlaysEveryRunLabelledWithEpsilonFromStoredSettings() throws {
        let standard = try ComparedRuns.standard(), pgd = try ComparedRuns.adversarial()
        let compared = try comparison([standard, pgd], labels: ["standard", "PGD"])
        XCTAssertNil(compared.kernelRefusal)
        XCTAssertEqual(compared.kernelRuns, [0, 1])
        XCTAssertEqual(compared.timeAxis, "epoch")
        for run in compared.runs {
            XCTAssertEqual(run.analysis.robustAttack, ComparedRuns.attack, "ε comes from config.json")
            XCTAssertEqual(run.analysis.velocities.count, 2)
            XCTAssertEqual(run.analysis.spectra.count, 3)
            XCTAssertEqual(run.analysis.spectra[0].count, 50)
            XCTAssertEqual(run.analysis.initialEntries.count, 100, "the whole 100 × 100 kernel fits the default block")
        }

        let out = TestRuns.folder(for: self, prefix: "comparison")
        let written = try compared.write(to: out)
        let overlays = ["kernel_distance_to_initial.svg", "magnitude.svg", "concentration.svg", "eigenvalue_mass.svg",
                        "kernel_velocity.svg", "polar.svg", "polar_top20.svg", "spectrum.svg", "accuracy.svg", "train_accuracy.svg"]
        for name in overlays {
            XCTAssertTrue(written.contains(out + "/" + name), name)
            let text = try texts(out + "/" + name).joined(separator: "\n")
            XCTAssertTrue(text.contains("standard") && text.contains("PGD"), "\(name) labels both runs:\n\(text)")
        }
        // Epoch ticks at integers only (0, 1, 2; a fitted axis would put ticks at 0.5 steps).
        for (name, ticks) in [("kernel_distance_to_initial.svg", ["0", "1", "2"]), ("kernel_velocity.svg", ["1", "2"]),
                              ("accuracy.svg", ["1", "2"])] {
            XCTAssertEqual(try xTickLabels(out + "/" + name), ticks, name)
        }
        // Robust curves name their ε in the legend and on the axis.
        let accuracy = try texts(out + "/accuracy.svg")
        XCTAssertTrue(accuracy.contains("PGD, PGD-3, ε = 0.3"), "\(accuracy)")
        XCTAssertTrue(accuracy.contains("standard, clean"), "\(accuracy)")
        XCTAssertTrue(accuracy.contains("test accuracy (dashed: PGD-3, ε = 0.3)"), "\(accuracy)")

        // Each run's own analysis beside the overlays, and a page showing every chart.
        for folder in ["run-standard", "run-PGD"] {
            for name in ["index.html", "kernel_distance.svg", "kernel_entries_start.svg", "kernel_entries_end.svg", "spectrum.svg"] {
                XCTAssertTrue(TestRuns.exists("\(out)/\(folder)/\(name)"), "\(folder)/\(name)")
            }
        }
        let index = try String(contentsOfFile: out + "/index.html", encoding: .utf8)
        for name in overlays + ["run-standard/kernel_entries_start.svg", "run-PGD/kernel_entries_end.svg"] {
            XCTAssertTrue(index.contains("<img src=\"\(name)\""), "index.html shows \(name)")
        }
        XCTAssertTrue(index.contains("run-PGD/index.html") && index.contains("comparison.csv"))
        let runIndex = try String(contentsOfFile: out + "/run-standard/index.html", encoding: .utf8)
        let runCharts = try FileManager.default.contentsOfDirectory(atPath: out + "/run-standard").filter { $0.hasSuffix(".svg") }
        XCTAssertEqual(runCharts.count, 10)
        for name in runCharts { XCTAssertTrue(runIndex.contains("<img src=\"\(name)\""), "the run's page shows \(name)") }

        // The long-form CSV agrees with the analyses.
        let rows = try String(contentsOfFile: out + "/comparison.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(rows[0], "run,metric,epoch,step,value")
        let norm = try XCTUnwrap(rows.first { $0.hasPrefix("PGD,kernel_norm,2,") })
        XCTAssertEqual(Double(norm.split(separator: ",")[4]) ?? 0, compared.runs[1].analysis.magnitudes[2], accuracy: 0)
        XCTAssertEqual(rows.filter { $0.hasPrefix("standard,kernel_velocity,") }.count, 2)
    }

    func testKernelsOfDifferentProbesOrKindsAreNotOverlaid() throws {
        let standard = try ComparedRuns.standard()
        // The same kernels claimed for other probe images: index.json names the probe.
        let moved = TestRuns.folder(for: self, prefix: "other-probe")
        try FileManager.default.copyItem(atPath: standard, toPath: moved)
        let indexPath = moved + "/kernels/index.json"
        var index = try XCTUnwrap(try KernelSnapshotStore.readIndex(runDirectory: moved))
        index.probe = Array(100..<110)
        try index.jsonData().write(to: URL(fileURLWithPath: indexPath))

        let differentProbe = try comparison([standard, moved], labels: ["first", "moved"])
        let reason = try XCTUnwrap(differentProbe.kernelRefusal)
        XCTAssertTrue(reason.contains("different probes") && reason.contains("100, 101, 102, …, 109"), reason)
        XCTAssertEqual(differentProbe.kernelRuns, [])
        XCTAssertEqual(differentProbe.figures().map(\.file), ["accuracy.svg", "train_accuracy.svg"], "accuracy still overlays")
        let out = TestRuns.folder(for: self, prefix: "comparison")
        try differentProbe.write(to: out)
        XCTAssertFalse(TestRuns.exists(out + "/polar.svg"))
        let page = try String(contentsOfFile: out + "/index.html", encoding: .utf8)
        XCTAssertTrue(page.contains("Kernels are not overlaid") && page.contains("different probes"))

        let traced = try ComparedRuns.folder("traced", ComparedRuns.settings(
            adversarial: false, epochs: 1, tracking: KernelTrackingConfiguration(everyEpoch: true, probeSize: 10, kind: .traced)), train: 100)
        let differentKind = try comparison([standard, traced], labels: ["full", "traced"])
        let kindReason = try XCTUnwrap(differentKind.kernelRefusal)
        XCTAssertTrue(kindReason.contains("full kernels") && kindReason.contains("traced kernels"), kindReason)

        // A run without kernels joins the accuracy charts only; the others still overlay.
        let untracked = try ComparedRuns.folder("untracked", {
            var s = ComparedRuns.settings(adversarial: false, epochs: 1)
            s.kernelTracking = nil
            return s
        }(), train: 100)
        let mixed = try comparison([standard, untracked, try ComparedRuns.adversarial()], labels: ["a", "b", "c"])
        XCTAssertNil(mixed.kernelRefusal)
        XCTAssertEqual(mixed.kernelRuns, [0, 2])
        XCTAssertEqual(mixed.color(2), SeriesPalette.color(2), "a run keeps its colour on every chart")

        XCTAssertThrowsError(try comparison([standard, moved], labels: ["same", "same"])) {
            XCTAssertTrue("\($0)".contains("two runs are labelled 'same'"), "\($0)")
        }
        XCTAssertThrowsError(try RunComparison.labels(for: [standard, moved], given: ["one"])) {
            XCTAssertTrue("\($0)".contains("1 labels for 2 runs"), "\($0)")
        }
    }

    func testAnalyzeCommandComparesRunsAndChecksItsLabels() throws {
        let standard = try ComparedRuns.standard(), pgd = try ComparedRuns.adversarial()
        let out = TestRuns.folder(for: self, prefix: "cli-comparison")
        let compared = try TangentProcess.run(["analyze", standard, pgd, "--label", "std", "--label", "adv", "--out", out])
        XCTAssertEqual(compared.status, 0, compared.output)
        XCTAssertTrue(compared.output.contains("open \(out)/index.html"), compared.output)
        XCTAssertTrue(try texts(out + "/polar.svg").contains("adv"))

        // Kernels of another probe: the accuracy comparison is written, the kernel overlays are refused, saying why.
        let moved = TestRuns.folder(for: self, prefix: "other-probe")
        try FileManager.default.copyItem(atPath: standard, toPath: moved)
        var index = try XCTUnwrap(try KernelSnapshotStore.readIndex(runDirectory: moved))
        index.probe = Array(100..<110)
        try index.jsonData().write(to: URL(fileURLWithPath: moved + "/kernels/index.json"))
        let refusedOut = TestRuns.folder(for: self, prefix: "cli-refused")
        let refused = try TangentProcess.run(["analyze", standard, moved, "--out", refusedOut])
        XCTAssertEqual(refused.status, 0, refused.output)
        XCTAssertTrue(refused.output.contains("kernels not overlaid") && refused.output.contains("different probes"), refused.output)
        XCTAssertTrue(TestRuns.exists(refusedOut + "/accuracy.svg") && !TestRuns.exists(refusedOut + "/magnitude.svg"))

        let miscounted = try TangentProcess.run(["analyze", standard, pgd, "--label", "std"])
        XCTAssertNotEqual(miscounted.status, 0)
        XCTAssertTrue(miscounted.output.contains("--label was given 1 times for 2 runs"), miscounted.output)
        let none = try TangentProcess.run(["analyze"])
        XCTAssertNotEqual(none.status, 0)
        XCTAssertTrue(none.output.contains("give at least one run folder"), none.output)
    }

    /// The index pages in a real browser: the screenshot shows the charts (their series colours, a fair
    /// share of inked pixels) — and the same page with its charts missing does not pass that check.
    func testIndexPagesRenderInHeadlessChromium() throws {
        _ = try HeadlessBrowser.executable()
        let out = TestRuns.folder(for: self, prefix: "rendered")
        try comparison([try ComparedRuns.standard(), try ComparedRuns.adversarial()], labels: ["standard", "PGD"]).write(to: out)

        let shot = try PNGImage(path: try HeadlessBrowser.screenshot(of: out + "/index.html"))
        XCTAssertEqual(shot.width, 1600)
        XCTAssertGreaterThan(shot.inkedFraction, 0.05, "the comparison page looks blank")
        XCTAssertGreaterThan(shot.count(near: SeriesPalette.color(0)), 2000, "run 1's curves are not on the page")
        XCTAssertGreaterThan(shot.count(near: SeriesPalette.color(1)), 2000, "run 2's curves are not on the page")
        XCTAssertGreaterThan(shot.count(near: Colormap.viridis.hex(1), tolerance: 20), 100, "the kernel heatmaps are not on the page")

        let single = try PNGImage(path: try HeadlessBrowser.screenshot(of: out + "/run-standard/index.html"))
        XCTAssertGreaterThan(single.inkedFraction, 0.05, "the run's page looks blank")
        XCTAssertGreaterThan(single.count(near: Colormap.viridis.hex(0), tolerance: 20), 2000, "the heatmaps are not on the page")
        XCTAssertGreaterThan(single.count(near: SeriesPalette.color(0)), 500, "the curves are not on the page")

        // Control: the same page without its charts shows only text.
        let bare = TestRuns.folder(for: self, prefix: "bare")
        try FileManager.default.createDirectory(atPath: bare, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: out + "/index.html", toPath: bare + "/index.html")
        let empty = try PNGImage(path: try HeadlessBrowser.screenshot(of: bare + "/index.html"))
        XCTAssertLessThan(empty.count(near: SeriesPalette.color(0)), 200)
        XCTAssertLessThan(empty.inkedFraction, 0.05)
    }

    func testOldRunFoldersStillAnalyse() throws {
        // A folder written by the old binary: no kernels, no robust attack in config.json.
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/run-written-before-open-loop").path
        let old = TestRuns.folder(for: self, prefix: "old-run")
        try FileManager.default.copyItem(atPath: fixture, toPath: old)
        let analysis = try RunAnalysis.compute(runDirectory: old)
        XCTAssertNil(analysis.robustAttack)
        let written = try analysis.write().map { ($0 as NSString).lastPathComponent }
        XCTAssertEqual(Set(written), ["accuracy.csv", "accuracy.svg", "analysis.json", "index.html"])
        XCTAssertTrue(try texts(old + "/analysis/accuracy.svg").contains("test, PGD, ε not recorded"))
        // The command line knows the data set's default attack of such runs.
        let analyzed = try TangentProcess.run(["analyze", old])
        XCTAssertEqual(analyzed.status, 0, analyzed.output)
        XCTAssertTrue(try texts(old + "/analysis/accuracy.svg").contains("test, PGD-20, ε = 0.3"))

        // A tracked run whose log predates the eigenvalue-mass metric: the analysis works from the kernels.
        let tracked = TestRuns.folder(for: self, prefix: "no-new-metrics")
        try FileManager.default.copyItem(atPath: try ComparedRuns.standard(), toPath: tracked)
        let log = tracked + "/metrics.jsonl"
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").filter { !$0.contains("eigenvalue_mass") }
        try (lines.joined(separator: "\n") + "\n").write(toFile: log, atomically: true, encoding: .utf8)
        let reanalysed = try RunAnalysis.compute(runDirectory: tracked)
        let logged = try TestRuns.values(try ComparedRuns.standard(), "ntk_eigenvalue_mass_top20")
        XCTAssertEqual(reanalysed.eigenvalueMass[1].count, 3)
        for (x, y) in zip(reanalysed.eigenvalueMass[1], logged) { XCTAssertEqual(x, y, accuracy: 1e-6) }
    }

    func testStoredRobustAttackIsCheckedNotGuessed() throws {
        let run = TestRuns.folder(for: self, prefix: "stored-attack")
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        XCTAssertNil(try RunAnalysis.storedRobustAttack(runDirectory: run), "no config.json: unknown")
        try #"{"robustEvaluationAttack": {"epsilon": 0.03137255, "stepSize": 0.0078, "steps": 7, "randomStart": false, "clipEveryStep": false}}"#
            .write(toFile: run + "/config.json", atomically: true, encoding: .utf8)
        let attack = try XCTUnwrap(try RunAnalysis.storedRobustAttack(runDirectory: run))
        XCTAssertEqual(RunAnalysis.describe(attack), "PGD-7, ε = 8/255")
        XCTAssertEqual(RunAnalysis.describe(PGDConfiguration(epsilon: 0.2, stepSize: 0.01)), "PGD-20, ε = 0.2")
        XCTAssertEqual(RunAnalysis.describe(PGDConfiguration(epsilon: 1e30, stepSize: 1, steps: 1)), "PGD-1, ε = 1e+30")
        XCTAssertEqual(RunAnalysis.describe(nil), "PGD, ε not recorded")
        for (bad, expected) in [(#"{"robustEvaluationAttack": 0.3}"#, "'robustEvaluationAttack' is not an attack setting"),
                                (#"{"robustEvaluationAttack": {"epsilon": -1, "stepSize": 0.1, "steps": 2, "randomStart": false, "clipEveryStep": false}}"#,
                                 "'robustEvaluationAttack' is not an attack setting"),
                                ("[1, 2", "is not a JSON object")] {
            try bad.write(toFile: run + "/config.json", atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try RunAnalysis.storedRobustAttack(runDirectory: run)) {
                XCTAssertTrue("\($0)".contains(expected) && "\($0)".contains("config.json"), "\($0)")
            }
        }
    }
}
