import Autodiff
import Checkpoints
import Datasets
import Foundation

/// A Gram matrix Θ(X, X) kept on disk in square tiles, for matrices too large to hold in memory (the
/// whole-training-set kernels of the paper's Sections 3–4).
///
/// **Layout.** A folder with `store.json` (the ``Manifest``: N, the tile size, the kernel's description
/// and a digest of the inputs) and `tiles/r{R}-c{C}.npy.zst` for the upper-triangle tiles R ≤ C: rows
/// R·T ..< (R+1)·T against columns C·T ..< (C+1)·T (the last block shorter). Each tile is a float64 `.npy`
/// array inside one zstd frame with its content checksum, so `zstd -d` then `numpy.load` reads it, and a
/// damaged tile fails the checksum.
///
/// **Trust.** A tile is used only after its frame checksum, `.npy` header, shape and finite values are
/// verified; one that fails is reported (``check()``) and recomputed by
/// ``compute(kernel:inputs:part:of:progress:)``, never silently used. Tiles are written atomically, so an
/// interrupted computation leaves whole tiles or none, and starting it again computes only what is
/// missing. Disjoint parts of the tiles can be computed by separate processes (e.g. Slurm array tasks).
public struct TiledGramStore: Sendable {
    /// What the store holds; an existing store is reused only for the same N, tile size, kernel and inputs.
    public struct Manifest: Codable, Equatable, Sendable {
        /// Always `tangent-tiled-gram`.
        public var format = "tangent-tiled-gram"
        /// The layout's version (1).
        public var version = 1
        /// N, the number of inputs (the matrix is N × N).
        public var samples: Int
        /// T, the side of a tile.
        public var tileSize: Int
        /// The kernel's description (its `description`).
        public var kernel: String
        /// ``TiledGramStore/digest(of:)`` of the inputs.
        public var inputsDigest: String

        /// A manifest for N inputs in tiles of side T.
        public init(samples: Int, tileSize: Int, kernel: String, inputsDigest: String) {
            self.samples = samples
            self.tileSize = tileSize
            self.kernel = kernel
            self.inputsDigest = inputsDigest
        }
    }

    /// One tile by its block indices: rows of block `row`, columns of block `column`, `row ≤ column`.
    public struct Tile: Hashable, Comparable, Sendable, CustomStringConvertible {
        /// The block of the tile's rows.
        public let row: Int
        /// The block of its columns (at least `row`).
        public let column: Int

        /// The tile of blocks (`row`, `column`), `row ≤ column`.
        public init(row: Int, column: Int) {
            self.row = row
            self.column = column
        }

        /// Row-major order of the tiles.
        public static func < (a: Tile, b: Tile) -> Bool { (a.row, a.column) < (b.row, b.column) }
        public var description: String { "tile (\(row), \(column))" }
    }

    /// The manifest's file name.
    public static let manifestName = "store.json"
    /// The folder of the tiles.
    public static let tilesFolder = "tiles"
    /// The zstd level of the tiles (float64 kernel values hardly compress; the frame is for the checksum).
    static let compressionLevel = 1

    /// The store's folder.
    public let directory: String
    /// What it holds.
    public let manifest: Manifest

    /// The store in `directory` for the Gram matrix of `inputs` under `kernel` in tiles of side
    /// `tileSize`: created (folder and manifest) when the folder holds none, reused when its manifest
    /// describes the same matrix.
    /// - Throws: ``TiledGramError/invalidSetting(name:value:requirement:)`` for a tile size below 1 or no
    ///   inputs; ``TiledGramError/manifestMismatch(path:field:stored:given:)`` when the folder holds
    ///   another matrix; ``TiledGramError/notAStore(path:reason:)`` for an unreadable manifest.
    public static func prepare(directory: String, kernel: KernelFunction, inputs: Tensor, tileSize: Int) throws -> TiledGramStore {
        try KernelInputs.checkBatch(inputs, "X")
        guard tileSize >= 1 else { throw TiledGramError.invalidSetting(name: "tile size", value: Double(tileSize), requirement: "at least 1") }
        guard inputs.shape[0] >= 1 else { throw TiledGramError.invalidSetting(name: "inputs", value: 0, requirement: "at least one") }
        let wanted = Manifest(samples: inputs.shape[0], tileSize: tileSize, kernel: kernel.description, inputsDigest: digest(of: inputs))
        let path = (directory as NSString).appendingPathComponent(manifestName)
        if FileManager.default.fileExists(atPath: path) {
            let store = try open(directory: directory)
            let fields: [(String, String, String)] = [
                ("samples", "\(store.manifest.samples)", "\(wanted.samples)"),
                ("tileSize", "\(store.manifest.tileSize)", "\(wanted.tileSize)"),
                ("kernel", store.manifest.kernel, wanted.kernel),
                ("inputsDigest", store.manifest.inputsDigest, wanted.inputsDigest),
            ]
            if let (field, stored, given) = fields.first(where: { $0.1 != $0.2 }) {
                throw TiledGramError.manifestMismatch(path: path, field: field, stored: stored, given: given)
            }
            return store
        }
        try FileManager.default.createDirectory(atPath: (directory as NSString).appendingPathComponent(tilesFolder),
                                                withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try PlainFile.writeAtomically(Array(try encoder.encode(wanted)), to: path)
        return TiledGramStore(directory: directory, manifest: wanted)
    }

    /// The existing store in `directory`.
    /// - Throws: ``TiledGramError/notAStore(path:reason:)`` when the manifest is missing, unreadable or
    ///   describes an impossible matrix.
    public static func open(directory: String) throws -> TiledGramStore {
        let path = (directory as NSString).appendingPathComponent(manifestName)
        let manifest: Manifest
        do { manifest = try JSONDecoder().decode(Manifest.self, from: Data(try PlainFile.read(path))) }
        catch { throw TiledGramError.notAStore(path: path, reason: "\(error)") }
        guard manifest.format == "tangent-tiled-gram", manifest.version == 1 else {
            throw TiledGramError.notAStore(path: path, reason: "format '\(manifest.format)' version \(manifest.version), expected tangent-tiled-gram version 1")
        }
        guard manifest.samples >= 1, manifest.tileSize >= 1, manifest.samples <= 1 << 24 else {
            throw TiledGramError.notAStore(path: path, reason: "\(manifest.samples) samples in tiles of \(manifest.tileSize) is not a matrix it can hold")
        }
        return TiledGramStore(directory: directory, manifest: manifest)
    }

    /// An MD5 digest of the inputs' shape and values: the store's tiles belong to these inputs only.
    public static func digest(of inputs: Tensor) -> String {
        var md5 = MD5()
        md5.update(Array(inputs.shape.map(String.init).joined(separator: "x").utf8))
        inputs.scalars.map(\.bitPattern.littleEndian).withUnsafeBytes { md5.update($0) }
        return md5.hexDigest()
    }

    /// N.
    public var samples: Int { manifest.samples }
    /// Blocks per side: ⌈N / T⌉.
    public var blocks: Int { (manifest.samples + manifest.tileSize - 1) / manifest.tileSize }
    /// Every tile of the upper triangle, row by row.
    public var tiles: [Tile] { (0..<blocks).flatMap { r in (r..<blocks).map { Tile(row: r, column: $0) } } }
    /// The rows (or columns) of block `b`.
    public func range(ofBlock b: Int) -> Range<Int> {
        (b * manifest.tileSize)..<min((b + 1) * manifest.tileSize, manifest.samples)
    }

    /// The file of `tile`.
    public func path(of tile: Tile) -> String {
        ((directory as NSString).appendingPathComponent(Self.tilesFolder) as NSString)
            .appendingPathComponent(String(format: "r%04d-c%04d.npy.zst", tile.row, tile.column))
    }

    /// The tile's values (`rows × columns` of its blocks), verified.
    /// - Throws: ``TiledGramError/missingTile(path:)`` or ``TiledGramError/corruptTile(path:reason:)``.
    public func readTile(_ tile: Tile) throws -> Float64Matrix {
        let path = path(of: tile)
        guard FileManager.default.fileExists(atPath: path) else { throw TiledGramError.missingTile(path: path) }
        do {
            let (rows, columns, values) = try NumpyMatrixFile.decode(try CheckpointFile.decompress(fileBytes: try PlainFile.read(path)))
            let expected = (range(ofBlock: tile.row).count, range(ofBlock: tile.column).count)
            guard (rows, columns) == expected else {
                throw TiledGramError.corruptTile(path: path, reason: "it holds a \(rows)×\(columns) block, expected \(expected.0)×\(expected.1)")
            }
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                throw TiledGramError.corruptTile(path: path, reason: "entry (\(bad / columns), \(bad % columns)) is \(values[bad])")
            }
            return try Float64Matrix(rows: rows, columns: columns, values: values)
        } catch let error as CheckpointError {
            throw TiledGramError.corruptTile(path: path, reason: error.message)
        }
    }

    /// Writes `values` as `tile` (atomically).
    public func writeTile(_ tile: Tile, _ values: Float64Matrix) throws {
        let payload = NumpyMatrixFile.encode(rows: values.rows, columns: values.columns, values: values.values)
        try PlainFile.writeAtomically(try CheckpointFile.compress(payload: payload, level: Self.compressionLevel), to: path(of: tile))
    }

    /// Which tiles are present and verified, missing, or damaged (with the reason).
    public func check() -> (valid: [Tile], missing: [Tile], corrupt: [(tile: Tile, reason: String)]) {
        var valid: [Tile] = [], missing: [Tile] = [], corrupt: [(Tile, String)] = []
        for tile in tiles {
            do {
                _ = try readTile(tile)
                valid.append(tile)
            } catch TiledGramError.missingTile {
                missing.append(tile)
            } catch {
                corrupt.append((tile, "\(error)"))
            }
        }
        return (valid, missing, corrupt)
    }
}
