/// A labelled image data set held in memory: pixels as `Float`s in [0, 1] laid out NCHW
/// (`count × channels × height × width`), one `Int32` class label per image.
public struct ImageDataset: Sendable, Equatable {
    /// A short name for logs and run folders, e.g. `"mnist-train"`.
    public var name: String
    /// The class names; label `k` means `classNames[k]`.
    public let classNames: [String]
    /// The number of images.
    public let count: Int
    /// Channels per image (1 for MNIST, 3 for CIFAR-10).
    public let channels: Int
    /// Image height in pixels.
    public let height: Int
    /// Image width in pixels.
    public let width: Int
    /// All pixels, NCHW, each the source byte divided by 255.
    public let images: [Float]
    /// One label per image, each in `0..<classNames.count`.
    public let labels: [Int32]

    /// The number of `Float`s per image: `channels × height × width`.
    public var imageSize: Int { channels * height * width }

    /// Creates a data set from pixels and labels already in memory.
    ///
    /// - Precondition: `images.count == labels.count × channels × height × width`, the sizes are
    ///   positive and every label is in `0..<classNames.count`.
    public init(name: String, classNames: [String], channels: Int, height: Int, width: Int,
                images: [Float], labels: [Int32]) {
        precondition(channels > 0 && height > 0 && width > 0, "image dimensions must be positive")
        precondition(images.count == labels.count * channels * height * width,
                     "\(images.count) pixel values do not fit \(labels.count) images of \(channels)×\(height)×\(width)")
        precondition(labels.allSatisfy { $0 >= 0 && Int($0) < classNames.count },
                     "every label must index classNames")
        self.name = name
        self.classNames = classNames
        self.count = labels.count
        self.channels = channels
        self.height = height
        self.width = width
        self.images = images
        self.labels = labels
    }

    /// Creates a data set from raw pixel bytes (scaled by 1/255) and label bytes already validated by a
    /// reader.
    init(name: String, classNames: [String], channels: Int, height: Int, width: Int,
         pixelBytes: [UInt8], labelBytes: [UInt8]) {
        self.init(name: name, classNames: classNames, channels: channels, height: height, width: width,
                  images: scaledPixels(pixelBytes), labels: labelBytes.map { Int32($0) })
    }

    /// The first `n` images (all of them when there are fewer than `n`), in order.
    public func firstSubset(_ n: Int) -> ImageDataset {
        precondition(n >= 0, "a subset size cannot be negative")
        let kept = min(n, count)
        return ImageDataset(name: name, classNames: classNames, channels: channels, height: height, width: width,
                            images: Array(images[0..<(kept * imageSize)]), labels: Array(labels[0..<kept]))
    }

    /// The images at `indices`, in that order (repeats allowed).
    ///
    /// - Precondition: every index is in `0..<count`.
    public func subset(indices: [Int]) -> ImageDataset {
        let (subsetImages, subsetLabels) = batch(indices: indices)
        return ImageDataset(name: name, classNames: classNames, channels: channels, height: height, width: width,
                            images: subsetImages, labels: subsetLabels)
    }

    /// A two-class data set holding only the images of `negativeClass` and `positiveClass` (in their
    /// original order), relabelled 0 and 1 respectively — e.g. CIFAR-10 airplane (0) versus
    /// automobile (1). ``signedTargets`` then gives the ±1 targets of a margin loss.
    ///
    /// - Precondition: both classes are valid and different.
    public func filteredBinary(negativeClass: Int, positiveClass: Int) -> ImageDataset {
        precondition(classNames.indices.contains(negativeClass) && classNames.indices.contains(positiveClass),
                     "class indices must be in 0..<\(classNames.count)")
        precondition(negativeClass != positiveClass, "the two classes must differ")
        let negative = Int32(negativeClass), positive = Int32(positiveClass)
        let kept = labels.indices.filter { labels[$0] == negative || labels[$0] == positive }
        let (keptImages, _) = batch(indices: kept)
        let binaryLabels = kept.map { labels[$0] == positive ? Int32(1) : Int32(0) }
        let negativeName = classNames[negativeClass], positiveName = classNames[positiveClass]
        return ImageDataset(name: "\(name)-\(negativeName)-vs-\(positiveName)",
                            classNames: [negativeName, positiveName], channels: channels, height: height,
                            width: width, images: keptImages, labels: binaryLabels)
    }

    /// The labels of a two-class data set as ±1 targets: label 0 → −1, label 1 → +1.
    ///
    /// - Precondition: the data set has exactly two classes (see ``filteredBinary(negativeClass:positiveClass:)``).
    public var signedTargets: [Float] {
        precondition(classNames.count == 2, "signed targets need a two-class data set")
        return labels.map { $0 == 0 ? -1 : 1 }
    }

    /// How many images each class has, indexed by label.
    public func classCounts() -> [Int] {
        var counts = [Int](repeating: 0, count: classNames.count)
        for label in labels { counts[Int(label)] += 1 }
        return counts
    }

    /// Copies the images and labels at `indices` into caller-provided buffers: `images` receives
    /// `indices.count × imageSize` floats, `labels` receives `indices.count` labels.
    ///
    /// - Precondition: every index is in `0..<count` and the buffers are large enough.
    public func gather(indices: ArraySlice<Int>, into images: UnsafeMutablePointer<Float>,
                       labels: UnsafeMutablePointer<Int32>) {
        let size = imageSize
        self.images.withUnsafeBufferPointer { source in
            guard let sourceBase = source.baseAddress else { return }
            var slot = 0
            for index in indices {
                precondition(index >= 0 && index < count, "index \(index) is outside 0..<\(count)")
                (images + slot * size).update(from: sourceBase + index * size, count: size)
                labels[slot] = self.labels[index]
                slot += 1
            }
        }
    }

    /// Copies the images and labels at `indices` into caller-provided buffers; see
    /// the `ArraySlice` overload.
    public func gather(indices: [Int], into images: UnsafeMutablePointer<Float>,
                       labels: UnsafeMutablePointer<Int32>) {
        gather(indices: indices[...], into: images, labels: labels)
    }

    /// The images (NCHW) and labels at `indices` as new arrays.
    ///
    /// - Precondition: every index is in `0..<count`.
    public func batch<Indices: Collection>(indices: Indices) -> (images: [Float], labels: [Int32])
    where Indices.Element == Int {
        let indexArray = Array(indices)
        let size = imageSize
        var batchLabels = [Int32](repeating: 0, count: indexArray.count)
        let batchImages = [Float](unsafeUninitializedCapacity: indexArray.count * size) { buffer, initialized in
            batchLabels.withUnsafeMutableBufferPointer { labelBuffer in
                if let imageBase = buffer.baseAddress, let labelBase = labelBuffer.baseAddress {
                    gather(indices: indexArray[...], into: imageBase, labels: labelBase)
                }
            }
            initialized = indexArray.count * size
        }
        return (batchImages, batchLabels)
    }
}

/// The two halves of a data set as distributed: training and test images.
public struct DatasetSplits: Sendable, Equatable {
    /// The training split.
    public var train: ImageDataset
    /// The test split.
    public var test: ImageDataset

    /// Pairs a training and a test split.
    public init(train: ImageDataset, test: ImageDataset) {
        self.train = train
        self.test = test
    }
}

/// Each byte divided by 255, so 0 → 0 and 255 → 1 exactly.
func scaledPixels(_ bytes: [UInt8]) -> [Float] {
    [Float](unsafeUninitializedCapacity: bytes.count) { buffer, initialized in
        bytes.withUnsafeBufferPointer { source in
            for i in 0..<source.count { buffer[i] = Float(source[i]) / 255 }
        }
        initialized = bytes.count
    }
}
