/// The serialized filter, format version 1 (little-endian throughout):
///
///     offset  size  field
///          0     4  magic "GMBF"
///          4     1  format version (1)
///          5     1  hash scheme (1: sha256 double hashing, see SummaryWireFormat)
///          6     1  k
///          7     1  reserved, 0
///          8     8  m, bits (a multiple of 64, at most 8 MiB worth)
///         16     8  n, entries
///         24     8  generation
///         32   m/8  bit array as m/64 UInt64 words
///     32+m/8     4  CRC-32C of all preceding bytes
extension BloomFilter {
    static let headerSize = 32

    /// The largest valid encoding: header, 8 MiB of bits, checksum.
    public static let maximumSerializedSize =
        headerSize + Geometry.maximumBitCount / 8 + SummaryWireFormat.checksumSize

    public func serialized() -> [UInt8] {
        var writer = ByteWriter(capacity: Self.headerSize + words.count * 8 + SummaryWireFormat.checksumSize)
        SummaryWireFormat.writePrefix(magic: SummaryWireFormat.filterMagic, hashCount: geometry.hashCount, into: &writer)
        writer.appendLittleEndian(UInt64(geometry.bitCount))
        writer.appendLittleEndian(UInt64(count))
        writer.appendLittleEndian(generation)
        writer.appendLittleEndianWords(words)
        SummaryWireFormat.seal(&writer)
        return writer.bytes
    }

    /// Decodes and fully validates a serialized filter. Every malformed input
    /// (short, long, other magic, version or scheme, impossible geometry,
    /// checksum mismatch) throws; nothing is allocated from an unchecked size.
    public init(serialized bytes: [UInt8]) throws(SummaryFormatError) {
        guard bytes.count <= Self.maximumSerializedSize else {
            throw .tooLarge(byteCount: bytes.count, limit: Self.maximumSerializedSize)
        }
        var reader = ByteReader(bytes)
        let hashCount = try SummaryWireFormat.readPrefix(magic: SummaryWireFormat.filterMagic, from: &reader)
        let bitCount: UInt64 = try reader.readLittleEndian()
        guard bitCount <= UInt64(Geometry.maximumBitCount) else {
            throw .invalidGeometry(bitCount: bitCount, hashCount: hashCount)
        }
        let geometry = try Geometry(bitCount: Int(bitCount), hashCount: Int(hashCount))
        let count: UInt64 = try reader.readLittleEndian()
        guard count <= UInt64(Int.max) else { throw .invalidCount(count) }
        let generation: UInt64 = try reader.readLittleEndian()

        let expectedSize = Self.headerSize + geometry.bitCount / 8 + SummaryWireFormat.checksumSize
        guard bytes.count >= expectedSize else { throw .truncated }
        guard bytes.count == expectedSize else { throw .trailingBytes(bytes.count - expectedSize) }
        try SummaryWireFormat.verifyChecksum(bytes)

        let words = bytes.withUnsafeBytes { raw in
            (0..<(geometry.bitCount / 64)).map { index in
                UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: Self.headerSize + 8 * index, as: UInt64.self))
            }
        }
        self.init(geometry: geometry, count: Int(count), generation: generation, words: words)
    }
}
