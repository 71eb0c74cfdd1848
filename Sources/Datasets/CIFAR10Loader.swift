/// Reader for the CIFAR-10 binary distribution (`cifar-10-binary.tar.gz`).
///
/// Each batch file is a sequence of 3,073-byte records: one label byte, then the 1,024 red, 1,024 green
/// and 1,024 blue bytes of a 32×32 image — already channel-major, so a record maps straight onto NCHW
/// `3×32×32`. Official files hold 10,000 records each; any whole number of records up to that is
/// accepted, so smaller files of the same format load too. The training split is `data_batch_1.bin` …
/// `data_batch_5.bin` in that order; the test split is `test_batch.bin`. Each file's size is checked
/// (whole records, at most ``recordsPerBatchFile``, within ``DatasetLimits``, present in the file or
/// archive) before its contents are read.
public enum CIFAR10Loader {
    /// The ten class names, indexed by label.
    public static let classNames = ["airplane", "automobile", "bird", "cat", "deer",
                                    "dog", "frog", "horse", "ship", "truck"]
    /// Channels, height and width of every image.
    public static let imageShape = (channels: 3, height: 32, width: 32)
    /// Bytes per record: one label byte plus 3×32×32 pixel bytes.
    public static let recordSize = 1 + 3 * 32 * 32
    /// The most records a batch file holds (the official files hold exactly this many).
    public static let recordsPerBatchFile = 10_000
    /// The training batch files, in the order their records are concatenated.
    public static let trainingFileNames = (1...5).map { "data_batch_\($0).bin" }
    /// The test batch file.
    public static let testFileName = "test_batch.bin"
    /// The folder the official archive unpacks into.
    public static let archiveFolderName = "cifar-10-batches-bin"
    /// The official archive's file name.
    public static let archiveFileName = "cifar-10-binary.tar.gz"

    /// Loads CIFAR-10 from `path`, which may be
    /// - a folder holding `data_batch_1.bin` … `data_batch_5.bin` and `test_batch.bin`,
    /// - a folder holding those files inside a `cifar-10-batches-bin/` subfolder,
    /// - a folder holding the official `cifar-10-binary.tar.gz`, or
    /// - a `.tar.gz`, `.tgz` or `.tar` archive with the batch files (in any folder inside it).
    ///
    /// Both splits together must fit `limits`.
    public static func load(from path: String, limits: DatasetLimits = DatasetLimits()) throws -> DatasetSplits {
        if isDirectory(path) {
            let nested = joinPath(path, archiveFolderName)
            if isRegularFile(joinPath(path, testFileName)) || isRegularFile(joinPath(path, trainingFileNames[0])) {
                return try loadFolder(path, limits: limits)
            }
            if isDirectory(nested) { return try loadFolder(nested, limits: limits) }
            let archive = joinPath(path, archiveFileName)
            if isRegularFile(archive) { return try loadArchive(archive, limits: limits) }
            throw DatasetError.fileNotFound(
                path: path,
                detail: "no CIFAR-10 batch files (\(trainingFileNames[0]) …, \(testFileName)), "
                    + "\(archiveFolderName)/ subfolder or \(archiveFileName) in this folder")
        }
        if isRegularFile(path) { return try loadArchive(path, limits: limits) }
        throw DatasetError.fileNotFound(path: path, detail: "expected a CIFAR-10 folder or .tar.gz archive")
    }

    /// Loads the six batch files from a folder; both splits together must fit `limits`.
    public static func loadFolder(_ folder: String, limits: DatasetLimits = DatasetLimits()) throws -> DatasetSplits {
        let budget = DataBudget(limits)
        func read(_ name: String) throws -> (path: String, bytes: [UInt8]) {
            let path = joinPath(folder, name)
            let file = try FileByteStream(path: path)
            let size = file.remainingCapacity.bytes
            try checkBatchSize(size, path: path, budget: budget)
            let bytes = try file.read(exactly: size, what: "the batch file")
            guard try file.isAtEnd() else {
                throw DatasetError.malformed(path: path, detail: "the file grew while it was being read")
            }
            return (path, bytes)
        }
        let training = try trainingFileNames.map(read)
        let test = try read(testFileName)
        return DatasetSplits(train: try decode(training, name: "cifar10-train"),
                             test: try decode([test], name: "cifar10-test"))
    }

    /// Loads the six batch files from a tar archive (gzip-compressed when named `.gz` / `.tgz`),
    /// matching members by file name in whatever folder they sit; both splits together must fit
    /// `limits`.
    public static func loadArchive(_ archivePath: String, limits: DatasetLimits = DatasetLimits()) throws -> DatasetSplits {
        guard archivePath.hasSuffix(".tar.gz") || archivePath.hasSuffix(".tgz") || archivePath.hasSuffix(".tar") else {
            throw DatasetError.malformed(path: archivePath,
                                         detail: "expected a .tar.gz, .tgz or .tar archive of CIFAR-10 batches")
        }
        let budget = DataBudget(limits)
        let wanted = Set(trainingFileNames + [testFileName])
        var found: [String: (path: String, bytes: [UInt8])] = [:]
        let reader = try TarArchiveReader(path: archivePath)
        while let entry = try reader.nextEntry() {
            guard entry.kind == .regularFile else { continue }
            let fileName = String(entry.path.split(separator: "/").last ?? "")
            guard wanted.contains(fileName) else { continue }
            let memberPath = "\(archivePath) [member \(entry.path)]"
            guard found[fileName] == nil else {
                throw DatasetError.malformed(path: memberPath, detail: "the archive holds \(fileName) twice")
            }
            try checkBatchSize(entry.size, path: memberPath, budget: budget)
            found[fileName] = (memberPath, try reader.readEntryContents(entry))
        }
        let missing = (trainingFileNames + [testFileName]).filter { found[$0] == nil }
        guard missing.isEmpty, let test = found[testFileName] else {
            throw DatasetError.fileNotFound(
                path: archivePath, detail: "the archive lacks \(missing.joined(separator: ", "))")
        }
        let training = trainingFileNames.compactMap { found[$0] }
        return DatasetSplits(train: try decode(training, name: "cifar10-train"),
                             test: try decode([test], name: "cifar10-test"))
    }

    /// Checks a batch file's size before it is read: a positive whole number of records, no more than a
    /// batch file holds, and room for them in `budget`.
    private static func checkBatchSize(_ size: Int, path: String, budget: DataBudget) throws {
        guard size > 0 else {
            throw DatasetError.truncated(path: path, detail: "the batch file is empty")
        }
        guard size % recordSize == 0 else {
            throw DatasetError.malformed(
                path: path,
                detail: "\(size) bytes is not a whole number of \(recordSize)-byte records "
                    + "(\(size / recordSize) records and \(size % recordSize) bytes left over)")
        }
        let records = size / recordSize
        guard records <= recordsPerBatchFile else {
            throw DatasetError.malformed(
                path: path,
                detail: "\(size) bytes is \(records) records, but a CIFAR-10 batch file holds at most \(recordsPerBatchFile)")
        }
        try budget.charge(images: records, pixelsPerImage: recordSize - 1, path: path,
                          what: "\(records) records of 3×32×32 pixels")
    }

    /// Splits batch files (sizes already checked) into labels and NCHW pixels, validating the labels.
    private static func decode(_ files: [(path: String, bytes: [UInt8])], name: String) throws -> ImageDataset {
        let pixelsPerImage = recordSize - 1
        let total = files.reduce(0) { $0 + $1.bytes.count / recordSize }
        var labels = [Int32](repeating: 0, count: total)
        var images = [Float](repeating: 0, count: total * pixelsPerImage)
        var image = 0
        try images.withUnsafeMutableBufferPointer { imageBuffer in
            for file in files {
                try file.bytes.withUnsafeBufferPointer { bytes in
                    for record in 0..<(bytes.count / recordSize) {
                        let start = record * recordSize
                        let label = bytes[start]
                        guard Int(label) < classNames.count else {
                            throw DatasetError.malformed(
                                path: file.path, detail: "record \(record) has label \(label), not below 10")
                        }
                        labels[image] = Int32(label)
                        let destination = image * pixelsPerImage
                        for pixel in 0..<pixelsPerImage {
                            imageBuffer[destination + pixel] = Float(bytes[start + 1 + pixel]) / 255
                        }
                        image += 1
                    }
                }
            }
        }
        return ImageDataset(name: name, classNames: classNames, channels: imageShape.channels,
                            height: imageShape.height, width: imageShape.width, images: images, labels: labels)
    }
}
