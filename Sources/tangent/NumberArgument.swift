import ArgumentParser

/// A real number on the command line, written as a decimal (`0.031`) or a fraction (`8/255`, as attack
/// radii are usually quoted). Only finite values parse.
struct NumberArgument: ExpressibleByArgument {
    /// The number.
    let value: Float

    init?(argument: String) {
        guard let value = Self.parse(argument) else { return nil }
        self.value = value
    }

    /// `text` as a finite number (decimal or `a/b` with b ≠ 0), or nil.
    static func parse(_ text: String) -> Float? {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: "/", omittingEmptySubsequences: false)
        let value: Float?
        switch parts.count {
        case 1: value = Float(parts[0])
        case 2:
            guard let numerator = Float(parts[0]), let denominator = Float(parts[1]), denominator != 0 else { return nil }
            value = numerator / denominator
        default: value = nil
        }
        return value.flatMap { $0.isFinite ? $0 : nil }
    }

    /// Comma-separated numbers (`0.1,8/255`), each finite and not negative, for `option`'s error message.
    static func nonNegativeList(_ text: String, option: String) throws -> [Float] {
        try text.split(separator: ",").map { part in
            guard let v = parse(String(part)), v >= 0 else {
                throw ValidationError("\(option): '\(part)' is not a finite non-negative number (decimal or fraction such as 8/255)")
            }
            return v
        }
    }
}
