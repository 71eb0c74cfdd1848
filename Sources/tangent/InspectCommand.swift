import ArgumentParser
import Foundation
import Tangent

/// `tangent inspect CHECKPOINT`: what a checkpoint holds.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect", abstract: "Print a checkpoint's epoch, step, configuration and tensors.")

    @Argument(help: "A checkpoint file, or a run folder (its newest checkpoint).") var path: String

    func run() throws {
        let (_, file, checkpoint) = try TrainingSession.locate(path)
        print("checkpoint: \(file)")
        for key in ["model", "epoch", "step", "batch_order_position"] {
            if let v = checkpoint.metadata[key] { print("\(key): \(v)") }
        }
        if let config = checkpoint.metadata["config"] { print("config:\n\(config)") }
        let others = checkpoint.metadata.keys.filter { !["model", "epoch", "step", "batch_order_position", "config"].contains($0) }.sorted()
        if !others.isEmpty {
            print("other metadata:")
            for k in others { print("  \(k): \(checkpoint.metadata[k]!.prefix(120))") }
        }
        print("tensors (\(checkpoint.tensors.count), \(checkpoint.dataByteCount) bytes):")
        let width = checkpoint.names.map(\.count).max() ?? 0
        for t in checkpoint.tensors {
            let name = t.name.padding(toLength: width, withPad: " ", startingAt: 0)
            print("  \(name)  \(t.dtype.rawValue)  \(t.shape)  \(t.elementCount) elements  \(t.bytes.count) bytes")
        }
    }
}
