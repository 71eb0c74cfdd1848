/// The images of an IDX3 image file: `count` greyscale images of `rows × columns` bytes, row-major.
public struct IDXImages: Sendable, Equatable {
    /// The number of images.
    public var count: Int
    /// Image height in pixels.
    public var rows: Int
    /// Image width in pixels.
    public var columns: Int
    /// `count × rows × columns` pixel bytes, image after image.
    public var pixels: [UInt8]
}

/// Reader for the IDX format of MNIST and Fashion-MNIST (gzip-compressed when the name ends in `.gz`).
///
/// An IDX file is a big-endian header (two zero bytes, a type byte `0x08` for unsigned bytes, the number
/// of dimensions, then one 32-bit size per dimension) followed by exactly the bytes the sizes promise.
/// The reader checks all of it and reports any deviation as a ``DatasetError`` naming the file.
public enum IDXFile {
    /// Magic number of an unsigned-byte IDX file with three dimensions (images).
    public static let imagesMagic: UInt32 = 0x0000_0803
    /// Magic number of an unsigned-byte IDX file with one dimension (labels).
    public static let labelsMagic: UInt32 = 0x0000_0801

    /// Reads an image file (`…-images-idx3-ubyte[.gz]`). The declared size is checked against `limits`
    /// (counting the pixels as `Float`s, as ``ImageDataset`` holds them) and against what the file can
    /// hold before anything of that size is read.
    public static func readImages(at path: String, limits: DatasetLimits = DatasetLimits()) throws -> IDXImages {
        try readImages(at: path, budget: DataBudget(limits))
    }

    /// Reads a label file (`…-labels-idx1-ubyte[.gz]`) and checks every label is below `classCount`; the
    /// declared count is checked against `limits` (as `Int32` labels) and the file before reading.
    public static func readLabels(at path: String, classCount: Int = 10,
                                  limits: DatasetLimits = DatasetLimits()) throws -> [UInt8] {
        try readLabels(at: path, classCount: classCount, budget: DataBudget(limits), images: nil)
    }

    /// Reads an image file and its label file into an ``ImageDataset``, checking that they hold the same
    /// number of examples (before the labels are read) and that the data set fits `limits`.
    public static func readDataset(imagesPath: String, labelsPath: String, name: String, classNames: [String],
                                   limits: DatasetLimits = DatasetLimits()) throws -> ImageDataset {
        try readDataset(imagesPath: imagesPath, labelsPath: labelsPath, name: name, classNames: classNames,
                        budget: DataBudget(limits))
    }

    /// ``readDataset(imagesPath:labelsPath:name:classNames:limits:)`` charging `budget`, shared by the
    /// splits of one data set.
    static func readDataset(imagesPath: String, labelsPath: String, name: String, classNames: [String],
                            budget: DataBudget) throws -> ImageDataset {
        let images = try readImages(at: imagesPath, budget: budget)
        let labels = try readLabels(at: labelsPath, classCount: classNames.count, budget: budget,
                                    images: (images.count, imagesPath))
        return ImageDataset(name: name, classNames: classNames, channels: 1, height: images.rows,
                            width: images.columns, pixelBytes: images.pixels, labelBytes: labels)
    }

    static func readImages(at path: String, budget: DataBudget) throws -> IDXImages {
        let stream = try openByteStream(path: path)
        let dimensions = try readHeader(stream, expectedMagic: imagesMagic)
        let (count, rows, columns) = (dimensions[0], dimensions[1], dimensions[2])
        guard rows > 0, columns > 0 else {
            throw DatasetError.malformed(path: path, detail: "image size \(rows)×\(columns) has a zero side")
        }
        guard count > 0 else { throw DatasetError.malformed(path: path, detail: "the header declares no images") }
        let (imageSize, sideOverflow) = rows.multipliedReportingOverflow(by: columns)
        let (pixelCount, countOverflow) = imageSize.multipliedReportingOverflow(by: count)
        guard !sideOverflow, !countOverflow else {
            throw DatasetError.malformed(path: path, detail: "declared size \(count)×\(rows)×\(columns) is too large")
        }
        let declared = "\(count) images of \(rows)×\(columns) pixels"
        try budget.charge(images: count, pixelsPerImage: imageSize, path: path, what: "the header's \(declared)")
        try stream.requireCapacity(for: pixelCount, what: "the header's \(declared)")
        let pixels = try stream.read(exactly: pixelCount, what: "\(declared) declared in the header")
        try requireEnd(stream, declared: declared)
        return IDXImages(count: count, rows: rows, columns: columns, pixels: pixels)
    }

    /// Reads a label file; with `images`, its count must be that of the image file at `images.path`
    /// (whose size the budget already holds), otherwise the labels are charged to `budget` themselves.
    static func readLabels(at path: String, classCount: Int, budget: DataBudget,
                           images: (count: Int, path: String)?) throws -> [UInt8] {
        let stream = try openByteStream(path: path)
        let dimensions = try readHeader(stream, expectedMagic: labelsMagic)
        let count = dimensions[0]
        guard count > 0 else { throw DatasetError.malformed(path: path, detail: "the header declares no labels") }
        if let images {
            guard images.count == count else {
                throw DatasetError.mismatchedFiles(path: path, otherPath: images.path,
                                                   detail: "\(count) labels for \(images.count) images")
            }
        } else {
            try budget.charge(images: count, pixelsPerImage: 0, path: path, what: "the header's \(count) labels")
        }
        try stream.requireCapacity(for: count, what: "the header's \(count) labels")
        let labels = try stream.read(exactly: count, what: "\(count) labels declared in the header")
        try requireEnd(stream, declared: "\(count) labels")
        if let index = labels.firstIndex(where: { Int($0) >= classCount }) {
            throw DatasetError.malformed(
                path: path, detail: "label \(labels[index]) at index \(index) is not below \(classCount)")
        }
        return labels
    }

    /// Reads and checks the magic number and the dimension sizes.
    private static func readHeader(_ stream: ByteStream, expectedMagic: UInt32) throws -> [Int] {
        let magicBytes = try stream.read(exactly: 4, what: "the IDX magic number")
        let magic = bigEndianUInt32(magicBytes, at: 0)
        guard magic == expectedMagic else {
            throw DatasetError.wrongMagic(path: stream.sourcePath, expected: expectedMagic, found: magic)
        }
        let dimensionCount = Int(expectedMagic & 0xFF)
        let sizeBytes = try stream.read(exactly: 4 * dimensionCount,
                                        what: "the \(dimensionCount) dimension sizes of the IDX header")
        return (0..<dimensionCount).map { Int(bigEndianUInt32(sizeBytes, at: 4 * $0)) }
    }

    /// Throws when the stream holds more bytes than the header declared.
    private static func requireEnd(_ stream: ByteStream, declared: String) throws {
        guard try stream.isAtEnd() else {
            throw DatasetError.malformed(
                path: stream.sourcePath, detail: "extra bytes after the \(declared) declared in the header")
        }
    }

    private static func bigEndianUInt32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16
            | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }
}
