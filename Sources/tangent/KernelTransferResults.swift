import Foundation
import Tangent

/// The settings every run of one `tangent kernel transfer` study shares (a saved run is reused only
/// when its header is equal).
struct TransferStudyHeader: Codable, Equatable {
    var dataset: String
    var dataSource: String
    var task: String
    var train: Int
    var test: Int
    var pick: String
    /// η, as the networks take it (Float-rounded).
    var learningRate: Double
    var epochs: Int
    var epsilon: Float
    var pgdSteps: Int
    var pgdStepSize: Float
    var measurementInterval: Int
    /// λ_max(Θ(X, X)), for the stability η·λ_max < 2.
    var largestEigenvalue: Double
}

/// One network of the study: its width, seed and per-epoch measurements.
struct TransferStudyRun: Codable {
    var header: TransferStudyHeader
    var width: Int
    var seed: UInt64
    var seconds: Double
    var epochs: [TransferEpoch]
}

/// results.json, results.csv, similarity.svg and robustness.svg of a study.
struct TransferStudyFiles: Encodable {
    var header: TransferStudyHeader
    var runs: [TransferStudyRun]

    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }

    /// The widths in the order first run.
    var widths: [Int] { runs.reduce(into: [Int]()) { if !$0.contains($1.width) { $0.append($1.width) } } }

    /// The mean over the seeds of width `width` of `value` at `epoch` (nil values skipped).
    func mean(width: Int, epoch: Int, _ value: (TransferEpoch) -> Double?) -> Double? {
        let values = runs.filter { $0.width == width }.compactMap { $0.epochs.first { $0.epoch == epoch }.flatMap(value) }
        return values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
    }

    func write(to folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Self.encoder.encode(self).write(to: folder.appendingPathComponent("results.json"), options: .atomic)
        var csv = "width,seed,epoch,kernel_time,training_loss,training_accuracy,network_accuracy,kernel_accuracy,gradient_similarity,output_gap,kernel_output_scale,own_fgsm,own_pgd,kernel_fgsm,kernel_pgd,kernel_pgd_on_kernel\n"
        for run in runs {
            for e in run.epochs {
                let fields: [String] = [
                    "\(run.width)", "\(run.seed)", "\(e.epoch)", "\(e.kernelTime)", "\(e.trainingLoss)", "\(e.trainingAccuracy)",
                    "\(e.networkAccuracy)", "\(e.kernelAccuracy)", e.gradientSimilarity.map { "\($0)" } ?? "",
                    "\(e.outputGap)", "\(e.kernelOutputScale)", "\(e.ownFGSMAccuracy)", "\(e.ownPGDAccuracy)",
                    "\(e.kernelFGSMAccuracy)", "\(e.kernelPGDAccuracy)", "\(e.kernelPGDOnKernelAccuracy)",
                ]
                csv += fields.joined(separator: ",") + "\n"
            }
        }
        try csv.write(to: folder.appendingPathComponent("results.csv"), atomically: true, encoding: .utf8)

        let epochs = (runs.first?.epochs.map(\.epoch) ?? []).filter { $0 > 0 }
        var similarity = LineChart(title: "Input-gradient cosine similarity, network vs NTK predictor (\(header.task))",
                                   xLabel: "epoch (kernel time)", yLabel: "mean cosine similarity (over seeds)")
        similarity.integerTicksX = true
        for width in widths {
            let points = epochs.compactMap { k in mean(width: width, epoch: k) { $0.gradientSimilarity }.map { (x: Double(k), y: $0) } }
            similarity.add(LineChart.Series(name: "width \(width)", points: points))
        }
        try similarity.write(to: folder.appendingPathComponent("similarity.svg").path)

        var robustness = LineChart(title: String(format: "Network accuracy after %d epochs, ℓ∞ ε = %g (mean over seeds)", header.epochs, header.epsilon),
                                   xLabel: "log₂ width", yLabel: "test accuracy")
        robustness.yRange = 0...1
        let last = header.epochs
        let curves: [(String, (TransferEpoch) -> Double?, Bool)] = [
            ("clean", { $0.networkAccuracy }, false),
            ("own FGSM", { $0.ownFGSMAccuracy }, false), ("own PGD", { $0.ownPGDAccuracy }, false),
            ("kernel FGSM", { $0.kernelFGSMAccuracy }, true), ("kernel PGD", { $0.kernelPGDAccuracy }, true),
        ]
        for (name, value, dashed) in curves {
            let points = widths.sorted().compactMap { w in mean(width: w, epoch: last, value).map { (x: log2(Double(w)), y: $0) } }
            robustness.add(LineChart.Series(name: name, points: points, dashed: dashed))
        }
        try robustness.write(to: folder.appendingPathComponent("robustness.svg").path)
    }
}
