/// A distribution as TensorBoard stores it: `HistogramProto` of tensorflow/core/framework/summary.proto —
/// `min` (1), `max` (2), `num` (3), `sum` (4), `sum_squares` (5), and packed `bucket_limit` (6) and `bucket`
/// (7). Bucket i counts the values in (`bucketLimits[i − 1]`, `bucketLimits[i]`]; the first bucket starts at
/// ``minimum`` (TensorBoard draws the buckets from ``minimum`` to ``maximum``).
public struct TensorBoardHistogram: Sendable, Equatable {
    /// The smallest value.
    public var minimum: Double
    /// The largest value.
    public var maximum: Double
    /// How many values.
    public var count: Double
    /// Their sum.
    public var sum: Double
    /// The sum of their squares.
    public var sumOfSquares: Double
    /// Each bucket's upper edge, increasing.
    public var bucketLimits: [Double]
    /// Each bucket's count.
    public var bucketCounts: [Double]

    /// A histogram from its fields, as stored.
    public init(minimum: Double, maximum: Double, count: Double, sum: Double, sumOfSquares: Double,
                bucketLimits: [Double], bucketCounts: [Double]) {
        self.minimum = minimum
        self.maximum = maximum
        self.count = count
        self.sum = sum
        self.sumOfSquares = sumOfSquares
        self.bucketLimits = bucketLimits
        self.bucketCounts = bucketCounts
    }

    /// The histogram of `values` in `bucketCount` equally wide buckets from their minimum to their
    /// maximum (one bucket when they are all equal).
    /// - Throws: ``EventFileError`` when `values` is empty, holds a NaN or infinity, or `bucketCount` < 1.
    public init(values: [Double], bucketCount: Int = 30) throws {
        guard bucketCount >= 1 else { throw EventFileError("a histogram needs at least one bucket, got \(bucketCount)") }
        guard let low = values.min(), let high = values.max() else { throw EventFileError("a histogram needs at least one value") }
        guard low.isFinite, high.isFinite, !values.contains(where: \.isNaN) else {
            throw EventFileError("histogram values must be finite (found \(values.first { !$0.isFinite }!))")
        }
        let buckets = high > low ? bucketCount : 1
        let width = (high - low) / Double(buckets)
        let limits = (1...buckets).map { $0 == buckets ? high : low + Double($0) * width }
        var counts = [Double](repeating: 0, count: buckets)
        for v in values {
            // The first bucket whose upper edge is at least v.
            var lo = 0, hi = buckets - 1
            while lo < hi {
                let mid = (lo + hi) / 2
                if limits[mid] >= v { hi = mid } else { lo = mid + 1 }
            }
            counts[lo] += 1
        }
        self.init(minimum: low, maximum: high, count: Double(values.count), sum: values.reduce(0, +),
                  sumOfSquares: values.reduce(0) { $0 + $1 * $1 }, bucketLimits: limits, bucketCounts: counts)
    }

    func encode(into w: inout ProtobufWriter) {
        w.double(1, minimum)
        w.double(2, maximum)
        w.double(3, count)
        w.double(4, sum)
        w.double(5, sumOfSquares)
        w.packedDoubles(6, bucketLimits)
        w.packedDoubles(7, bucketCounts)
    }

    init(decoding bytes: [UInt8]) throws {
        self.init(minimum: 0, maximum: 0, count: 0, sum: 0, sumOfSquares: 0, bucketLimits: [], bucketCounts: [])
        for field in try ProtobufReader.fields(of: bytes, context: "a HistogramProto") {
            switch field {
            case .fixed64(1, let bits): minimum = Double(bitPattern: bits)
            case .fixed64(2, let bits): maximum = Double(bitPattern: bits)
            case .fixed64(3, let bits): count = Double(bitPattern: bits)
            case .fixed64(4, let bits): sum = Double(bitPattern: bits)
            case .fixed64(5, let bits): sumOfSquares = Double(bitPattern: bits)
            // Repeated doubles come packed (one run) or, from older writers, one field per value.
            case .lengthDelimited(6, let run): bucketLimits += try ProtobufReader.packedDoubles(run, context: "bucket_limit")
            case .fixed64(6, let bits): bucketLimits.append(Double(bitPattern: bits))
            case .lengthDelimited(7, let run): bucketCounts += try ProtobufReader.packedDoubles(run, context: "bucket")
            case .fixed64(7, let bits): bucketCounts.append(Double(bitPattern: bits))
            default: continue
            }
        }
        guard bucketLimits.count == bucketCounts.count else {
            throw EventFileError("a HistogramProto has \(bucketLimits.count) bucket limits but \(bucketCounts.count) counts")
        }
    }
}
