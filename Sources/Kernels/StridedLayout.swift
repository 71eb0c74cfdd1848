/// A walk over a row-major result of some shape that reads each operand through its own stride per
/// dimension (0 where the operand is broadcast, any order for a permutation).
///
/// Dimensions of extent 1 are dropped and neighbouring dimensions that every operand walks as one
/// contiguous run are merged, so `[N, C, H, W] + [1, C, 1, 1]` becomes a walk over `[N, C, H·W]` whose
/// innermost run of H·W elements reads the bias with stride 0. Kernels loop over rows (all dimensions
/// but the last) and run a vectorised loop along the last.
public struct StridedLayout: Equatable, Sendable {
    /// The merged extents (never empty: a single element is `[1]`).
    public let extents: [Int]
    /// For each operand, its stride (in elements) along each merged dimension.
    public let strides: [[Int]]

    /// A layout over `extents` with one stride list per operand (each as long as `extents`),
    /// simplified by dropping unit dimensions and merging contiguous runs.
    public init(extents: [Int], strides: [[Int]]) {
        precondition(strides.allSatisfy { $0.count == extents.count }, "one stride per dimension and operand")
        var e: [Int] = []
        var s: [[Int]] = strides.map { _ in [] }
        for d in extents.indices where extents[d] != 1 {
            // Merge into the previous kept dimension when every operand continues contiguously.
            if let last = e.last, extents[d] != 0,
               strides.indices.allSatisfy({ s[$0][s[$0].count - 1] == strides[$0][d] * extents[d] }) {
                e[e.count - 1] = last * extents[d]
                for k in strides.indices { s[k][s[k].count - 1] = strides[k][d] }
            } else {
                e.append(extents[d])
                for k in strides.indices { s[k].append(strides[k][d]) }
            }
        }
        if e.isEmpty { e = [1]; s = strides.map { _ in [0] } }
        self.extents = e
        self.strides = s
    }

    /// Number of elements walked.
    public var count: Int { extents.reduce(1, *) }
    /// Length of the innermost run.
    public var rowLength: Int { extents[extents.count - 1] }
    /// Number of innermost runs.
    public var rows: Int { extents.dropLast().reduce(1, *) }

    /// The NumPy broadcast of two shapes (aligned at the right; each dimension equal or 1), or nil.
    public static func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let rank = max(a.count, b.count)
        var result = [Int](repeating: 1, count: rank)
        for d in 0..<rank {
            let x = d < rank - a.count ? 1 : a[d - (rank - a.count)]
            let y = d < rank - b.count ? 1 : b[d - (rank - b.count)]
            guard x == y || x == 1 || y == 1 else { return nil }
            result[d] = x == 1 ? y : x
        }
        return result
    }

    /// The layout that reads each of `operands` broadcast to `shape`, or nil when one of them
    /// cannot be (higher rank, or an extent that is neither 1 nor the target's).
    public static func broadcasting(_ operands: [[Int]], to shape: [Int]) -> StridedLayout? {
        var strides: [[Int]] = []
        for operand in operands {
            guard operand.count <= shape.count else { return nil }
            let padded = [Int](repeating: 1, count: shape.count - operand.count) + operand
            var s = [Int](repeating: 0, count: shape.count)
            var step = 1
            for d in stride(from: shape.count - 1, through: 0, by: -1) {
                if padded[d] == shape[d] { s[d] = padded[d] == 1 ? 0 : step } else if padded[d] != 1 { return nil }
                step *= padded[d]
            }
            strides.append(s)
        }
        return StridedLayout(extents: shape, strides: strides)
    }

    /// The offset of each operand at the start of row `row`.
    @usableFromInline
    func offsets(ofRow row: Int) -> [Int] {
        var offsets = [Int](repeating: 0, count: strides.count)
        var r = row
        for d in stride(from: extents.count - 2, through: 0, by: -1) {
            let i = r % extents[d]
            r /= extents[d]
            for k in strides.indices { offsets[k] += i * strides[k][d] }
        }
        return offsets
    }

    /// Calls `body(row, offsets)` for each row in `range`, in order, with each operand's offset at the
    /// start of the row (an odometer: one division per range, additions per row).
    @inlinable
    public func forEachRow(in range: Range<Int>, _ body: (Int, [Int]) -> Void) {
        guard !range.isEmpty else { return }
        var offsets = offsets(ofRow: range.lowerBound)
        var index = [Int](repeating: 0, count: max(extents.count - 1, 0))
        var r = range.lowerBound
        for d in stride(from: extents.count - 2, through: 0, by: -1) { index[d] = r % extents[d]; r /= extents[d] }
        for row in range {
            body(row, offsets)
            // Advance the odometer over the outer dimensions.
            var d = extents.count - 2
            while d >= 0 {
                index[d] += 1
                for k in strides.indices { offsets[k] += strides[k][d] }
                if index[d] < extents[d] { break }
                for k in strides.indices { offsets[k] -= strides[k][d] * extents[d] }
                index[d] = 0
                d -= 1
            }
        }
    }
}
