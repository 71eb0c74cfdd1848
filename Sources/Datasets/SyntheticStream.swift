import Kernels

/// A stream of fresh samples of a ``SyntheticTask`` (online learning: every batch new). Its ``state`` —
/// the generator's words and how many samples were drawn — is what a checkpoint saves; a stream restored
/// from it continues with exactly the samples the original would have drawn.
public struct SyntheticStream: Sendable, Equatable {
    /// What the stream saves to resume.
    public struct State: Codable, Sendable, Equatable {
        /// The generator's four state words.
        public var generatorState: [UInt64]
        /// Samples drawn so far.
        public var drawn: Int

        /// A state from its parts.
        public init(generatorState: [UInt64], drawn: Int) {
            self.generatorState = generatorState
            self.drawn = drawn
        }
    }

    /// The task sampled.
    public let task: SyntheticTask
    /// Samples drawn so far.
    public private(set) var drawn: Int
    private var generator: Xoshiro256

    /// A stream of `task` drawn from `generator`.
    public init(task: SyntheticTask, generator: Xoshiro256) {
        self.task = task
        self.generator = generator
        drawn = 0
    }

    /// A stream restored from a saved ``state``; a state of the wrong shape is refused.
    public init(task: SyntheticTask, restoring state: State) throws {
        guard state.generatorState.count == 4 else {
            throw SyntheticDataError.invalidStreamState("the generator needs 4 state words, found \(state.generatorState.count)")
        }
        guard state.generatorState.contains(where: { $0 != 0 }) else {
            throw SyntheticDataError.invalidStreamState("the generator state is all zero (xoshiro256 never reaches it)")
        }
        guard state.drawn >= 0 else { throw SyntheticDataError.invalidStreamState("the number of samples drawn is \(state.drawn)") }
        self.task = task
        generator = Xoshiro256(state: state.generatorState)
        drawn = state.drawn
    }

    /// The checkpointable state.
    public var state: State { State(generatorState: generator.state, drawn: drawn) }

    /// The next `count` samples.
    public mutating func next(count: Int) -> SyntheticSamples {
        let samples = task.sample(count: count, rng: &generator)
        drawn += samples.count
        return samples
    }
}
