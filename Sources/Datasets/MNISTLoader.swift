import Foundation

/// The two data sets distributed as MNIST-style IDX files.
public enum MNISTVariant: String, Sendable, CaseIterable, Codable {
    /// Handwritten digits 0–9 (LeCun & Cortes).
    case mnist
    /// Zalando's Fashion-MNIST: ten kinds of clothing in the same format.
    case fashionMNIST = "fashion-mnist"

    /// The class names, indexed by label.
    public var classNames: [String] {
        switch self {
        case .mnist:
            return (0...9).map(String.init)
        case .fashionMNIST:
            return ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
        }
    }
}

/// Loads MNIST and Fashion-MNIST from the four official IDX files.
public enum MNISTLoader {
    /// The base names of the four files: training images and labels, test images and labels.
    public static let fileBaseNames = (
        trainImages: "train-images-idx3-ubyte", trainLabels: "train-labels-idx1-ubyte",
        testImages: "t10k-images-idx3-ubyte", testLabels: "t10k-labels-idx1-ubyte")

    /// Loads both splits from `directory`, which holds the four files either gzip-compressed
    /// (`train-images-idx3-ubyte.gz`, as distributed) or plain (`train-images-idx3-ubyte`, also accepted
    /// with a dot before `idx`, as some unpackers write it). Both splits together must fit `limits`;
    /// each file's declared size is checked before it is read.
    public static func load(directory: String, variant: MNISTVariant = .mnist,
                            limits: DatasetLimits = DatasetLimits()) throws -> DatasetSplits {
        guard isDirectory(directory) else {
            throw DatasetError.fileNotFound(path: directory, detail: "expected a folder with the \(variant.rawValue) IDX files")
        }
        let names = fileBaseNames
        let budget = DataBudget(limits)
        let train = try IDXFile.readDataset(
            imagesPath: try locate(names.trainImages, in: directory),
            labelsPath: try locate(names.trainLabels, in: directory),
            name: "\(variant.rawValue)-train", classNames: variant.classNames, budget: budget)
        let test = try IDXFile.readDataset(
            imagesPath: try locate(names.testImages, in: directory),
            labelsPath: try locate(names.testLabels, in: directory),
            name: "\(variant.rawValue)-test", classNames: variant.classNames, budget: budget)
        return DatasetSplits(train: train, test: test)
    }

    /// The path of the file with base name `baseName` in `directory`: the `.gz` if present, otherwise the
    /// plain file.
    public static func locate(_ baseName: String, in directory: String) throws -> String {
        let dotted = baseName.replacingOccurrences(of: "-idx", with: ".idx")
        let candidates = [baseName + ".gz", baseName, dotted + ".gz", dotted]
        for candidate in candidates where isRegularFile(joinPath(directory, candidate)) {
            return joinPath(directory, candidate)
        }
        throw DatasetError.fileNotFound(path: joinPath(directory, baseName + ".gz"),
                                        detail: "also tried \(candidates.dropFirst().joined(separator: ", "))")
    }

    /// The number of training and test images in the embedded sample.
    public static let embeddedSampleCounts = (train: 5_000, test: 1_000)

    /// The folder of the MNIST sample shipped inside the package: the first 5,000 training and first
    /// 1,000 test images of the official files, as gzip-compressed IDX files (CC BY-SA 3.0, see the
    /// README beside them).
    public static func embeddedSampleDirectory() throws -> String {
        let subpath = "Resources/mnist-sample"
        if let resources = Bundle.module.resourceURL {
            let folder = resources.appendingPathComponent(subpath).path
            if isDirectory(folder) { return folder }
        }
        let folder = Bundle.module.bundleURL.appendingPathComponent(subpath).path
        guard isDirectory(folder) else {
            throw DatasetError.fileNotFound(path: folder, detail: "the embedded MNIST sample is missing from the bundle")
        }
        return folder
    }

    /// The embedded MNIST sample (5,000 training / 1,000 test images), so training works with no data
    /// on disk. The splits are named `mnist-sample-train` and `mnist-sample-test`.
    public static func embeddedSample(limits: DatasetLimits = DatasetLimits()) throws -> DatasetSplits {
        var splits = try load(directory: embeddedSampleDirectory(), variant: .mnist, limits: limits)
        splits.train.name = "mnist-sample-train"
        splits.test.name = "mnist-sample-test"
        return splits
    }
}
