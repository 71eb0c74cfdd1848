import Foundation

/// A learning rate as a function of the optimiser step (0 for the first step). Schedules hold no state
/// of their own, so a resumed run that restores the step counter continues with exactly the same rates.
public protocol LearningRateSchedule: Sendable {
    /// The learning rate for step `step` (0-based).
    func learningRate(atStep step: Int) -> Float
}

/// The same rate at every step.
public struct ConstantSchedule: LearningRateSchedule {
    /// The rate.
    public let rate: Float
    /// A constant `rate`.
    public init(_ rate: Float) { self.rate = rate }
    public func learningRate(atStep step: Int) -> Float { rate }
}

/// `rate · γ^⌊step / every⌋` (PyTorch's StepLR with steps instead of epochs).
public struct StepSchedule: LearningRateSchedule {
    /// The initial rate, the period in steps and the factor γ.
    public let rate: Float, every: Int, gamma: Float
    /// Multiplies `rate` by `gamma` every `every` steps; `every` must be positive.
    public init(rate: Float, every: Int, gamma: Float) throws {
        guard every > 0 else { throw OptimizerError.invalidSetting(name: "schedule period", value: Double(every), requirement: "positive") }
        try requireSetting("schedule factor", gamma, in: 0...Float.greatestFiniteMagnitude, "finite and not negative")
        self.rate = rate
        self.every = every
        self.gamma = gamma
    }
    public func learningRate(atStep step: Int) -> Float { rate * Float(pow(Double(gamma), Double(step / every))) }
}

/// Cosine annealing from `rate` to `minimum` over `totalSteps` steps, then `minimum` (PyTorch's
/// CosineAnnealingLR within its length; past it PyTorch's rate rises again, this one stays at `minimum`).
public struct CosineSchedule: LearningRateSchedule {
    /// The initial rate, the final rate and the schedule's length in steps.
    public let rate: Float, minimum: Float, totalSteps: Int
    /// `totalSteps` must be positive.
    public init(rate: Float, totalSteps: Int, minimum: Float = 0) throws {
        guard totalSteps > 0 else {
            throw OptimizerError.invalidSetting(name: "schedule length", value: Double(totalSteps), requirement: "positive")
        }
        self.rate = rate
        self.minimum = minimum
        self.totalSteps = totalSteps
    }
    public func learningRate(atStep step: Int) -> Float {
        let t = Double(min(step, totalSteps)) / Double(totalSteps)
        return minimum + (rate - minimum) * Float((1 + cos(Double.pi * t)) / 2)
    }
}

/// A linear warm-up from `rate/warmupSteps` to the following schedule's rate over `warmupSteps` steps,
/// then that schedule (counted from the end of the warm-up).
public struct WarmupSchedule: LearningRateSchedule {
    /// Steps of the linear warm-up.
    public let warmupSteps: Int
    /// The schedule after the warm-up, counted from its end.
    public let then: any LearningRateSchedule
    /// `warmupSteps` must be positive.
    public init(warmupSteps: Int, then: any LearningRateSchedule) throws {
        guard warmupSteps > 0 else {
            throw OptimizerError.invalidSetting(name: "warm-up steps", value: Double(warmupSteps), requirement: "positive")
        }
        self.warmupSteps = warmupSteps
        self.then = then
    }
    public func learningRate(atStep step: Int) -> Float {
        if step < warmupSteps { return then.learningRate(atStep: 0) * Float(step + 1) / Float(warmupSteps) }
        return then.learningRate(atStep: step - warmupSteps)
    }
}
