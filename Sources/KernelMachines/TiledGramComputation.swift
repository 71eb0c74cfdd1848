import Autodiff
import Foundation

extension TiledGramStore {
    /// What ``compute(kernel:inputs:part:of:progress:)`` did.
    public struct ComputeReport: Sendable {
        /// The tiles computed now (missing or damaged before).
        public let computed: [Tile]
        /// Tiles of the part that were already present and verified.
        public let reused: Int
        /// Damaged tiles that were replaced, with what was wrong.
        public let replaced: [(tile: Tile, reason: String)]
        /// Wall time.
        public let seconds: Double
    }

    /// The tiles of part `part` of `parts` (for array tasks): every `parts`-th tile of ``tiles`` from
    /// index `part`, so the parts are disjoint, cover the matrix and mix diagonal and off-diagonal tiles.
    public func tiles(part: Int, of parts: Int) -> [Tile] {
        tiles.enumerated().filter { $0.offset % parts == part }.map(\.element)
    }

    /// Computes the tiles of part `part` of `parts` that are missing or fail verification, Θ(X_R, X_C)
    /// by `kernel.matrix`, each written atomically as it is done. Verified tiles are kept, so an
    /// interrupted computation continues where it stopped.
    /// - Parameters:
    ///   - kernel: the kernel of the manifest (its description must match).
    ///   - inputs: the inputs of the manifest (their digest must match).
    ///   - part: which part, 0..<parts.
    ///   - parts: how many disjoint parts the tiles are dealt into (1: all of them).
    ///   - progress: called after each computed tile with it and the counts done and to do.
    /// - Throws: ``TiledGramError/manifestMismatch(path:field:stored:given:)`` for another kernel or other
    ///   inputs, ``TiledGramError/invalidSetting(name:value:requirement:)`` for a part outside 0..<parts,
    ///   the kernel's errors and I/O errors.
    public func compute(kernel: KernelFunction, inputs: Tensor, part: Int = 0, of parts: Int = 1,
                        progress: ((Tile, Int, Int) -> Void)? = nil) throws -> ComputeReport {
        guard parts >= 1 else { throw TiledGramError.invalidSetting(name: "number of parts", value: Double(parts), requirement: "at least 1") }
        guard part >= 0, part < parts else {
            throw TiledGramError.invalidSetting(name: "part", value: Double(part), requirement: "in 0..<\(parts)")
        }
        let manifestPath = (directory as NSString).appendingPathComponent(Self.manifestName)
        guard kernel.description == manifest.kernel else {
            throw TiledGramError.manifestMismatch(path: manifestPath, field: "kernel", stored: manifest.kernel, given: kernel.description)
        }
        let digest = Self.digest(of: inputs)
        guard digest == manifest.inputsDigest else {
            throw TiledGramError.manifestMismatch(path: manifestPath, field: "inputsDigest", stored: manifest.inputsDigest, given: digest)
        }
        let start = DispatchTime.now().uptimeNanoseconds
        var todo: [Tile] = [], replaced: [(Tile, String)] = []
        let mine = tiles(part: part, of: parts)
        for tile in mine {
            do { _ = try readTile(tile) }
            catch TiledGramError.missingTile { todo.append(tile) }
            catch { todo.append(tile); replaced.append((tile, "\(error)")) }
        }
        for (done, tile) in todo.enumerated() {
            let rows = try KernelInputs.samples(inputs, range(ofBlock: tile.row))
            let columns = tile.row == tile.column ? rows : try KernelInputs.samples(inputs, range(ofBlock: tile.column))
            try writeTile(tile, try kernel.matrix(rows, columns))
            progress?(tile, done + 1, todo.count)
        }
        return ComputeReport(computed: todo, reused: mine.count - todo.count, replaced: replaced,
                             seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
}
