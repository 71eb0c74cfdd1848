import Datasets
import Foundation
import Kernels
import XCTest

final class BatchOrderTests: XCTestCase {
    /// All batches of `epochs` epochs.
    private func batches(_ order: inout BatchOrder, epochs: Int) -> [[Int]] {
        var result: [[Int]] = []
        for _ in 0..<epochs {
            while let batch = order.nextBatch() { result.append(Array(batch)) }
            order.startNextEpoch()
        }
        return result
    }

    func testEachEpochIsAPermutationCutIntoBatches() {
        var order = BatchOrder(count: 10, batchSize: 4, generator: Xoshiro256(seed: 3), shuffle: true)
        XCTAssertEqual(order.batchesPerEpoch, 3)
        let epoch = batches(&order, epochs: 1)
        XCTAssertEqual(epoch.map(\.count), [4, 4, 2])
        XCTAssertEqual(epoch.flatMap { $0 }.sorted(), Array(0..<10))
        XCTAssertEqual(order.epoch, 1)
    }

    func testDropLastSkipsThePartialBatch() {
        var order = BatchOrder(count: 10, batchSize: 4, generator: Xoshiro256(seed: 3), shuffle: true, dropLast: true)
        XCTAssertEqual(order.batchesPerEpoch, 2)
        XCTAssertEqual(batches(&order, epochs: 2).map(\.count), [4, 4, 4, 4])
    }

    func testUnshuffledOrderIsSequential() {
        var order = BatchOrder(count: 5, batchSize: 2, generator: Xoshiro256(seed: 9), shuffle: false)
        XCTAssertEqual(batches(&order, epochs: 2), [[0, 1], [2, 3], [4], [0, 1], [2, 3], [4]])
    }

    func testSameSeedSameOrderDifferentSeedsDiffer() {
        var first = BatchOrder(count: 100, batchSize: 8, generator: Xoshiro256(seed: 42), shuffle: true)
        var second = BatchOrder(count: 100, batchSize: 8, generator: Xoshiro256(seed: 42), shuffle: true)
        var other = BatchOrder(count: 100, batchSize: 8, generator: Xoshiro256(seed: 43), shuffle: true)
        let a = batches(&first, epochs: 3), b = batches(&second, epochs: 3), c = batches(&other, epochs: 3)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, c)
        // Successive epochs use different permutations.
        XCTAssertNotEqual(Array(a[0..<13]), Array(a[13..<26]))
    }

    func testRestoringMidEpochContinuesIdentically() throws {
        var reference = BatchOrder(count: 37, batchSize: 5, generator: Xoshiro256(seed: 7), shuffle: true)
        let expected = batches(&reference, epochs: 4)

        var running = BatchOrder(count: 37, batchSize: 5, generator: Xoshiro256(seed: 7), shuffle: true)
        var produced = batches(&running, epochs: 1)
        for _ in 0..<3 { produced.append(Array(running.nextBatch()!)) }
        XCTAssertEqual(running.epoch, 1)
        XCTAssertEqual(running.position, 15)
        XCTAssertEqual(running.batchIndexInEpoch, 3)

        // Through a checkpoint-like round trip (JSON) of the state.
        let saved = try JSONEncoder().encode(running.state)
        let state = try JSONDecoder().decode(BatchOrder.State.self, from: saved)
        var restored = BatchOrder(count: 37, batchSize: 5, shuffle: true, restoring: state)
        XCTAssertEqual(restored, running)
        while let batch = restored.nextBatch() { produced.append(Array(batch)) }
        restored.startNextEpoch()
        produced += batches(&restored, epochs: 2)
        XCTAssertEqual(produced, expected)
    }

    func testRestoringAtEpochBoundary() {
        var reference = BatchOrder(count: 12, batchSize: 3, generator: Xoshiro256(seed: 11), shuffle: true)
        let expected = batches(&reference, epochs: 3)
        var running = BatchOrder(count: 12, batchSize: 3, generator: Xoshiro256(seed: 11), shuffle: true)
        var produced = batches(&running, epochs: 2)
        var restored = BatchOrder(count: 12, batchSize: 3, shuffle: true, restoring: running.state)
        produced += batches(&restored, epochs: 1)
        XCTAssertEqual(produced, expected)
        XCTAssertEqual(restored.epochStartGenerator, reference.epochStartGenerator)
    }
}
