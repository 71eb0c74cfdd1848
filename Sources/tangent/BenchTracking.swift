import Foundation
import Tangent

/// `tangent bench --task tracking`: where the time of one kernel-tracking event goes (issue 15's
/// "kernel tracking ≤ 10 % of an epoch"): the probe's NTK, its leading eigenvalues by block Krylov
/// (what the tracker uses) beside LAPACK's `ssyevr` (what it used), the distances to K₀ and the previous
/// kernel, the kernel file with its checksum, and what embedding K₀ and the previous kernel in every
/// checkpoint cost before checkpoints referenced the files instead.
enum BenchTracking {
    /// One record per part, median milliseconds over `reps`.
    static func parts(_ net: Module, probe: Tensor, options: EmpiricalNTK.Options, reps: Int) throws -> [[String: Any]] {
        var kernel = try EmpiricalNTK.compute(net, inputs: probe, options: options)
        let ntk = try BenchLayers.medianMilliseconds(reps: reps) { kernel = try EmpiricalNTK.compute(net, inputs: probe, options: options) }
        let count = KernelDynamicsCallback.concentrationRanks.max() ?? 20
        var krylov: [Double] = [], lapack: [Double] = []
        let krylovMs = try BenchLayers.medianMilliseconds(reps: reps) {
            krylov = try KernelMetrics.blockKrylovEigenvalues(kernel, count: count)
        }
        let lapackMs = try BenchLayers.medianMilliseconds(reps: reps) {
            lapack = try SymmetricEigen.eigenvalues(kernel.values, dimension: kernel.n, selecting: .largest(count)).map { Double($0) }
        }
        let worst = zip(krylov, lapack).map { abs($0 - $1) / max(abs($1), 1e-30) }.max() ?? 0
        var shifted = kernel
        for i in shifted.values.indices { shifted.values[i] *= 1.01 }
        let metrics = try BenchLayers.medianMilliseconds(reps: reps) {
            _ = try KernelMetrics.distance(kernel, shifted)
            _ = try KernelMetrics.distance(kernel, kernel)
            _ = kernel.squaredFrobeniusNorm + kernel.trace
        }
        let folder = NSTemporaryDirectory() + "tangent-bench-tracking-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/kernel.safetensors.zst"
        let file = try BenchLayers.medianMilliseconds(reps: reps) { try KernelFile.write(kernel, to: path) }
        let fileBytes = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        var embedded = Checkpoint(metadata: [:])
        try embedded.append(StoredTensor(name: "initial_kernel", values: kernel.values, shape: [kernel.n, kernel.n]))
        try embedded.append(StoredTensor(name: "previous_kernel", values: shifted.values, shape: [kernel.n, kernel.n]))
        var embeddedBytes = 0
        let embedding = try BenchLayers.medianMilliseconds(reps: reps) {
            embeddedBytes = try CheckpointFile.encode(embedded).count
        }
        let total = ntk + krylovMs + metrics + file
        return [
            ["part": "ntk", "median_ms": ntk, "side": kernel.n],
            ["part": "top_\(count)_eigenvalues_block_krylov", "median_ms": krylovMs, "worst_relative_difference_to_lapack": worst],
            ["part": "top_\(count)_eigenvalues_lapack_ssyevr", "median_ms": lapackMs],
            ["part": "distances_and_norms", "median_ms": metrics],
            ["part": "kernel_file_with_checksum", "median_ms": file, "file_bytes": fileBytes],
            ["part": "tracking_total", "median_ms": total, "with_lapack_and_embedding_ms": total - krylovMs + lapackMs + embedding],
            ["part": "checkpoint_embedding_two_kernels_before", "median_ms": embedding, "bytes": embeddedBytes],
        ]
    }
}
