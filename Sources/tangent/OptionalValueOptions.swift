/// Options whose value may be left out (`tangent train --tensorboard [DIR]`), which ArgumentParser
/// cannot declare: before parsing, such an option given without a value — at the end of the line or
/// before another option — is followed by an empty argument, which the command reads as "the default".
enum OptionalValueOptions {
    /// The options, by subcommand.
    static let options: [String: Set<String>] = ["train": ["--tensorboard"]]

    /// `arguments` (without the program name) with an empty argument after every bare optional-value
    /// option of the subcommand.
    static func completed(_ arguments: [String]) -> [String] {
        guard let command = arguments.first, let names = options[command] else { return arguments }
        var result: [String] = []
        for (i, argument) in arguments.enumerated() {
            let next = i + 1 < arguments.count ? arguments[i + 1] : nil
            if names.contains(argument), next.map({ $0.hasPrefix("-") }) ?? true {
                result += [argument, ""]
            } else {
                result.append(argument)
            }
        }
        return result
    }
}
