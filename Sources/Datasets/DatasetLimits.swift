/// Bounds on what the data set readers may allocate, checked against the sizes a file declares (IDX
/// header dimensions, tar member sizes, CIFAR-10 batch file sizes) before anything of that size is
/// allocated or decompressed.
///
/// ``maxDataBytes`` bounds the memory of the loaded data set: every image as `Float`s (4 bytes a pixel)
/// plus one `Int32` label, training and test split together. The full CIFAR-10 takes about 737 MB and
/// MNIST about 220 MB, well under the default of 4 GiB. While loading, the readers also hold the files'
/// raw bytes (one per pixel) for a moment.
public struct DatasetLimits: Sendable, Equatable {
    /// The default bound on a loaded data set's memory: 4 GiB.
    public static let defaultMaxDataBytes = 4 << 30

    /// The most bytes the loaded data set may occupy in memory (see the type's description).
    public let maxDataBytes: Int

    /// The default limits.
    public init() {
        maxDataBytes = Self.defaultMaxDataBytes
    }

    /// Limits with a bound of `maxDataBytes`, which must be positive.
    public init(maxDataBytes: Int) throws {
        guard maxDataBytes > 0 else {
            throw DatasetLimitError.invalid("the data size limit must be a positive number of bytes; got \(maxDataBytes)")
        }
        self.maxDataBytes = maxDataBytes
    }

    /// The memory `count` images of `pixelsPerImage` pixels take once loaded (pixels as `Float`, one
    /// `Int32` label each), or `nil` when that overflows an `Int`.
    public static func inMemoryBytes(images count: Int, pixelsPerImage: Int) -> Int? {
        let labelBytes = MemoryLayout<Int32>.size
        let (imageBytes, o1) = pixelsPerImage.multipliedReportingOverflow(by: MemoryLayout<Float>.size)
        let (perImage, o2) = imageBytes.addingReportingOverflow(labelBytes)
        let (total, o3) = perImage.multipliedReportingOverflow(by: count)
        return o1 || o2 || o3 ? nil : total
    }
}

/// Limits asked for with values they cannot take.
public enum DatasetLimitError: Error, CustomStringConvertible, Equatable {
    /// The value is out of range; the text says which and why.
    case invalid(String)

    /// The explanation.
    public var description: String {
        switch self { case .invalid(let s): return s }
    }
}

/// What one load may still allocate: the readers charge each split's declared size to it before reading
/// the split, so the sum over the files of a data set stays within ``DatasetLimits/maxDataBytes``.
final class DataBudget {
    let limits: DatasetLimits
    private(set) var charged = 0

    init(_ limits: DatasetLimits) { self.limits = limits }

    /// Reserves the memory of `count` images of `pixelsPerImage` pixels declared by the file at `path`,
    /// or throws ``DatasetError/tooLarge(path:detail:)`` describing `what` the file declares.
    func charge(images count: Int, pixelsPerImage: Int, path: String, what: String) throws {
        let limit = limits.maxDataBytes
        guard let bytes = DatasetLimits.inMemoryBytes(images: count, pixelsPerImage: pixelsPerImage),
              bytes <= limit - charged else {
            let size = DatasetLimits.inMemoryBytes(images: count, pixelsPerImage: pixelsPerImage)
                .map { "\($0) bytes" } ?? "more bytes than an Int can count"
            let already = charged > 0 ? " with the \(charged) bytes of the files read before it" : ""
            throw DatasetError.tooLarge(
                path: path,
                detail: "\(what) would take \(size) in memory, which\(already) exceeds the limit of \(limit) bytes on a loaded data set")
        }
        charged += bytes
    }
}
