/// What one line of a ``RuleCheckReport`` compares.
public enum RuleCheckKind: String, Sendable, CaseIterable {
    /// A coordinate of the VJP, (Jᵀu)ⱼ, against the central difference of ⟨u, f(x)⟩ in xⱼ.
    case reverseVersusFiniteDifferences = "VJP vs finite differences"
    /// ⟨u, J v⟩ from the JVP rule against ⟨Jᵀu, v⟩ from the VJP rule.
    case forwardVersusReverse = "JVP vs VJP (⟨u, Jv⟩ = ⟨Jᵀu, v⟩)"
    /// The value computed while carrying tangents against the plain value (largest difference).
    case forwardValue = "value with tangents vs plain value"
    /// A coordinate of ∂⟨u, J(x)v⟩/∂x (reverse mode through the JVP rules, tangents on every
    /// differentiable input at once) against the central difference of ⟨u, J(x)v⟩ in xⱼ.
    case reverseOverForward = "reverse-over-forward vs finite differences of the JVP"
    /// A coordinate of ∂⟨u, J v⟩/∂v (reverse mode through the JVP rules with respect to the tangent,
    /// as the linearized model needs) against the central difference of ⟨u, f(x)⟩ in xⱼ.
    case tangentTranspose = "reverse mode through the tangent vs finite differences"
}

/// One comparison made by ``checkRules(name:inputs:differentiable:options:_:)``.
public struct RuleCheck: Sendable, CustomStringConvertible {
    /// What is compared.
    public let kind: RuleCheckKind
    /// The index of the input (in the checked function's argument list) the check concerns.
    public let input: Int
    /// The flat (row-major) index of the input coordinate, for per-coordinate checks.
    public let coordinate: Int?
    /// The value the rules under test produced (nil when they failed to produce one).
    public let measured: Double?
    /// The value it should equal (nil when it could not be computed).
    public let expected: Double?
    /// The largest accepted |measured − expected|.
    public let tolerance: Double
    /// Whether the check passed.
    public let passed: Bool
    /// Why no value could be measured: the error a rule raised (or a missing prerequisite).
    public let failure: String?
    /// That error, when it was an ``AutodiffError`` (e.g. a missing rule, or a JVP rule whose tangent
    /// reverse mode cannot differentiate).
    public let autodiffError: AutodiffError?

    /// A comparison of two numbers.
    init(_ kind: RuleCheckKind, input: Int, coordinate: Int?, measured: Double, expected: Double, tolerance: Double) {
        self.kind = kind
        self.input = input
        self.coordinate = coordinate
        self.measured = measured
        self.expected = expected
        self.tolerance = tolerance
        // Written so that NaN fails.
        passed = abs(measured - expected) <= tolerance
        failure = nil
        autodiffError = nil
    }

    /// A check that could not be made because `error` was raised.
    init(_ kind: RuleCheckKind, input: Int, error: any Error) {
        self.kind = kind
        self.input = input
        coordinate = nil
        measured = nil
        expected = nil
        tolerance = 0
        passed = false
        failure = "\(error)"
        autodiffError = error as? AutodiffError
    }

    /// One line: pass/FAIL, what was compared, where, and the numbers or the error.
    public var description: String {
        let place = "input \(input)" + (coordinate.map { "[\($0)]" } ?? "")
        let verdict = passed ? "pass" : "FAIL"
        if let failure { return "\(verdict) \(kind.rawValue), \(place): \(failure)" }
        let m = measured.map { "\($0)" } ?? "–", e = expected.map { "\($0)" } ?? "–"
        return "\(verdict) \(kind.rawValue), \(place): measured \(m), expected \(e) (tolerance \(tolerance))"
    }
}

/// The outcome of ``checkRules(name:inputs:differentiable:options:_:)``: every comparison made,
/// with its measured and expected values and whether it passed.
///
/// In a test: `try checkRules(...).requirePassing()` throws a ``RuleCheckFailure`` whose description
/// lists the failed checks (`XCTAssertNoThrow` prints it); or assert on ``passed`` and print
/// ``description``.
public struct RuleCheckReport: Sendable, CustomStringConvertible {
    /// The name given to the check (usually the primitive's).
    public let name: String
    /// The settings used.
    public let options: RuleCheckOptions
    /// Every comparison, in the order made.
    public let checks: [RuleCheck]

    /// True when every check passed.
    public var passed: Bool { checks.allSatisfy(\.passed) }
    /// The checks that failed.
    public var failures: [RuleCheck] { checks.filter { !$0.passed } }
    /// The distinct autodiff errors raised by the rules (missing rules, non-differentiable tangents, …).
    public var errors: [AutodiffError] {
        checks.compactMap(\.autodiffError).reduce(into: []) { if !$0.contains($1) { $0.append($1) } }
    }
    /// The checks of one kind.
    public func checks(_ kind: RuleCheckKind) -> [RuleCheck] { checks.filter { $0.kind == kind } }

    /// Returns the report when every check passed, and throws a ``RuleCheckFailure`` otherwise.
    @discardableResult
    public func requirePassing() throws -> RuleCheckReport {
        guard passed else { throw RuleCheckFailure(report: self) }
        return self
    }

    /// A summary line, then each failed check.
    public var description: String {
        let failed = failures
        let head = "checkRules(\(name)): " + (failed.isEmpty ? "all \(checks.count) checks passed"
                                                           : "\(failed.count) of \(checks.count) checks failed")
        return ([head] + failed.map { "  \($0)" }).joined(separator: "\n")
    }

    /// Every check, one per line.
    public var table: String { (["checkRules(\(name))"] + checks.map { "  \($0)" }).joined(separator: "\n") }
}

/// Thrown by ``RuleCheckReport/requirePassing()``; its description lists the failed checks.
public struct RuleCheckFailure: Error, CustomStringConvertible {
    /// The full report.
    public let report: RuleCheckReport
    /// The report's summary and failed checks.
    public var description: String { report.description }
}
