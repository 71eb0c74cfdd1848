import Autodiff
import Checkpoints
import Foundation

extension KernelFile {
    /// The name of the probe-inputs tensor ([N, C, H, W], F32) a kernel file may hold beside the kernel.
    public static let inputsTensorName = "inputs"
    /// The name of the probe-labels tensor ([N], I32) stored with the inputs.
    public static let labelsTensorName = "labels"

    /// The tensors that store a probe in a kernel file: its inputs (as the kernel saw them, e.g. attacked)
    /// and its labels.
    public static func probeTensors(inputs: Tensor, labels: [Int32]) throws -> [StoredTensor] {
        [try StoredTensor(name: inputsTensorName, values: inputs.scalars, shape: inputs.shape),
         try StoredTensor(name: labelsTensorName, values: labels)]
    }

    /// The probe a kernel file stores beside its kernel (see ``probeTensors(inputs:labels:)``), or nil when
    /// it holds none. The inputs must be a finite F32 batch of at least two dimensions, the labels one I32
    /// per input, and — when the file's metadata gives `samples` — as many inputs as the kernel has
    /// samples; anything else is an error naming `path` and the tensor.
    public static func probeInputs(in file: Checkpoint, path: String) throws -> (inputs: Tensor, labels: [Int32])? {
        guard let stored = file[inputsTensorName] else { return nil }
        func fail(_ problem: String) -> ConfigurationError { ConfigurationError("\(path): \(problem)") }
        guard let labelTensor = file[labelsTensorName] else {
            throw fail("holds probe '\(inputsTensorName)' but no '\(labelsTensorName)'")
        }
        guard stored.shape.count >= 2, stored.shape.allSatisfy({ $0 >= 1 }) else {
            throw fail("'\(inputsTensorName)' has shape \(stored.shape), expected a batch [N, …] of images")
        }
        let values: [Float], labels: [Int32]
        do {
            values = try stored.floats()
            labels = try labelTensor.int32s()
        } catch let error as CheckpointError {
            throw fail("the probe tensors are not F32 inputs and I32 labels (\(error.message))")
        }
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw fail("'\(inputsTensorName)' element \(bad) is \(values[bad]); probe inputs are finite")
        }
        let count = stored.shape[0]
        guard labelTensor.shape == [count], labels.count == count else {
            throw fail("'\(labelsTensorName)' has shape \(labelTensor.shape), expected [\(count)] (one label per input)")
        }
        if let samples = file.metadata["samples"], samples != String(count) {
            throw fail("'\(inputsTensorName)' holds \(count) inputs but the kernel has \(samples) samples")
        }
        return (Tensor(shape: stored.shape, scalars: values), labels)
    }

    /// Reads the probe stored in the kernel file at `path` (nil when it holds none); see
    /// ``probeInputs(in:path:)``.
    public static func readProbeInputs(path: String) throws -> (inputs: Tensor, labels: [Int32])? {
        try probeInputs(in: CheckpointFile.read(path: path), path: path)
    }
}
