/// Errors of the kernel machines: bad inputs, cotangents or kernel settings, each naming the offending
/// argument and value.
public enum KernelMachineError: Error, CustomStringConvertible, Equatable {
    /// A matrix was given `count` values for `rows × columns` entries.
    case matrixSize(rows: Int, columns: Int, count: Int)
    /// A product of matrices whose inner dimensions differ.
    case productShape(left: [Int], right: [Int])
    /// An input tensor does not have the layout the kernel needs (`expected` describes it).
    case inputLayout(argument: String, shape: [Int], expected: String)
    /// The two arguments of a kernel have different per-sample shapes.
    case incompatibleShapes(first: [Int], second: [Int])
    /// An input holds NaN or ±∞ at flat position `index` of sample `sample`.
    case nonFiniteInput(argument: String, sample: Int, index: Int, value: Float)
    /// A cotangent or weight matrix has the wrong shape for the kernel matrix it multiplies.
    case matrixShape(argument: String, expected: [Int], got: [Int])
    /// A cotangent or weight matrix holds NaN or ±∞ at `(row, column)`.
    case nonFiniteMatrix(argument: String, row: Int, column: Int, value: Double)
    /// A kernel was asked for a depth it does not offer.
    case depthOutOfRange(kernel: String, depth: Int, allowed: ClosedRange<Int>)
    /// A kernel setting (a weight or bias standard deviation) is out of its range.
    case invalidSetting(kernel: String, name: String, value: Double, requirement: String)

    /// A sentence naming the problem.
    public var description: String {
        switch self {
        case .matrixSize(let rows, let columns, let count):
            return "a \(rows)×\(columns) matrix needs \(max(rows, 0) * max(columns, 0)) values; got \(count)"
        case .productShape(let left, let right):
            return "cannot multiply a \(left[0])×\(left[1]) matrix by a \(right[0])×\(right[1]) matrix"
        case .inputLayout(let argument, let shape, let expected):
            return "kernel input \(argument) has shape \(shape); expected \(expected)"
        case .incompatibleShapes(let first, let second):
            return "the kernel's inputs have incompatible shapes: X₁ is \(first) and X₂ is \(second) (all but the first axis must agree)"
        case .nonFiniteInput(let argument, let sample, let index, let value):
            return "kernel input \(argument) holds \(value) in sample \(sample) at position \(index); inputs must be finite"
        case .matrixShape(let argument, let expected, let got):
            return "the \(argument) matrix is \(got[0])×\(got[1]); expected \(expected[0])×\(expected[1])"
        case .nonFiniteMatrix(let argument, let row, let column, let value):
            return "the \(argument) matrix holds \(value) at (\(row), \(column)); it must be finite"
        case .depthOutOfRange(let kernel, let depth, let allowed):
            return "the \(kernel) kernel offers depths \(allowed.lowerBound)–\(allowed.upperBound); got \(depth)"
        case .invalidSetting(let kernel, let name, let value, let requirement):
            return "the \(kernel) kernel's \(name) is \(value); it must be \(requirement)"
        }
    }
}
