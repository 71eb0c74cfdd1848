import Autodiff
import Datasets
import Kernels

/// How the images of a kernel task are taken from a data set split.
public enum KernelSampleSelection: String, Sendable, CaseIterable, Codable {
    /// The first N images whose label is a class of the task, in file order: the reference notebook's
    /// choice (on a split whose files are grouped by class it returns one class only).
    case first
    /// The first ⌊N/k⌋ images of each of the task's k classes (the first N mod k classes one more),
    /// kept in file order: the same images as ``first`` on a shuffled split, balanced on a grouped one.
    case perClass = "per-class"
    /// A seeded random sample: the task's images in the order of a shuffle by `Xoshiro256(seed:)` (the
    /// same images for the same seed), for files grouped by class when a mix of classes in their natural
    /// proportions is wanted rather than balanced counts.
    case shuffled
}

/// A data set that does not hold the images a kernel task asks for.
public enum KernelSampleError: Error, CustomStringConvertible, Equatable {
    /// `requested` images of `classes` were asked for from `split`, which holds only `available`.
    case notEnoughImages(split: String, classes: String, requested: Int, available: Int)
    /// A task class that is not a label of the data set (`classCount` classes).
    case classOutsideDataset(split: String, label: Int32, classCount: Int)
    /// A negative number of images was asked for.
    case negativeCount(Int)

    /// A sentence naming the split, the classes and the counts.
    public var description: String {
        switch self {
        case .notEnoughImages(let split, let classes, let requested, let available):
            return "\(split) holds \(available) images of \(classes); \(requested) were asked for"
        case .classOutsideDataset(let split, let label, let classCount):
            return "class \(label) is not a label of \(split), which has classes 0–\(classCount - 1)"
        case .negativeCount(let count):
            return "\(count) images were asked for; the number of images cannot be negative"
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
    /// - Parameters:
    ///   - data: the split the images are taken from.
    ///   - count: how many images.
    ///   - selection: which of the task's images.
    ///   - seed: the seed of ``KernelSampleSelection/shuffled`` (ignored by the other selections).
    /// - Throws: ``KernelSampleError/classOutsideDataset(split:label:classCount:)`` for a task class the
    ///   data set does not have, ``KernelSampleError/notEnoughImages(split:classes:requested:available:)``
    ///   when the split (or, per class, one class) holds fewer images than asked for,
    ///   ``KernelSampleError/negativeCount(_:)``; a task that is not valid (``validate()``).
    public func samples(from data: ImageDataset, count: Int, selection: KernelSampleSelection,
                        seed: UInt64 = 0) throws -> (inputs: Tensor, labels: [Int32]) {
        try samples(from: data, counts: [count], selection: selection, seed: seed)[0]
    }

    /// Disjoint batches of the task's images from one split, e.g. a test and a validation set: the
    /// images `selection` would pick for the sum of `counts`, cut into consecutive parts of those sizes —
    /// for ``KernelSampleSelection/perClass`` each part balanced on its own (part 1 takes the first
    /// ⌊c₁/k⌋ of each class, part 2 the next ⌊c₂/k⌋, …), for ``KernelSampleSelection/shuffled`` the
    /// parts of one seeded shuffle. Within a part, ``KernelSampleSelection/first`` and
    /// ``KernelSampleSelection/perClass`` keep file order.
    /// - Parameters:
    ///   - data: the split the images are taken from.
    ///   - counts: the number of images of each part, in order.
    ///   - selection: which of the task's images.
    ///   - seed: the seed of ``KernelSampleSelection/shuffled`` (ignored by the other selections).
    /// - Throws: as ``samples(from:count:selection:seed:)``, counting the images of all parts.
    public func samples(from data: ImageDataset, counts: [Int], selection: KernelSampleSelection,
                        seed: UInt64 = 0) throws -> [(inputs: Tensor, labels: [Int32])] {
        try validate()
        if let negative = counts.first(where: { $0 < 0 }) { throw KernelSampleError.negativeCount(negative) }
        let wanted = classes
        if let outside = wanted.first(where: { $0 < 0 || Int($0) >= data.classNames.count }) {
            throw KernelSampleError.classOutsideDataset(split: data.name, label: outside, classCount: data.classNames.count)
        }
        let names = wanted.count == 2
            ? "\(data.classNames[Int(wanted[0])]) and \(data.classNames[Int(wanted[1])])"
            : "\(wanted.count) classes"
        let total = counts.reduce(0) { $0.addingReportingOverflow($1).overflow ? Int.max : $0 + $1 }
        var slot = [Int](repeating: -1, count: data.classNames.count)
        for (k, label) in wanted.enumerated() { slot[Int(label)] = k }
        let candidates = data.labels.indices.filter { slot[Int(data.labels[$0])] >= 0 }

        var parts: [[Int]] = []
        switch selection {
        case .first, .shuffled:
            guard candidates.count >= total else {
                throw KernelSampleError.notEnoughImages(split: data.name, classes: names, requested: total,
                                                        available: candidates.count)
            }
            var order = Array(candidates.indices)
            if selection == .shuffled {
                var rng = Xoshiro256(seed: seed)
                order.shuffle(using: &rng)
            }
            var start = 0
            for c in counts {
                parts.append(order[start..<(start + c)].map { candidates[$0] })
                start += c
            }
        case .perClass:
            let k = wanted.count
            var byClass = [[Int]](repeating: [], count: k)
            for i in candidates { byClass[slot[Int(data.labels[i])]].append(i) }
            var used = [Int](repeating: 0, count: k)
            let quotas = counts.map { c in (0..<k).map { c / k + ($0 < c % k ? 1 : 0) } }
            for s in 0..<k {
                let requested = quotas.reduce(0) { $0 + $1[s] }
                guard byClass[s].count >= requested else {
                    throw KernelSampleError.notEnoughImages(split: data.name, classes: data.classNames[Int(wanted[s])],
                                                            requested: requested, available: byClass[s].count)
                }
            }
            for quota in quotas {
                var part: [Int] = []
                for s in 0..<k {
                    part += byClass[s][used[s]..<(used[s] + quota[s])]
                    used[s] += quota[s]
                }
                parts.append(part.sorted())
            }
        }
        return parts.map { indices in
            let (images, labels) = data.batch(indices: indices)
            return (Tensor(shape: [indices.count, data.channels, data.height, data.width], scalars: images), labels)
        }
    }
}
