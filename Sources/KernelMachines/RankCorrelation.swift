/// Spearman's rank correlation: the Pearson correlation of the ranks of two paired samples, ties given
/// their average rank. It measures how monotonically one quantity follows another — for eigen-features,
/// whether robustness falls as the feature index grows (a value near −1).
public enum RankCorrelation {
    /// Spearman's ρ of the pairs (x_i, y_i), in [−1, 1]; nil when it is not defined: fewer than two
    /// pairs, a value that is not finite, or a sample whose values are all equal.
    public static func spearman(_ pairs: [(x: Double, y: Double)]) -> Double? {
        guard pairs.count >= 2, pairs.allSatisfy({ $0.x.isFinite && $0.y.isFinite }) else { return nil }
        let rx = ranks(pairs.map(\.x)), ry = ranks(pairs.map(\.y))
        let n = Double(pairs.count)
        let mx = rx.reduce(0, +) / n, my = ry.reduce(0, +) / n
        var covariance = 0.0, vx = 0.0, vy = 0.0
        for (a, b) in zip(rx, ry) {
            covariance += (a - mx) * (b - my)
            vx += (a - mx) * (a - mx)
            vy += (b - my) * (b - my)
        }
        guard vx > 0, vy > 0 else { return nil }
        return min(1, max(-1, covariance / (vx * vy).squareRoot()))
    }

    /// The ranks 1…n of `values` (ascending), tied values sharing the mean of the ranks they span.
    public static func ranks(_ values: [Double]) -> [Double] {
        let order = values.indices.sorted { values[$0] < values[$1] }
        var result = [Double](repeating: 0, count: values.count)
        var start = 0
        while start < order.count {
            var end = start
            while end + 1 < order.count, values[order[end + 1]] == values[order[start]] { end += 1 }
            let shared = Double(start + end) / 2 + 1
            for k in start...end { result[order[k]] = shared }
            start = end + 1
        }
        return result
    }
}
