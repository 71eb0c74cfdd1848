import ArgumentParser
import Foundation
import Tangent

/// `tangent data download NAME --into DIR`: fetches the official files and verifies their sizes and
/// checksums.
struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data", abstract: "Fetch the standard data sets.", subcommands: [Download.self])

    struct Download: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Download mnist, fashion-mnist or cifar10 and verify the published sizes and MD5 checksums.",
            discussion: "Each file is streamed into a hidden temporary file inside --into, never beyond its "
                + "published size, and renamed into place once its checksum matches; a failed or stalled "
                + "transfer leaves nothing behind.")

        @Argument(help: "mnist | fashion-mnist | cifar10") var dataset: String
        @Option(help: "Destination folder (created if needed).") var into: String
        @Option(help: "Mirror to fetch from instead of the default (same file names).") var baseURL: String?
        @Option(help: "Seconds each file may take in all.") var timeout: Double = 600
        @Option(help: "Seconds a transfer may go without receiving any data before it is abandoned.") var idleTimeout: Double = 60

        func validate() throws {
            _ = try which()
            guard !into.isEmpty else { throw ValidationError("--into must name a folder") }
            guard timeout.isFinite, timeout > 0 else {
                throw ValidationError("--timeout must be a finite number of seconds above 0, got \(timeout)")
            }
            guard idleTimeout.isFinite, idleTimeout > 0 else {
                throw ValidationError("--idle-timeout must be a finite number of seconds above 0, got \(idleTimeout)")
            }
        }

        func which() throws -> DownloadableDataset {
            guard let which = DownloadableDataset(rawValue: dataset) else {
                throw ValidationError("unknown dataset '\(dataset)'; choose mnist, fashion-mnist or cifar10")
            }
            return which
        }

        func run() throws {
            let which = try which()
            let paths = try DatasetDownloader.download(which, into: into, baseURL: baseURL, timeout: timeout,
                                                       idleTimeout: idleTimeout, progress: { print($0) })
            for p in paths { print("verified \(p)") }
            print("use: tangent train --dataset \(dataset) --data-dir \(which == .cifar10 ? paths.first ?? into : into)")
        }
    }
}
