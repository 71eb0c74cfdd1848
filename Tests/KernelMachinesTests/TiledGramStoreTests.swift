import Autodiff
import Checkpoints
import Foundation
import Kernels
import KernelMachines
import XCTest

/// The tiled on-disk Gram store against the in-memory Gram matrix: its tiles, resumed and partitioned
/// computation, damaged tiles found and replaced, NumPy reading its tiles, and the out-of-core
/// product, top eigenpairs and solve against their dense twins.
final class TiledGramStoreTests: XCTestCase {
    let kernel = FullyConnectedReLUKernel.notebook
    /// 37 inputs in tiles of 8: five blocks per side, the last of 5 rows.
    let inputs = uniformInputs([37, 1, 3, 4], seed: 3)

    func folder() -> String {
        let path = NSTemporaryDirectory() + "tangent-tiled-gram-\(UUID().uuidString)"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    /// The whole matrix assembled from the store's tiles.
    func assemble(_ store: TiledGramStore) throws -> [Double] {
        let n = store.samples
        var full = [Double](repeating: .nan, count: n * n)
        for tile in store.tiles {
            let t = try store.readTile(tile)
            for (a, i) in store.range(ofBlock: tile.row).enumerated() {
                for (b, j) in store.range(ofBlock: tile.column).enumerated() {
                    full[i * n + j] = t[a, b]
                    full[j * n + i] = t[a, b]
                }
            }
        }
        return full
    }

    func testTilesAssembleTheGramMatrixAndPartsCoverItOnce() throws {
        let dense = try kernel.matrix(inputs, inputs).values
        // One process, and three disjoint parts as three array tasks would compute them.
        let whole = try TiledGramStore.prepare(directory: folder(), kernel: kernel, inputs: inputs, tileSize: 8)
        XCTAssertEqual(whole.blocks, 5)
        XCTAssertEqual(whole.tiles.count, 15)
        let report = try whole.compute(kernel: kernel, inputs: inputs)
        XCTAssertEqual(report.computed.count, 15)
        XCTAssertLessThan(maxRelativeDifference(try assemble(whole), dense), 1e-12)

        let parted = try TiledGramStore.prepare(directory: folder(), kernel: kernel, inputs: inputs, tileSize: 8)
        let parts = (0..<3).map { parted.tiles(part: $0, of: 3) }
        XCTAssertEqual(Set(parts.joined()), Set(parted.tiles))
        XCTAssertEqual(parts.map(\.count).reduce(0, +), 15)
        for p in 0..<3 { XCTAssertEqual(try parted.compute(kernel: kernel, inputs: inputs, part: p, of: 3).computed, parts[p]) }
        XCTAssertEqual(try assemble(parted), try assemble(whole))
    }

    func testAnInterruptedComputationResumesAndDamagedTilesAreReplacedNotUsed() throws {
        let directory = folder()
        let store = try TiledGramStore.prepare(directory: directory, kernel: kernel, inputs: inputs, tileSize: 8)
        _ = try store.compute(kernel: kernel, inputs: inputs)
        let reference = try assemble(store)
        let tiles = store.tiles
        // A lost tile, a truncated one, one with a flipped byte, one whose frame is sound but holds a
        // crafted block of the wrong shape, and one holding NaN.
        try FileManager.default.removeItem(atPath: store.path(of: tiles[0]))
        let truncated = try PlainFile.read(store.path(of: tiles[1]))
        try PlainFile.writeAtomically(Array(truncated.prefix(truncated.count / 2)), to: store.path(of: tiles[1]))
        var flipped = try PlainFile.read(store.path(of: tiles[2]))
        flipped[flipped.count / 2] ^= 0x40
        try PlainFile.writeAtomically(flipped, to: store.path(of: tiles[2]))
        try store.writeTile(tiles[3], Float64Matrix(rows: 3, columns: 8))
        var poisoned = try store.readTile(tiles[4])
        poisoned[1, 2] = .nan
        try store.writeTile(tiles[4], poisoned)

        let status = store.check()
        XCTAssertEqual(status.missing, [tiles[0]])
        XCTAssertEqual(status.corrupt.map(\.tile), Array(tiles[1...4]))
        guard status.corrupt.count == 4 else { return }
        XCTAssertTrue(status.corrupt[1].reason.contains("checksum"), status.corrupt[1].reason)
        XCTAssertTrue(status.corrupt[2].reason.contains("3×8 block, expected 8×8"), status.corrupt[2].reason)
        XCTAssertTrue(status.corrupt[3].reason.contains("nan"), status.corrupt[3].reason)
        XCTAssertThrowsError(try TiledGramOperator(store: store)) { error in
            XCTAssertEqual(error as? TiledGramError, .incomplete(directory: directory, missing: 1, corrupt: 4))
        }

        let again = try store.compute(kernel: kernel, inputs: inputs)
        XCTAssertEqual(again.computed, Array(tiles[0...4]))
        XCTAssertEqual(again.replaced.map(\.tile), Array(tiles[1...4]))
        XCTAssertEqual(again.reused, tiles.count - 5)
        XCTAssertEqual(try assemble(store), reference)
        XCTAssertEqual(try store.compute(kernel: kernel, inputs: inputs).computed, [])
    }

    func testAFolderHoldingAnotherMatrixIsRefusedNamingTheField() throws {
        let directory = folder()
        _ = try TiledGramStore.prepare(directory: directory, kernel: kernel, inputs: inputs, tileSize: 8)
        let other = try FullyConnectedReLUKernel(depth: 3, weightStd: 1.4, biasStd: 0.1)
        let cases: [(() throws -> TiledGramStore, String)] = [
            ({ try TiledGramStore.prepare(directory: directory, kernel: self.kernel, inputs: self.inputs, tileSize: 16) }, "tileSize"),
            ({ try TiledGramStore.prepare(directory: directory, kernel: other, inputs: self.inputs, tileSize: 8) }, "kernel"),
            ({ try TiledGramStore.prepare(directory: directory, kernel: self.kernel, inputs: uniformInputs([37, 1, 3, 4], seed: 4), tileSize: 8) }, "inputsDigest"),
            ({ try TiledGramStore.prepare(directory: directory, kernel: self.kernel, inputs: uniformInputs([36, 1, 3, 4], seed: 3), tileSize: 8) }, "samples"),
        ]
        for (body, field) in cases {
            XCTAssertThrowsError(try body()) { error in
                guard case .manifestMismatch(_, let named, _, _) = error as? TiledGramError else { return XCTFail("\(error)") }
                XCTAssertEqual(named, field)
            }
        }
        let store = try TiledGramStore.open(directory: directory)
        XCTAssertThrowsError(try store.compute(kernel: other, inputs: inputs))
        XCTAssertThrowsError(try store.compute(kernel: kernel, inputs: inputs, part: 3, of: 3))
        try Data("{\"format\": \"tangent-tiled-gram\", \"version\": 1, \"samples\": -4}".utf8)
            .write(to: URL(fileURLWithPath: directory + "/store.json"))
        XCTAssertThrowsError(try TiledGramStore.open(directory: directory)) { error in
            guard case .notAStore = error as? TiledGramError else { return XCTFail("\(error)") }
        }
    }

    func testATileIsAZstdFrameOfANumPyArrayOfItsBlock() throws {
        let store = try TiledGramStore.prepare(directory: folder(), kernel: kernel, inputs: inputs, tileSize: 8)
        _ = try store.compute(kernel: kernel, inputs: inputs)
        let tile = TiledGramStore.Tile(row: 1, column: 4)
        let npy = try NumpyMatrixFile.decode(try CheckpointFile.decompress(fileBytes: try PlainFile.read(store.path(of: tile))))
        XCTAssertEqual([npy.rows, npy.columns], [8, 5])
        func samples(_ r: Range<Int>) -> Tensor {
            Tensor(shape: [r.count, 1, 3, 4], scalars: Array(inputs.scalars[(r.lowerBound * 12)..<(r.upperBound * 12)]))
        }
        let block = try kernel.matrix(samples(8..<16), samples(32..<37))
        XCTAssertLessThan(maxRelativeDifference(npy.values, block.values), 1e-12)
    }

    func testProductsTopEigenpairsAndSolveMatchTheDenseMatrix() throws {
        let store = try TiledGramStore.prepare(directory: folder(), kernel: kernel, inputs: inputs, tileSize: 8)
        _ = try store.compute(kernel: kernel, inputs: inputs)
        let dense = try kernel.matrix(inputs, inputs)
        let n = 37
        // No cache (every product reads the tiles) and a full cache give the same products.
        for cache in [0, 1 << 20] {
            let op = try TiledGramOperator(store: store, cacheBytes: cache)
            let x = randomMatrix(rows: n, columns: 3, seed: 9)
            XCTAssertLessThan(maxRelativeDifference(try op.multiply(x.values, columns: 3), naiveProduct(dense, x).values), 1e-12)
        }
        let op = try TiledGramOperator(store: store)
        let top = try op.topEigenpairs(5)
        let reference = try SymmetricEigen.decompose(dense.values, dimension: n)
        let descending = reference.values.sorted(by: >)
        XCTAssertLessThan(maxRelativeDifference(top.decomposition.values, Array(descending.prefix(5))), 1e-8)

        // (Θ + λI) A = Y against the Cholesky fit with the same ridge.
        let labels = (0..<n).map { Int32($0 % 3) }
        var y = Float64Matrix(rows: n, columns: 3)
        for i in 0..<n { y[i, Int(labels[i])] = 1 }
        let solved = try op.solve(y, ridge: 1e-3, tolerance: 1e-12)
        XCTAssertLessThan(solved.relativeResiduals.max() ?? 1, 1e-10)
        var regularised = dense
        for i in 0..<n { regularised[i, i] += 1e-3 }
        XCTAssertLessThan(maxRelativeDifference(naiveProduct(regularised, solved.solution).values, y.values), 1e-9)
        XCTAssertThrowsError(try op.solve(y, ridge: 1e-3, tolerance: 1e-14, maximumIterations: 2)) { error in
            guard case .notConverged(2, _, _) = error as? TiledGramError else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try op.multiply([1, 2, 3], columns: 1))
    }
}
