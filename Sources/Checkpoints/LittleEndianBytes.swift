/// Conversions between arrays of fixed-width values and their little-endian byte images.
enum LittleEndianBytes {
    /// The little-endian bytes of `values`, element after element.
    static func encode<T: BitPatternConvertible>(_ values: [T]) -> [UInt8] {
        let byteCount = values.count * MemoryLayout<T.Bits>.size
        #if _endian(little)
        return values.withUnsafeBytes { Array($0) }
        #else
        return [UInt8](unsafeUninitializedCapacity: byteCount) { buffer, initialized in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            for (index, value) in values.enumerated() {
                raw.storeBytes(of: value.bitPattern.littleEndian,
                               toByteOffset: index * MemoryLayout<T.Bits>.size, as: T.Bits.self)
            }
            initialized = byteCount
        }
        #endif
    }

    /// Values decoded from little-endian `bytes`; `bytes.count` must be a multiple of the element size.
    static func decode<T: BitPatternConvertible>(_ bytes: [UInt8], as type: T.Type) -> [T] {
        let width = MemoryLayout<T.Bits>.size
        let count = bytes.count / width
        return bytes.withUnsafeBytes { raw in
            [T](unsafeUninitializedCapacity: count) { buffer, initialized in
                #if _endian(little)
                if count > 0 {
                    UnsafeMutableRawBufferPointer(buffer).copyMemory(
                        from: UnsafeRawBufferPointer(rebasing: raw[0 ..< count * width]))
                }
                #else
                for index in 0 ..< count {
                    let bits = raw.loadUnaligned(fromByteOffset: index * width, as: T.Bits.self)
                    (buffer.baseAddress! + index).initialize(to: T(bitPattern: T.Bits(littleEndian: bits)))
                }
                #endif
                initialized = count
            }
        }
    }
}

/// A value with a fixed-width integer bit pattern (floats and integers alike).
protocol BitPatternConvertible {
    associatedtype Bits: FixedWidthInteger
    var bitPattern: Bits { get }
    init(bitPattern: Bits)
}

extension Float: BitPatternConvertible {}
extension Double: BitPatternConvertible {}

extension Int32: BitPatternConvertible {
    var bitPattern: UInt32 { UInt32(bitPattern: self) }
}

extension Int64: BitPatternConvertible {
    var bitPattern: UInt64 { UInt64(bitPattern: self) }
}

extension UInt64: BitPatternConvertible {
    var bitPattern: UInt64 { self }
    init(bitPattern: UInt64) { self = bitPattern }
}

extension UInt8: BitPatternConvertible {
    var bitPattern: UInt8 { self }
    init(bitPattern: UInt8) { self = bitPattern }
}
