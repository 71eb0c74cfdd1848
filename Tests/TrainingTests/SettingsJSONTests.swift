import Foundation
import Tangent
import XCTest

/// The settings JSON (`config.json`, checkpoint metadata) is flat and readable — an attack is
/// `{"attack": "pgd", "epsilon": …}`, a probe `"first"` or an array of indices — and the Swift enum
/// encoding that earlier runs wrote still decodes.
final class SettingsJSONTests: XCTestCase {
    func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    func testAttacksAndProbesEncodeFlat() throws {
        let pgd = AttackKind.pgd(PGDConfiguration(epsilon: 0.25, stepSize: 0.5, steps: 7, randomStart: true))
        XCTAssertEqual(try json(pgd), #"{"attack":"pgd","clipEveryStep":false,"epsilon":0.25,"randomStart":true,"stepSize":0.5,"steps":7}"#)
        XCTAssertEqual(try json(AttackKind.fgsm(epsilon: 0.5)), #"{"attack":"fgsm","epsilon":0.5}"#)
        XCTAssertEqual(try json([KernelTrackingConfiguration.Probe.first]), #"["first"]"#)
        XCTAssertEqual(try json([KernelTrackingConfiguration.Probe.indices([3, 1, 4])]), "[[3,1,4]]")
        for value in [pgd, .fgsm(epsilon: 0.5)] {
            XCTAssertEqual(try JSONDecoder().decode(AttackKind.self, from: Data(try json(value).utf8)), value)
        }
        var settings = TrainingSettings.paper(cifar: false)
        settings.adversarial = pgd
        settings.kernelTracking = KernelTrackingConfiguration(everyEpoch: true, probe: .indices([0, 2]))
        let text = String(decoding: try settings.jsonData(), as: UTF8.self)
        XCTAssertFalse(text.contains("_0"), text)
        XCTAssertEqual(try JSONDecoder().decode(TrainingSettings.self, from: try settings.jsonData()), settings)
    }

    func testTheEnumEncodingOfEarlierRunsStillDecodes() throws {
        let pgd = #"{"pgd":{"_0":{"clipEveryStep":false,"epsilon":0.3,"randomStart":false,"stepSize":0.01,"steps":20}}}"#
        XCTAssertEqual(try JSONDecoder().decode(AttackKind.self, from: Data(pgd.utf8)),
                       .pgd(PGDConfiguration(epsilon: 0.3, stepSize: 0.01, steps: 20, randomStart: false)))
        XCTAssertEqual(try JSONDecoder().decode(AttackKind.self, from: Data(#"{"fgsm":{"epsilon":0.1}}"#.utf8)), .fgsm(epsilon: 0.1))
        XCTAssertEqual(try JSONDecoder().decode(KernelTrackingConfiguration.Probe.self, from: Data(#"{"first":{}}"#.utf8)), .first)
        XCTAssertEqual(try JSONDecoder().decode(KernelTrackingConfiguration.Probe.self, from: Data(#"{"indices":{"_0":[5,6]}}"#.utf8)),
                       .indices([5, 6]))
    }

    func testUnknownAttacksAndProbesAreRefused() {
        XCTAssertThrowsError(try JSONDecoder().decode(AttackKind.self, from: Data(#"{"attack":"cw","epsilon":1}"#.utf8)))
        XCTAssertThrowsError(try JSONDecoder().decode(KernelTrackingConfiguration.Probe.self, from: Data(#""last""#.utf8)))
    }
}
