import Foundation

/// A mapping from data values to pixels along one axis, with its tick positions and labels.
struct AxisScale {
    /// The data interval shown (for a log scale: the interval of log10 values).
    let lower: Double
    let upper: Double
    /// The pixel positions of `lower` and `upper` (upper may be the smaller pixel, as for y axes).
    let pixelLower: Double
    let pixelUpper: Double
    let isLogarithmic: Bool
    /// Tick positions in data units (not logs) and their labels.
    let ticks: [(value: Double, label: String)]

    /// The pixel position of a data value, or nil when it cannot be shown (non-finite, or ≤ 0 on a log axis).
    func pixel(_ value: Double) -> Double? {
        guard value.isFinite else { return nil }
        let v: Double
        if isLogarithmic {
            guard value > 0 else { return nil }
            v = log10(value)
        } else {
            v = value
        }
        let span = upper - lower
        let t = span == 0 ? 0.5 : (v - lower) / span
        return pixelLower + t * (pixelUpper - pixelLower)
    }

    /// A linear axis covering `minimum…maximum` extended outward to round tick values; with
    /// `integerTicks`, ticks fall on whole numbers only (epochs, steps).
    static func linear(minimum: Double, maximum: Double, pixelLower: Double, pixelUpper: Double,
                       targetTickCount: Int = 6, extendToTicks: Bool = true, integerTicks: Bool = false) -> AxisScale {
        var (lo, hi) = AxisScale.widenDegenerate(minimum, maximum)
        if integerTicks && hi - lo < 1 { (lo, hi) = (lo.rounded(.down), max(lo.rounded(.down) + 1, hi.rounded(.up))) }
        var step = niceStep((hi - lo) / Double(max(1, targetTickCount - 1)))
        // 2.5 is the one nice step above 1 that is not whole: the next one up keeps ticks on integers.
        if integerTicks { step = step < 1 ? 1 : (step == step.rounded() ? step : 5) }
        let first = extendToTicks ? (lo / step).rounded(.down) * step : (lo / step).rounded(.up) * step
        let last = extendToTicks ? (hi / step).rounded(.up) * step : (hi / step).rounded(.down) * step
        var values: [Double] = []
        var k = 0
        while true {
            let v = first + Double(k) * step
            if v > last + step * 1e-9 || k > 1000 { break }
            values.append(abs(v) < step * 1e-9 ? 0 : v)
            k += 1
        }
        let lower = extendToTicks ? first : lo
        let upper = extendToTicks ? last : hi
        let labels = TickFormatter(values: values, step: step)
        return AxisScale(lower: lower, upper: upper, pixelLower: pixelLower, pixelUpper: pixelUpper,
                         isLogarithmic: false, ticks: values.map { ($0, labels.label($0)) })
    }

    /// A base-10 logarithmic axis covering positive `minimum…maximum`, extended to whole decades
    /// (or to 1-2-5 steps when the data spans less than two decades).
    static func logarithmic(minimum: Double, maximum: Double, pixelLower: Double, pixelUpper: Double) -> AxisScale {
        let lo = log10(minimum), hi = log10(maximum)
        var lowerDecade = lo.rounded(.down), upperDecade = hi.rounded(.up)
        if lowerDecade == upperDecade { upperDecade += 1 }
        var values: [Double] = []
        if hi - lo < 1 {
            // Less than a decade of data: round linear ticks read better than one or two powers of ten.
            let step = niceStep((maximum - minimum) / 5)
            var first = (minimum / step).rounded(.down) * step
            if first <= 0 { first = minimum }
            let last = max((maximum / step).rounded(.up) * step, first + step)
            var v = first
            while v <= last + step * 1e-9 { values.append(v); v += step }
            let labels = TickFormatter(values: values, step: step)
            return AxisScale(lower: log10(first), upper: log10(last), pixelLower: pixelLower, pixelUpper: pixelUpper,
                             isLogarithmic: true, ticks: values.map { ($0, labels.label($0)) })
        } else if upperDecade - lowerDecade <= 2 {
            // Few decades: 1, 2, 5 × 10^k, trimmed to the data plus one step each side.
            var candidates: [Double] = []
            for d in Int(lowerDecade)...Int(upperDecade) {
                for m in [1.0, 2.0, 5.0] { candidates.append(m * pow(10, Double(d))) }
            }
            let below = candidates.last { $0 <= minimum * (1 + 1e-12) } ?? candidates[0]
            let above = candidates.first { $0 >= maximum * (1 - 1e-12) } ?? candidates[candidates.count - 1]
            values = candidates.filter { $0 >= below && $0 <= above }
            lowerDecade = log10(below)
            upperDecade = log10(above)
        } else {
            let decades = Int(upperDecade - lowerDecade)
            let stride = max(1, Int((Double(decades) / 7).rounded(.up)))
            var d = Int(lowerDecade)
            while d <= Int(upperDecade) { values.append(pow(10, Double(d))); d += stride }
        }
        return AxisScale(lower: lowerDecade, upper: upperDecade, pixelLower: pixelLower, pixelUpper: pixelUpper,
                         isLogarithmic: true, ticks: values.map { ($0, TickFormatter.powerOfTenLabel($0)) })
    }

    /// A zero-width interval is widened so it has something to show.
    static func widenDegenerate(_ lo: Double, _ hi: Double) -> (Double, Double) {
        if hi > lo { return (lo, hi) }
        let pad = lo == 0 ? 1 : abs(lo) * 0.1
        return (lo - pad, hi + pad)
    }

    /// The "nice" number (1, 2, 2.5 or 5 × 10^k) nearest above `raw`.
    static func niceStep(_ raw: Double) -> Double {
        guard raw > 0, raw.isFinite else { return 1 }
        let exponent = log10(raw).rounded(.down)
        let base = pow(10, exponent)
        let fraction = raw / base
        let nice: Double = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 2.5 ? 2.5 : fraction <= 5 ? 5 : 10
        return nice * base
    }
}

/// Formats tick labels consistently for one axis: fixed decimals chosen from the step, or a compact
/// exponent form for very large or very small magnitudes.
struct TickFormatter {
    let decimals: Int
    let scientific: Bool

    init(values: [Double], step: Double) {
        let largest = values.map { abs($0) }.max() ?? 0
        scientific = largest >= 1e6 || (largest > 0 && largest < 1e-3)
        // As many decimals as the step has (25 → 0, 2.5 → 1, 0.25 → 2), so labels are exact and uniform.
        var d = 0
        if step > 0 {
            while d < 10 {
                let scaled = step * pow(10, Double(d))
                if abs(scaled - scaled.rounded()) < 1e-6 * max(1, scaled) { break }
                d += 1
            }
        }
        decimals = d
    }

    func label(_ value: Double) -> String {
        if value == 0 { return "0" }
        if scientific { return TickFormatter.scientificLabel(value) }
        return String(format: "%.\(decimals)f", value)
    }

    /// `1.5e6`-style labels written as `1.5×10⁶`.
    static func scientificLabel(_ value: Double) -> String {
        let exponent = Int((log10(abs(value)) + 1e-9).rounded(.down))
        let mantissa = value / pow(10, Double(exponent))
        var m = String(format: "%.2f", mantissa)
        while m.hasSuffix("0") { m.removeLast() }
        if m.hasSuffix(".") { m.removeLast() }
        return (m == "1" ? "" : m == "-1" ? "-" : m + "×") + "10" + superscript(exponent)
    }

    /// `1`, `10`, `10²`, `10⁻³`, …
    static func powerOfTenLabel(_ value: Double) -> String {
        let exponent = Int((log10(value) + 1e-9).rounded(.down))
        let mantissa = value / pow(10, Double(exponent))
        if abs(mantissa - 1) < 1e-9 {
            if exponent == 0 { return "1" }
            if exponent == 1 { return "10" }
            return "10" + superscript(exponent)
        }
        // 2×10^k and 5×10^k on short log axes: plain decimals where short.
        if exponent >= -2 && exponent <= 3 {
            return String(format: "%.\(max(0, -exponent))f", value)
        }
        return scientificLabel(value)
    }

    static func superscript(_ n: Int) -> String {
        let digits: [Character] = ["⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"]
        var s = n < 0 ? "⁻" : ""
        for c in String(abs(n)) { s.append(digits[Int(String(c))!]) }
        return s
    }
}
