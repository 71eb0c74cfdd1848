import Datasets
import Foundation

/// The standard data sets Tangent reads.
public enum DatasetKind: String, CaseIterable, Codable, Sendable {
    case mnist
    case fashionMNIST = "fashion-mnist"
    case cifar10

    /// The data set called `name` (`mnist`, `fashion-mnist`, `cifar10`), with an error listing the choices.
    public init(name: String) throws {
        guard let d = DatasetKind(rawValue: name) else {
            throw ConfigurationError("unknown dataset '\(name)'; choose one of \(DatasetKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = d
    }
}

/// The training and test sets of a run, and where they came from.
public struct TrainingData: Sendable {
    /// The training set.
    public let train: ImageDataset
    /// The test set.
    public let test: ImageDataset
    /// A human-readable account of the source (path, or the embedded sample).
    public let source: String
    /// True when the embedded MNIST sample stands in for missing data.
    public let isEmbeddedSample: Bool
    /// The order in which test images are taken when only some of them are evaluated (the robust
    /// evaluation's first N): nil for file order; a seeded shuffle for a test file grouped by class
    /// (CIFAR-10's), whose first N images would all be of one class.
    public let testSampleOrder: [Int]?

    /// Data sets with a description of their `source`; `testSampleOrder`, when given, must be a
    /// permutation of the test set's indices.
    public init(train: ImageDataset, test: ImageDataset, source: String, isEmbeddedSample: Bool = false,
                testSampleOrder: [Int]? = nil) {
        self.train = train
        self.test = test
        self.source = source
        self.isEmbeddedSample = isEmbeddedSample
        self.testSampleOrder = testSampleOrder
    }

    /// The first `count` test images in ``testSampleOrder`` (file order when it is nil).
    public func testSample(_ count: Int) -> ImageDataset {
        let n = min(max(count, 0), test.count)
        guard let order = testSampleOrder, order.count == test.count else { return test.firstSubset(n) }
        return test.subset(indices: Array(order.prefix(n)))
    }

    /// Loads a standard data set from `directory` (the standard files), keeping the first `trainSubset`
    /// training images and `testSubset` test images. With no directory, MNIST falls back to the small
    /// sample shipped inside the package (and says so in `source`). Both splits, before subsetting, must
    /// fit `limits`.
    public static func load(_ dataset: DatasetKind, directory: String?, trainSubset: Int? = nil,
                            testSubset: Int? = nil, limits: DatasetLimits = DatasetLimits()) throws -> TrainingData {
        if let n = trainSubset, n < 1 { throw ConfigurationError("the training subset must be positive, got \(n)") }
        if let n = testSubset, n < 1 { throw ConfigurationError("the test subset must be positive, got \(n)") }
        var splits: DatasetSplits
        var source: String
        var embedded = false
        switch (dataset, directory) {
        case (.mnist, nil):
            splits = try MNISTLoader.embeddedSample(limits: limits)
            source = "the embedded MNIST sample (\(splits.train.count) train / \(splits.test.count) test images; give a data folder for the full data set)"
            embedded = true
        case (.fashionMNIST, nil), (.cifar10, nil):
            throw ConfigurationError("\(dataset.rawValue) needs a data folder with its standard files (the `tangent data download` command fetches them)")
        case (.mnist, let dir?):
            splits = try MNISTLoader.load(directory: dir, variant: .mnist, limits: limits)
            source = dir
        case (.fashionMNIST, let dir?):
            splits = try MNISTLoader.load(directory: dir, variant: .fashionMNIST, limits: limits)
            source = dir
        case (.cifar10, let dir?):
            splits = try CIFAR10Loader.load(from: dir, limits: limits)
            source = dir
        }
        var train = splits.train, test = splits.test
        if let n = trainSubset { train = train.firstSubset(min(n, train.count)) }
        if let n = testSubset {
            // CIFAR-10's test batch is grouped by class: take a seeded stratified-looking sample
            // rather than the first N (which would all be airplanes).
            if dataset == .cifar10, n < test.count {
                var rng = Kernels.Xoshiro256(seed: 0x7e57)
                test = test.subset(indices: Array(rng.permutation(test.count).prefix(n)).sorted())
            } else {
                test = test.firstSubset(min(n, test.count))
            }
        }
        // The same grouping makes any "first N" of the (sorted) test subset one or two classes.
        var order: [Int]?
        if dataset == .cifar10 {
            var rng = Kernels.Xoshiro256(seed: 0x7e57_0e0d)
            order = rng.permutation(test.count)
        }
        return TrainingData(train: train, test: test, source: source, isEmbeddedSample: embedded, testSampleOrder: order)
    }
}

import Kernels
