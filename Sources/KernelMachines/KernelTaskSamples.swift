import Autodiff
import Datasets

/// How the images of a kernel task are taken from a data set split.
public enum KernelSampleSelection: String, Sendable, CaseIterable, Codable {
    /// The first N images whose label is a class of the task, in file order: the reference notebook's
    /// choice (on a split whose files are grouped by class it returns one class only).
    case first
    /// The first ⌊N/k⌋ images of each of the task's k classes (the first N mod k classes one more),
    /// kept in file order: the same images as ``first`` on a shuffled split, balanced on a grouped one.
    case perClass = "per-class"
}

/// A data set that does not hold the images a kernel task asks for.
public enum KernelSampleError: Error, CustomStringConvertible, Equatable {
    /// `requested` images of `classes` were asked for from `split`, which holds only `available`.
    case notEnoughImages(split: String, classes: String, requested: Int, available: Int)
    /// A task class that is not a label of the data set (`classCount` classes).
    case classOutsideDataset(split: String, label: Int32, classCount: Int)

    /// A sentence naming the split, the classes and the counts.
    public var description: String {
        switch self {
        case .notEnoughImages(let split, let classes, let requested, let available):
            return "\(split) holds \(available) images of \(classes); \(requested) were asked for"
        case .classOutsideDataset(let split, let label, let classCount):
            return "class \(label) is not a label of \(split), which has classes 0–\(classCount - 1)"
        }
    }
}

extension KernelTask {
    /// The labels the task is fitted to: its two classes (negative first), or 0..<C.
    public var classes: [Int32] {
        switch self {
        case .binary(let negative, let positive): return [negative, positive]
        case .multiclass(let count): return (0..<count).map { Int32(truncatingIfNeeded: $0) }
        }
    }

    /// `count` images of the task's classes from `data` as an NCHW batch with their original labels (the
    /// labels a ``KernelPredictor`` of this task reads).
    /// - Throws: ``KernelSampleError/classOutsideDataset(split:label:classCount:)`` for a task class the
    ///   data set does not have, ``KernelSampleError/notEnoughImages(split:classes:requested:available:)``
    ///   when the split (or, per class, one class) holds fewer images than asked for; a task that is not
    ///   valid (``validate()``).
    public func samples(from data: ImageDataset, count: Int,
                        selection: KernelSampleSelection) throws -> (inputs: Tensor, labels: [Int32]) {
        try validate()
        let wanted = classes
        if let outside = wanted.first(where: { $0 < 0 || Int($0) >= data.classNames.count }) {
            throw KernelSampleError.classOutsideDataset(split: data.name, label: outside, classCount: data.classNames.count)
        }
        let names = wanted.count == 2
            ? "\(data.classNames[Int(wanted[0])]) and \(data.classNames[Int(wanted[1])])"
            : "\(wanted.count) classes"
        var slot = [Int](repeating: -1, count: data.classNames.count)
        for (k, label) in wanted.enumerated() { slot[Int(label)] = k }
        var indices: [Int] = []
        switch selection {
        case .first:
            indices = data.labels.indices.filter { slot[Int(data.labels[$0])] >= 0 }
            guard indices.count >= count else {
                throw KernelSampleError.notEnoughImages(split: data.name, classes: names, requested: count, available: indices.count)
            }
            indices = Array(indices.prefix(count))
        case .perClass:
            let k = wanted.count
            let quota = (0..<k).map { count / k + ($0 < count % k ? 1 : 0) }
            var taken = [Int](repeating: 0, count: k)
            for i in data.labels.indices {
                let s = slot[Int(data.labels[i])]
                if s >= 0, taken[s] < quota[s] {
                    taken[s] += 1
                    indices.append(i)
                }
            }
            if let short = (0..<k).first(where: { taken[$0] < quota[$0] }) {
                throw KernelSampleError.notEnoughImages(split: data.name, classes: data.classNames[Int(wanted[short])],
                                                        requested: quota[short], available: taken[short])
            }
        }
        let (images, labels) = data.batch(indices: indices)
        return (Tensor(shape: [indices.count, data.channels, data.height, data.width], scalars: images), labels)
    }
}
