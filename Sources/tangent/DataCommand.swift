import ArgumentParser
import Foundation
import Tangent

/// `tangent data download NAME --into DIR`: fetches the official files and verifies their checksums.
struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data", abstract: "Fetch the standard data sets.", subcommands: [Download.self])

    struct Download: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Download mnist, fashion-mnist or cifar10 and verify the published MD5 checksums.")

        @Argument(help: "mnist | fashion-mnist | cifar10") var dataset: String
        @Option(help: "Destination folder (created if needed).") var into: String
        @Option(help: "Mirror to fetch from instead of the default (same file names).") var baseURL: String?
        @Option(help: "Seconds to wait for each file.") var timeout: Double = 600

        func run() throws {
            guard let which = DownloadableDataset(rawValue: dataset) else {
                throw ValidationError("unknown dataset '\(dataset)'; choose mnist, fashion-mnist or cifar10")
            }
            let paths = try DatasetDownloader.download(which, into: into, baseURL: baseURL, timeout: timeout,
                                                       progress: { print($0) })
            for p in paths { print("verified \(p)") }
            print("use: tangent train --dataset \(dataset) --data-dir \(which == .cifar10 ? paths.first ?? into : into)")
        }
    }
}
