import Foundation

/// `AttackKind` in JSON (`config.json`, checkpoint settings) as a flat, readable object —
/// `{"attack": "pgd", "epsilon": 0.3, "stepSize": 0.01, "steps": 20, "randomStart": false, "clipEveryStep": false}`
/// or `{"attack": "fgsm", "epsilon": 0.3}` — rather than Swift's enum encoding. The enum encoding that
/// runs written before wrote (`{"pgd": {"_0": {…}}}`, `{"fgsm": {"epsilon": …}}`) still decodes.
extension AttackKind: Codable {
    private enum Key: String, CodingKey { case attack, epsilon, pgd, fgsm }
    private enum EnumPayload: String, CodingKey { case payload = "_0", epsilon }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        if let attack = try container.decodeIfPresent(String.self, forKey: .attack) {
            switch attack {
            case "pgd": self = .pgd(try PGDConfiguration(from: decoder))
            case "fgsm": self = .fgsm(epsilon: try container.decode(Float.self, forKey: .epsilon))
            default:
                throw DecodingError.dataCorruptedError(forKey: .attack, in: container,
                                                       debugDescription: "unknown attack '\(attack)' (pgd or fgsm)")
            }
        } else if container.contains(.pgd) {
            let payload = try container.nestedContainer(keyedBy: EnumPayload.self, forKey: .pgd)
            self = .pgd(try payload.decode(PGDConfiguration.self, forKey: .payload))
        } else if container.contains(.fgsm) {
            let payload = try container.nestedContainer(keyedBy: EnumPayload.self, forKey: .fgsm)
            self = .fgsm(epsilon: try payload.decode(Float.self, forKey: .epsilon))
        } else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "an attack needs \"attack\": \"pgd\" or \"fgsm\""))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        switch self {
        case .pgd(let configuration):
            try container.encode("pgd", forKey: .attack)
            try configuration.encode(to: encoder)
        case .fgsm(let epsilon):
            try container.encode("fgsm", forKey: .attack)
            try container.encode(epsilon, forKey: .epsilon)
        }
    }
}
