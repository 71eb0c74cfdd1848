import Foundation

/// A grid of runs: named axes, each with the values it takes; the runs are every combination
/// (the Cartesian product, the first axis varying slowest). Each run is named after its values,
/// `lr-0.01_seed-3`, so its folder says what it is; two combinations that would get the same name are
/// refused rather than sharing a folder.
public struct SweepGrid: Sendable, Equatable {
    /// One axis: a setting's name, its values (as written), and where it was written, for errors.
    public struct Axis: Sendable, Equatable {
        /// The setting the axis varies (`lr`, `seed`, …).
        public var name: String
        /// The values it takes, as written in the grid file.
        public var values: [String]
        /// Where the axis was written (`sweep.yaml line 7`), named in errors.
        public var location: String

        /// An axis varying `name` over `values`, written at `location`.
        public init(name: String, values: [String], location: String) {
            self.name = name
            self.values = values
            self.location = location
        }
    }

    /// One run of the grid: its name and the value each axis takes in it.
    public struct Run: Sendable, Equatable {
        /// The run's name (and folder name): `axis-value` pairs joined by `_`.
        public var name: String
        /// The value of every axis, in axis order.
        public var values: [(axis: String, value: String)]

        /// The value `axis` takes in this run, if it is one of the grid's axes.
        public func value(of axis: String) -> String? { values.first { $0.axis == axis }?.value }

        public static func == (a: Run, b: Run) -> Bool {
            a.name == b.name && a.values.map(\.axis) == b.values.map(\.axis) && a.values.map(\.value) == b.values.map(\.value)
        }
    }

    /// The axes, in the order they were written.
    public var axes: [Axis]

    /// A grid over `axes`: each must have at least one value and no repeated value, and no axis may be
    /// named twice.
    public init(axes: [Axis]) throws {
        var seen: [String: String] = [:]
        for axis in axes {
            if let first = seen[axis.name] {
                throw ConfigurationError("\(axis.location): axis '\(axis.name)' is already given at \(first)")
            }
            seen[axis.name] = axis.location
            guard !axis.values.isEmpty else { throw ConfigurationError("\(axis.location): axis '\(axis.name)' has no values") }
            var values = Set<String>()
            for value in axis.values where !values.insert(value).inserted {
                throw ConfigurationError("\(axis.location): axis '\(axis.name)' lists the value '\(value)' twice")
            }
        }
        self.axes = axes
    }

    /// Every combination of the axes' values as a named run (one run named `base` for a grid without
    /// axes). Two runs whose names coincide (values that differ only in characters a folder name does
    /// not keep) are refused, naming both.
    public func runs() throws -> [Run] {
        var combinations: [[(axis: String, value: String)]] = [[]]
        for axis in axes {
            combinations = combinations.flatMap { prefix in axis.values.map { prefix + [(axis.name, $0)] } }
        }
        var byName: [String: Run] = [:]
        var runs: [Run] = []
        for values in combinations {
            let run = Run(name: Self.runName(values), values: values)
            if let other = byName[run.name] {
                let describe = { (r: Run) in r.values.map { "\($0.axis)=\($0.value)" }.joined(separator: ", ") }
                throw ConfigurationError("two runs of the grid would share the name '\(run.name)': \(describe(other)) and \(describe(run)); make the values differ in letters, digits, '.', '+' or '-'")
            }
            byName[run.name] = run
            runs.append(run)
        }
        return runs
    }

    /// The folder name of a run with `values`: `axis-value` pairs joined by `_`, each character other
    /// than a letter, digit, `.`, `+` or `-` written as `-`; `base` when there are no axes.
    public static func runName(_ values: [(axis: String, value: String)]) -> String {
        guard !values.isEmpty else { return "base" }
        func clean(_ text: String) -> String {
            String(text.map { $0.isASCII && ($0.isLetter || $0.isNumber || ".+-".contains($0)) ? $0 : "-" })
        }
        return values.map { "\(clean($0.axis))-\(clean($0.value))" }.joined(separator: "_")
    }
}
