/// Two-dimensional Float64 arrays in NumPy's `.npy` format (version 1.0, `<f8`, C order), so that
/// `numpy.load` reads them directly. Reading is strict: the magic, version, header dictionary, shape and
/// the exact data length are checked, and anything else is refused with what was found.
public enum NumpyMatrixFile {
    /// The six bytes every `.npy` file starts with.
    static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    /// The `.npy` bytes of a `rows × columns` row-major matrix.
    public static func encode(rows: Int, columns: Int, values: [Double]) -> [UInt8] {
        precondition(rows >= 0 && columns >= 0 && values.count == rows * columns, "values must hold rows × columns entries")
        var header = "{'descr': '<f8', 'fortran_order': False, 'shape': (\(rows), \(columns)), }"
        // The magic, version and length take 10 bytes; the header ends in '\n' and pads the whole to 64.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var bytes = magic + [1, 0]
        let length = UInt16(header.utf8.count)
        bytes += [UInt8(length & 0xff), UInt8(length >> 8)]
        bytes += Array(header.utf8)
        return bytes + LittleEndianBytes.encode(values)
    }

    /// The shape and values of `.npy` bytes holding a 2-D `<f8` C-order array.
    /// - Throws: ``CheckpointError`` of kind `.format` saying what does not match.
    public static func decode(_ bytes: [UInt8]) throws -> (rows: Int, columns: Int, values: [Double]) {
        func fail(_ problem: String) -> CheckpointError { CheckpointError(.format, "not a 2-D float64 .npy array: \(problem)") }
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else { throw fail("the magic bytes are missing") }
        guard bytes[6] == 1, bytes[7] == 0 else { throw fail("format version \(bytes[6]).\(bytes[7]), expected 1.0") }
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        guard bytes.count >= 10 + headerLength, bytes[10..<(10 + headerLength)].allSatisfy({ $0 < 0x80 }) else {
            throw fail("the header is truncated or not ASCII")
        }
        let header = String(decoding: bytes[10..<(10 + headerLength)], as: UTF8.self)
        let compact = header.filter { !$0.isWhitespace }
        guard compact.hasPrefix("{"), compact.hasSuffix("}") else { throw fail("the header is not a dictionary: \(header)") }
        guard compact.contains("'descr':'<f8'") else { throw fail("the element type is not '<f8' (little-endian float64): \(header)") }
        guard compact.contains("'fortran_order':False") else { throw fail("the array is not in C order: \(header)") }
        let shapeKey = "'shape':("
        let parts = compact.split(separator: shapeKey, maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, let close = parts[1].firstIndex(of: ")") else { throw fail("the header has no shape: \(header)") }
        let shape = parts[1][..<close]
        let dimensions = shape.split(separator: ",", omittingEmptySubsequences: true)
        guard dimensions.count == 2, let rows = Int(dimensions[0]), let columns = Int(dimensions[1]), rows >= 0, columns >= 0 else {
            throw fail("the shape (\(shape)) is not two sizes")
        }
        let (count, overflow) = rows.multipliedReportingOverflow(by: columns)
        let dataStart = 10 + headerLength
        guard !overflow, count <= (bytes.count - dataStart) / 8, bytes.count - dataStart == 8 * count else {
            throw fail("shape (\(rows), \(columns)) needs \(overflow ? "more" : String(8 * count)) data bytes, the file has \(bytes.count - dataStart)")
        }
        return (rows, columns, LittleEndianBytes.decode(Array(bytes[dataStart...]), as: Double.self))
    }
}
