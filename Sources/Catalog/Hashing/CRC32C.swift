/// CRC-32C (Castagnoli), the checksum that closes every serialized summary and
/// delta.
///
/// Gossip traffic is already authenticated by the transport, so this is not a
/// security measure: it catches bugs and corrupted copies (a flipped bit in a
/// Bloom filter silently becomes a false negative, which is the one failure a
/// summary must not have). Table-driven, one byte per step: summaries are at
/// most a few MiB and change rarely.
enum CRC32C {
    static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
        }
        return ~crc
    }

    /// Reflected polynomial 0x1EDC6F41.
    private static let table: [UInt32] = (0..<256).map { index in
        var crc = UInt32(index)
        for _ in 0..<8 {
            crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1
        }
        return crc
    }
}
