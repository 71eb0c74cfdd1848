import Datasets
import Foundation

/// The training and test sets of a run, and where they came from.
public struct TrainingData: Sendable {
    public let train: ImageDataset
    public let test: ImageDataset
    /// A human-readable account of the source (path, or the embedded sample).
    public let source: String
    /// True when the embedded MNIST sample stands in for missing data.
    public let isEmbeddedSample: Bool

    public init(train: ImageDataset, test: ImageDataset, source: String, isEmbeddedSample: Bool = false) {
        self.train = train
        self.test = test
        self.source = source
        self.isEmbeddedSample = isEmbeddedSample
    }

    /// Loads the configured data set, applying the subset options. With no data folder given,
    /// MNIST falls back to the small sample shipped inside the package (and says so in `source`).
    public static func load(_ config: TrainingConfiguration) throws -> TrainingData {
        var splits: DatasetSplits
        var source: String
        var embedded = false
        switch (config.dataset, config.dataDirectory) {
        case (.mnist, nil):
            splits = try MNISTLoader.embeddedSample()
            source = "the embedded MNIST sample (\(splits.train.count) train / \(splits.test.count) test images; pass --data-dir for the full data set)"
            embedded = true
        case (.fashionMNIST, nil), (.cifar10, nil):
            throw ConfigurationError("\(config.dataset.rawValue) needs --data-dir (fetch the files with `tangent data download \(config.dataset.rawValue) --into DIR`)")
        case (.mnist, let dir?):
            splits = try MNISTLoader.load(directory: dir, variant: .mnist)
            source = dir
        case (.fashionMNIST, let dir?):
            splits = try MNISTLoader.load(directory: dir, variant: .fashionMNIST)
            source = dir
        case (.cifar10, let dir?):
            splits = try CIFAR10Loader.load(from: dir)
            source = dir
        }
        var train = splits.train, test = splits.test
        if let n = config.trainSubset { train = train.firstSubset(min(n, train.count)) }
        if let n = config.testSubset {
            // CIFAR-10's test batch is grouped by class: take a seeded stratified-looking sample
            // rather than the first N (which would all be airplanes).
            if config.dataset == .cifar10, n < test.count {
                var rng = Kernels.Xoshiro256(seed: 0x7e57)
                test = test.subset(indices: Array(rng.permutation(test.count).prefix(n)).sorted())
            } else {
                test = test.firstSubset(min(n, test.count))
            }
        }
        return TrainingData(train: train, test: test, source: source, isEmbeddedSample: embedded)
    }
}

import Kernels
