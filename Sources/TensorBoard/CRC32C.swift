/// CRC-32C (Castagnoli): the checksum TFRecord framing uses, with TensorFlow's masking.
///
/// The reflected polynomial 0x82F63B78, initial value and final XOR 0xFFFFFFFF — the CRC of iSCSI (RFC
/// 3720), whose check value for the ASCII digits "123456789" is 0xE3069283.
public enum CRC32C {
    /// The byte-at-a-time lookup table of the reflected polynomial.
    private static let table: [UInt32] = (0..<256).map { byte in
        var crc = UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        return crc
    }

    /// The CRC-32C of `bytes`.
    public static func checksum<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }

    /// TensorFlow's masked form of a CRC, stored in TFRecord files so that a CRC computed over data that
    /// itself holds CRCs stays well distributed: the CRC rotated right by 15 bits plus 0xA282EAD8.
    public static func masked(_ crc: UInt32) -> UInt32 {
        ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }

    /// The masked CRC-32C of `bytes` (what a TFRecord stores).
    public static func maskedChecksum<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        masked(checksum(bytes))
    }
}
