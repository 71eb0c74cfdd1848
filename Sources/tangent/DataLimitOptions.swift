import ArgumentParser
import Tangent

/// `--max-data-bytes`: the bound on the memory of a loaded data set, for every command that loads one.
struct DataLimitOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "The most memory the loaded data set may take (both splits, 4 bytes a pixel), in bytes or with a K, M, G or T suffix (powers of 1024); files declaring more are refused before they are read.",
        valueName: "bytes"))
    var maxDataBytes: String = "4G"

    func validate() throws { _ = try limits() }

    /// The limits `--max-data-bytes` asks for.
    func limits() throws -> DatasetLimits {
        let text = maxDataBytes.uppercased()
        let suffixes: [Character: Int] = ["K": 10, "M": 20, "G": 30, "T": 40]
        let shift = text.last.flatMap { suffixes[$0] } ?? 0
        let digits = shift == 0 ? Substring(text) : text.dropLast()
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber), let count = Int(digits) else {
            throw ValidationError("--max-data-bytes takes a byte count such as 4294967296, 512M or 8G, not '\(maxDataBytes)'")
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: 1 << shift)
        guard !overflow else { throw ValidationError("--max-data-bytes \(maxDataBytes) is more bytes than can be counted") }
        guard bytes > 0 else { throw ValidationError("--max-data-bytes must be above 0, got \(maxDataBytes)") }
        return try DatasetLimits(maxDataBytes: bytes)
    }
}
