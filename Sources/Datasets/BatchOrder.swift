import Kernels

/// The seeded order in which a training loop visits a data set, epoch after epoch.
///
/// Each epoch's order is a permutation of `0..<count` drawn from a `Xoshiro256` (or `0..<count` in
/// order when `shuffle` is false), cut into batches of `batchSize`; the last partial batch is kept unless
/// `dropLast` is set. ``state`` — the generator state at the start of the current epoch, the epoch index
/// and the position within the epoch — is all a checkpoint needs: ``init(count:batchSize:shuffle:dropLast:restoring:)``
/// rebuilds the same permutation and continues bit-identically.
///
/// ```swift
/// var order = BatchOrder(count: train.count, batchSize: 128, generator: Xoshiro256(seed: 1), shuffle: true)
/// while order.epoch < epochs {
///     while let batch = order.nextBatch() { train.gather(indices: batch, into: x, labels: y) … }
///     order.startNextEpoch()
/// }
/// ```
public struct BatchOrder: Sendable, Equatable {
    /// What must be saved in a checkpoint to resume the exact same batch sequence.
    public struct State: Sendable, Equatable, Codable {
        /// The generator's four state words at the start of the current epoch (before its permutation
        /// was drawn).
        public var epochStartGeneratorState: [UInt64]
        /// The current epoch, counting from 0.
        public var epoch: Int
        /// How many entries of the current epoch's order have been handed out.
        public var position: Int

        /// Creates a state from its three parts.
        public init(epochStartGeneratorState: [UInt64], epoch: Int, position: Int) {
            self.epochStartGeneratorState = epochStartGeneratorState
            self.epoch = epoch
            self.position = position
        }
    }

    /// The number of examples ordered.
    public let count: Int
    /// The number of examples per batch (the last batch of an epoch may be smaller unless `dropLast`).
    public let batchSize: Int
    /// Whether each epoch is a fresh random permutation (otherwise the identity order).
    public let shuffle: Bool
    /// Whether an epoch's last, partial batch is skipped.
    public let dropLast: Bool
    /// The current epoch, counting from 0.
    public private(set) var epoch: Int
    /// How many entries of the current epoch's order have been handed out.
    public private(set) var position: Int
    /// The current epoch's order: a permutation of `0..<count`.
    public private(set) var epochOrder: [Int]
    /// The generator as it was when the current epoch began.
    public private(set) var epochStartGenerator: Xoshiro256
    /// The generator after drawing the current epoch's permutation; the next epoch starts from it.
    private var generator: Xoshiro256

    /// Starts at epoch 0, position 0, drawing the first epoch's order from `generator`.
    ///
    /// - Precondition: `count >= 0` and `batchSize > 0`.
    public init(count: Int, batchSize: Int, generator: Xoshiro256, shuffle: Bool, dropLast: Bool = false) {
        self.init(count: count, batchSize: batchSize, shuffle: shuffle, dropLast: dropLast,
                  epochStart: generator, epoch: 0, position: 0)
    }

    /// Restores an order saved with ``state`` so that the following batches are identical to those the
    /// saved order would have produced. `count`, `batchSize`, `shuffle` and `dropLast` must be the values
    /// it was created with.
    ///
    /// - Precondition: the state has four generator words, a non-negative epoch and a position within
    ///   `0...count`.
    public init(count: Int, batchSize: Int, shuffle: Bool, dropLast: Bool = false, restoring state: State) {
        precondition(state.epoch >= 0, "epoch cannot be negative")
        precondition(state.position >= 0 && state.position <= count, "position \(state.position) is outside 0...\(count)")
        self.init(count: count, batchSize: batchSize, shuffle: shuffle, dropLast: dropLast,
                  epochStart: Xoshiro256(state: state.epochStartGeneratorState),
                  epoch: state.epoch, position: state.position)
    }

    private init(count: Int, batchSize: Int, shuffle: Bool, dropLast: Bool, epochStart: Xoshiro256,
                 epoch: Int, position: Int) {
        precondition(count >= 0, "count cannot be negative")
        precondition(batchSize > 0, "batch size must be positive")
        self.count = count
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.dropLast = dropLast
        self.epoch = epoch
        self.position = position
        self.epochStartGenerator = epochStart
        var generator = epochStart
        self.epochOrder = shuffle ? generator.permutation(count) : Array(0..<count)
        self.generator = generator
    }

    /// The checkpointable state: generator at epoch start, epoch, position.
    public var state: State {
        State(epochStartGeneratorState: epochStartGenerator.state, epoch: epoch, position: position)
    }

    /// Batches per epoch: `ceil(count / batchSize)`, or `floor` with `dropLast`.
    public var batchesPerEpoch: Int {
        dropLast ? count / batchSize : (count + batchSize - 1) / batchSize
    }

    /// The index of the next batch within the current epoch.
    public var batchIndexInEpoch: Int { position / batchSize }

    /// Whether the current epoch has no batches left.
    public var isEpochFinished: Bool {
        dropLast ? count - position < batchSize : position >= count
    }

    /// The example indices of the next batch of the current epoch, or `nil` once the epoch is finished
    /// (call ``startNextEpoch()`` to go on).
    public mutating func nextBatch() -> ArraySlice<Int>? {
        guard !isEpochFinished else { return nil }
        let end = min(position + batchSize, count)
        let batch = epochOrder[position..<end]
        position = end
        return batch
    }

    /// Moves to the next epoch, drawing its order from the generator where the previous epoch's draw
    /// left it. Batches not taken from the current epoch are abandoned.
    public mutating func startNextEpoch() {
        epoch += 1
        position = 0
        epochStartGenerator = generator
        if shuffle { epochOrder = generator.permutation(count) }
    }
}
