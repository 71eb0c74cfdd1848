import ArgumentParser

/// Lists of eigen-features (or of feature counts) on the command line: comma-separated whole numbers
/// and ranges, `1-100,1500-2000/100` (a range `A-B` from A to B, `A-B/S` every S-th), each value at
/// least 1 and listed once, kept in the order written.
enum FeatureListArgument {
    /// The largest value accepted (no kernel machine here has more training images).
    static let maximum = 1 << 24

    /// The values of `text` (each at least `minimum`: 1 for features, 0 for epochs), for `option`'s
    /// error messages.
    static func parse(_ text: String, option: String, minimum: Int = 1) throws -> [Int] {
        var values: [Int] = []
        var seen = Set<Int>()
        let items = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        for item in items {
            let usage = "\(option): '\(item)' is not a number or range (write N, A-B or A-B/STEP with whole numbers from \(minimum), e.g. \(minimum)-100,1500-2000/100)"
            let stepParts = item.split(separator: "/", omittingEmptySubsequences: false)
            guard stepParts.count <= 2 else { throw ValidationError(usage) }
            let bounds = stepParts[0].split(separator: "-", omittingEmptySubsequences: false)
            guard bounds.count <= 2, let low = Int(bounds[0]), let high = Int(bounds.last ?? ""), low >= minimum else {
                throw ValidationError(usage)
            }
            let step = stepParts.count == 2 ? Int(stepParts[1]) : 1
            guard let step, step >= 1, bounds.count == 2 || stepParts.count == 1 else { throw ValidationError(usage) }
            guard high <= maximum else {
                throw ValidationError("\(option): \(high) is more features than a kernel machine here can have (at most \(maximum))")
            }
            guard low <= high else {
                throw ValidationError("\(option): the range '\(item)' runs backwards; write the smaller number first")
            }
            for j in stride(from: low, through: high, by: step) {
                guard seen.insert(j).inserted else {
                    throw ValidationError("\(option): \(j) is listed twice")
                }
                values.append(j)
            }
        }
        return values
    }

    /// Refuses features beyond the number of training images: a kernel machine on N images has
    /// features 1…N. `images` says where the training images come from (default: `--train N`).
    static func checkFeatures(_ features: [Int], train: Int, option: String, images: String? = nil) throws {
        if let beyond = features.first(where: { $0 > train }) {
            throw ValidationError("\(option): feature \(beyond) does not exist: \(images ?? "--train \(train)") gives features 1…\(train), one per training image")
        }
    }

    /// The features of `text`, checked against `--train`; without it, features 1…`first` (at most
    /// `train` of them).
    static func features(_ text: String?, default first: Int, train: Int, option: String) throws -> [Int] {
        guard let text else { return Array(1...max(1, min(first, train))) }
        let list = try parse(text, option: option)
        try checkFeatures(list, train: train, option: option)
        return list
    }
}
