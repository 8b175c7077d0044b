import Catalog

/// The summary decoders: Bloom filters, deltas, and a delta applied to a
/// filter as the gossip layer's merge does.
///
/// Random bytes rarely get past a CRC-32C, so modes 2 to 4 append the correct
/// checksum (computed bit by bit here, an oracle for the table-driven one in
/// Catalog) before decoding; a decoder that then reports a checksum mismatch
/// is itself a finding. Properties: a decoded filter or delta serializes back
/// to exactly its input bytes; a merge result is a valid filter that keeps
/// every bit of its base, sets no bit the delta does not name, has the
/// delta's generation and count, and equals the typed `apply(to:)`.
extension FuzzTarget {
    static let summary = FuzzTarget(
        name: "summary",
        summary: "BloomFilter and SummaryDelta decoding (raw and with valid checksums), round trips, SummaryDelta.apply",
        seeds: SummaryFuzzing.seeds,
        run: SummaryFuzzing.run)
}

enum SummaryFuzzing {
    static func run(_ bytes: [UInt8]) throws(PropertyViolation) {
        var input = FuzzInput(bytes)
        switch input.byte() % 5 {
        case 0: _ = try filter(input.rest())
        case 1: _ = try delta(input.rest())
        case 2: _ = try filter(sealed(input.rest()))
        case 3: _ = try delta(sealed(input.rest()))
        default:
            let delta = sealed(input.chunk())
            let base = sealed(input.rest())
            try merge(delta, into: base)
        }
    }

    private static func filter(_ bytes: [UInt8]) throws(PropertyViolation) -> BloomFilter? {
        let decoded: BloomFilter
        do { decoded = try BloomFilter(serialized: bytes) } catch {
            try requireChecksumAgrees(error, bytes)
            return nil
        }
        try require(decoded.serialized() == bytes, "a decoded filter (\(decoded.geometry)) serializes to other bytes")
        return decoded
    }

    private static func delta(_ bytes: [UInt8]) throws(PropertyViolation) -> SummaryDelta? {
        let decoded: SummaryDelta
        do { decoded = try SummaryDelta(serialized: bytes) } catch {
            try requireChecksumAgrees(error, bytes)
            return nil
        }
        try require(decoded.serialized() == bytes, "a decoded delta (\(decoded.positions.count) positions) serializes to other bytes")
        return decoded
    }

    private static func merge(_ deltaBytes: [UInt8], into baseBytes: [UInt8]) throws(PropertyViolation) {
        let merged = SummaryDelta.apply(deltaBytes, to: baseBytes)
        let typed: BloomFilter?
        if let delta = try delta(deltaBytes), let base = try filter(baseBytes) {
            typed = delta.apply(to: base)
            if let result = typed {
                try require(result.generation == delta.generation && result.count == delta.count,
                        "applying gave generation \(result.generation) count \(result.count)")
                // Compared with its base, the result has exactly some of the delta's bits more.
                guard let added = SummaryDelta(from: base, to: result) else {
                    throw PropertyViolation("applying a delta cleared a bit of its base")
                }
                try require(Set(added.positions).isSubset(of: delta.positions), "applying a delta set bits it does not name")
            }
        } else {
            typed = nil
        }
        try require(merged == typed?.serialized(), "SummaryDelta.apply on bytes disagrees with apply(to:)")
        if let merged { _ = try filter(merged) }
    }

    /// Checksum failures must be real: the bytes' last four are not the
    /// CRC-32C of the rest.
    private static func requireChecksumAgrees(_ error: SummaryFormatError, _ bytes: [UInt8]) throws(PropertyViolation) {
        guard error == .checksumMismatch, bytes.count >= 4 else { return }
        let body = bytes.count - 4
        let stored = bytes[body...].enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
        try require(stored != ReferenceCRC32C.checksum(bytes[..<body]),
                "checksum mismatch reported for a correct CRC-32C over \(body) bytes")
    }

    /// `body` followed by its little-endian CRC-32C.
    static func sealed(_ body: [UInt8]) -> [UInt8] {
        let crc = ReferenceCRC32C.checksum(body[...])
        return body + (0..<4).map { UInt8(truncatingIfNeeded: crc >> (8 * $0)) }
    }

    static func seeds() -> [[UInt8]] {
        var small = BloomFilter(geometry: try! .init(bitCount: 64, hashCount: 3), generation: 4)
        var large = BloomFilter(expectedCount: 1000, generation: 1)
        for tag in ["docker.io/library/ubuntu:latest", "ghcr.io/a/b:1", "registry.local:5000/app@x"] {
            small.insert(SummaryKey(tagKey: tag))
            large.insert(SummaryKey(tagKey: tag))
        }
        var next = large
        next.generation = 9
        next.insert(SummaryKey(tagKey: "quay.io/c/d:2"))
        let delta = SummaryDelta(from: large, to: next)!.serialized()
        var seeds: [[UInt8]] = []
        for bytes in [small.serialized(), large.serialized()] {
            seeds.append([0] + bytes)
            seeds.append([2] + bytes.dropLast(4))
        }
        seeds.append([1] + delta)
        seeds.append([3] + delta.dropLast(4))
        var builder = FuzzInput.Builder()
        builder.byte(4)
        builder.chunk(Array(delta.dropLast(4)))
        builder.raw(large.serialized().dropLast(4))
        seeds.append(builder.bytes)
        return seeds
    }
}

/// CRC-32C one bit at a time: slow, short, and obviously the definition
/// (reflected polynomial 0x82F63B78), the oracle for Catalog's fast one.
enum ReferenceCRC32C {
    static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        }
        return ~crc
    }
}
