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

    /// Reads an image file (`…-images-idx3-ubyte[.gz]`).
    public static func readImages(at path: String) throws -> IDXImages {
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
        let pixels = try stream.read(exactly: pixelCount,
                                     what: "\(count) images of \(rows)×\(columns) pixels declared in the header")
        try requireEnd(stream, declared: "\(count) images of \(rows)×\(columns) pixels")
        return IDXImages(count: count, rows: rows, columns: columns, pixels: pixels)
    }

    /// Reads a label file (`…-labels-idx1-ubyte[.gz]`) and checks every label is below `classCount`.
    public static func readLabels(at path: String, classCount: Int = 10) throws -> [UInt8] {
        let stream = try openByteStream(path: path)
        let dimensions = try readHeader(stream, expectedMagic: labelsMagic)
        let count = dimensions[0]
        guard count > 0 else { throw DatasetError.malformed(path: path, detail: "the header declares no labels") }
        let labels = try stream.read(exactly: count, what: "\(count) labels declared in the header")
        try requireEnd(stream, declared: "\(count) labels")
        if let index = labels.firstIndex(where: { Int($0) >= classCount }) {
            throw DatasetError.malformed(
                path: path, detail: "label \(labels[index]) at index \(index) is not below \(classCount)")
        }
        return labels
    }

    /// Reads an image file and its label file into an ``ImageDataset``, checking that they hold the same
    /// number of examples.
    public static func readDataset(imagesPath: String, labelsPath: String, name: String,
                                   classNames: [String]) throws -> ImageDataset {
        let images = try readImages(at: imagesPath)
        let labels = try readLabels(at: labelsPath, classCount: classNames.count)
        guard images.count == labels.count else {
            throw DatasetError.mismatchedFiles(
                path: labelsPath, otherPath: imagesPath,
                detail: "\(labels.count) labels for \(images.count) images")
        }
        return ImageDataset(name: name, classNames: classNames, channels: 1, height: images.rows,
                            width: images.columns, pixelBytes: images.pixels, labelBytes: labels)
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
