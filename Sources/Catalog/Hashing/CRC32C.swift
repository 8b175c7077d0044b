/// CRC-32C (Castagnoli), the checksum that closes every serialized summary and
/// delta.
///
/// Gossip traffic is already authenticated by the transport, so this is not a
/// security measure: it catches bugs and corrupted copies (a flipped bit in a
/// Bloom filter silently becomes a false negative, which is the one failure a
/// summary must not have).
///
/// Slicing-by-8 (Kounavis and Berry, "A Systematic Approach to Building High
/// Performance, Software-based, CRC Generators", 2005): eight tables turn
/// eight input bytes into eight independent lookups per step instead of a
/// chain of eight dependent ones. A filter of 8 MiB is checked twice when a
/// delta is applied to it (decode, then re-serialize), on the gossip path; the
/// byte-at-a-time version took about 220 ms per 8 MiB there (see
/// `docs/benchmarks.md`). Pure Swift: no C shim or CPU feature check.
enum CRC32C {
    static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        if let crc = bytes.withContiguousStorageIfAvailable({ checksum(UnsafeRawBufferPointer($0)) }) {
            return crc
        }
        return Array(bytes).withUnsafeBytes { checksum($0) }
    }

    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        tables.withUnsafeBufferPointer { table in
            var crc: UInt32 = 0xFFFF_FFFF
            var offset = 0
            let count = bytes.count
            while count - offset >= 8 {
                let word = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
                let low = UInt32(truncatingIfNeeded: word) ^ crc
                let high = UInt32(truncatingIfNeeded: word >> 32)
                crc = table[7 &* 256 &+ Int(low & 0xFF)] ^ table[6 &* 256 &+ Int(low >> 8 & 0xFF)]
                    ^ table[5 &* 256 &+ Int(low >> 16 & 0xFF)] ^ table[4 &* 256 &+ Int(low >> 24)]
                    ^ table[3 &* 256 &+ Int(high & 0xFF)] ^ table[2 &* 256 &+ Int(high >> 8 & 0xFF)]
                    ^ table[256 &+ Int(high >> 16 & 0xFF)] ^ table[Int(high >> 24)]
                offset &+= 8
            }
            while offset < count {
                crc = table[Int((crc ^ UInt32(bytes[offset])) & 0xFF)] ^ (crc >> 8)
                offset &+= 1
            }
            return ~crc
        }
    }

    /// Eight tables of 256 entries, one after another: entry `b` of table `k`
    /// is the CRC register after byte `b` followed by `k` zero bytes, for the
    /// reflected polynomial 0x1EDC6F41 (0x82F63B78 reflected).
    private static let tables: [UInt32] = {
        var tables = [UInt32](repeating: 0, count: 8 * 256)
        for byte in 0..<256 {
            var crc = UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
            tables[byte] = crc
        }
        for k in 1..<8 {
            for byte in 0..<256 {
                let previous = tables[(k - 1) * 256 + byte]
                tables[k * 256 + byte] = (previous >> 8) ^ tables[Int(previous & 0xFF)]
            }
        }
        return tables
    }()
}
