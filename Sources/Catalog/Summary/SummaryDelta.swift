/// The entries a node added between two generations of its summary, as the
/// bit positions they newly set.
///
/// A delta is small enough to piggyback on gossip (10 new digests cost well
/// under 200 bytes on a filter of 100,000 entries), and applying it to the base
/// filter gives exactly the new filter. It only ever adds: removals rebuild
/// the filter, which then travels whole (new generation, no delta).
///
/// Serialized, format version 1 (little-endian):
///
///     offset  size  field
///          0     4  magic "GMBD"
///          4     1  format version (1)
///          5     1  hash scheme (1)
///          6     1  k
///          7     1  reserved, 0
///          8     8  m
///         16     8  base generation (the filter this applies to)
///         24     8  generation after applying (> base)
///         32     8  n after applying
///         40     …  varint position count, then the positions ascending as
///                   LEB128 varints: the first absolute, each next as the gap
///                   to its predecessor (≥ 1)
///        end     4  CRC-32C of all preceding bytes
public struct SummaryDelta: Hashable, Sendable {
    public let geometry: BloomFilter.Geometry
    public let baseGeneration: UInt64
    public let generation: UInt64
    /// The filter's entry count after applying.
    public let count: Int
    /// Bit indices set by this delta and not by the base: ascending, unique, < m.
    public let positions: [Int]

    static let headerSize = 40

    /// A delta is never worth more than the full filter it updates.
    public static let maximumSerializedSize = BloomFilter.maximumSerializedSize

    /// The delta from `base` to `target`, or nil when `target` is not `base`
    /// plus additions: another geometry, a generation not after the base, fewer
    /// entries, or a base bit cleared.
    public init?(from base: BloomFilter, to target: BloomFilter) {
        guard base.geometry == target.geometry,
              target.generation > base.generation,
              target.count >= base.count
        else { return nil }
        var positions = [Int]()
        for (index, (old, new)) in zip(base.words, target.words).enumerated() {
            guard old & ~new == 0 else { return nil }
            var added = new & ~old
            while added != 0 {
                positions.append(index * 64 + added.trailingZeroBitCount)
                added &= added - 1
            }
        }
        self.geometry = base.geometry
        self.baseGeneration = base.generation
        self.generation = target.generation
        self.count = target.count
        self.positions = positions
    }

    /// The filter this delta turns `filter` into, or nil when it does not apply
    /// (another geometry, or `filter` is not the base generation).
    public func apply(to filter: BloomFilter) -> BloomFilter? {
        guard filter.geometry == geometry, filter.generation == baseGeneration, count >= filter.count else {
            return nil
        }
        var result = filter
        result.setBits(positions, count: count)
        result.generation = generation
        return result
    }

    /// `apply(to:)` on serialized bytes, for the gossip layer, which stores
    /// summaries as opaque bytes: usable as `@Sendable ([UInt8], [UInt8]) -> [UInt8]?`.
    /// Nil when either input does not decode or the delta does not apply; the
    /// caller then asks the peer for its full filter.
    @Sendable
    public static func apply(_ delta: [UInt8], to filter: [UInt8]) -> [UInt8]? {
        guard let delta = try? SummaryDelta(serialized: delta),
              let base = try? BloomFilter(serialized: filter),
              let result = delta.apply(to: base)
        else { return nil }
        return result.serialized()
    }

    public func serialized() -> [UInt8] {
        var writer = ByteWriter(capacity: Self.headerSize + 3 * positions.count + 8)
        SummaryWireFormat.writePrefix(magic: SummaryWireFormat.deltaMagic, hashCount: geometry.hashCount, into: &writer)
        writer.appendLittleEndian(UInt64(geometry.bitCount))
        writer.appendLittleEndian(baseGeneration)
        writer.appendLittleEndian(generation)
        writer.appendLittleEndian(UInt64(count))
        writer.appendVarint(UInt64(positions.count))
        var previous: Int? = nil
        for position in positions {
            writer.appendVarint(UInt64(position - (previous ?? 0)))
            previous = position
        }
        SummaryWireFormat.seal(&writer)
        return writer.bytes
    }

    /// Decodes and fully validates a serialized delta; malformed input throws.
    public init(serialized bytes: [UInt8]) throws(SummaryFormatError) {
        guard bytes.count <= Self.maximumSerializedSize else {
            throw .tooLarge(byteCount: bytes.count, limit: Self.maximumSerializedSize)
        }
        guard bytes.count >= Self.headerSize + 1 + SummaryWireFormat.checksumSize else {
            // Still report a wrong magic as such when there are enough bytes to see it.
            var probe = ByteReader(bytes)
            _ = try SummaryWireFormat.readPrefix(magic: SummaryWireFormat.deltaMagic, from: &probe)
            throw .truncated
        }
        var reader = ByteReader(bytes, end: bytes.count - SummaryWireFormat.checksumSize)
        let hashCount = try SummaryWireFormat.readPrefix(magic: SummaryWireFormat.deltaMagic, from: &reader)
        try SummaryWireFormat.verifyChecksum(bytes)
        let bitCount: UInt64 = try reader.readLittleEndian()
        guard bitCount <= UInt64(BloomFilter.Geometry.maximumBitCount) else {
            throw .invalidGeometry(bitCount: bitCount, hashCount: hashCount)
        }
        let geometry = try BloomFilter.Geometry(bitCount: Int(bitCount), hashCount: Int(hashCount))
        let baseGeneration: UInt64 = try reader.readLittleEndian()
        let generation: UInt64 = try reader.readLittleEndian()
        guard generation > baseGeneration else { throw .invalidGenerations(base: baseGeneration, new: generation) }
        let count: UInt64 = try reader.readLittleEndian()
        guard count <= UInt64(Int.max) else { throw .invalidCount(count) }

        let positionCount = try reader.readVarint()
        // Each position takes at least one byte, and there are at most m of them.
        guard positionCount <= UInt64(reader.remaining), positionCount <= bitCount else {
            throw .invalidPositions("count \(positionCount) exceeds what the input can hold")
        }
        var positions = [Int]()
        positions.reserveCapacity(Int(positionCount))
        var position: UInt64 = 0
        for index in 0..<Int(positionCount) {
            let step = try reader.readVarint()
            guard index == 0 || step >= 1 else { throw .invalidPositions("not strictly ascending") }
            guard step < bitCount - position else { throw .invalidPositions("position beyond m") }
            position += step
            positions.append(Int(position))
        }
        guard reader.remaining == 0 else { throw .trailingBytes(reader.remaining) }

        self.geometry = geometry
        self.baseGeneration = baseGeneration
        self.generation = generation
        self.count = Int(count)
        self.positions = positions
    }
}
