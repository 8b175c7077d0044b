/// Shared pieces of the two summary encodings (`BloomFilter` and
/// `SummaryDelta`).
///
/// Both start with the same 8 bytes: a 4-byte magic, a format version, the
/// hash scheme, k, and a reserved zero byte; both end with a little-endian
/// CRC-32C of everything before it. All integers are little-endian.
enum SummaryWireFormat {
    static let version: UInt8 = 1
    /// Scheme 1: index_i = (h1 + i·h2) mod m, exact integer arithmetic, where
    /// h1 and h2 are the little-endian UInt64 values of key bytes 0..<8 and
    /// 8..<16 (Kirsch–Mitzenmacher double hashing over sha256 bytes).
    static let schemeSHA256DoubleHashing: UInt8 = 1
    static let filterMagic: [UInt8] = Array("GMBF".utf8)
    static let deltaMagic: [UInt8] = Array("GMBD".utf8)
    static let checksumSize = 4

    /// Writes the common 8-byte prefix.
    static func writePrefix(magic: [UInt8], hashCount: Int, into writer: inout ByteWriter) {
        writer.append(contentsOf: magic)
        writer.append(version)
        writer.append(schemeSHA256DoubleHashing)
        writer.append(UInt8(hashCount))
        writer.append(0)
    }

    /// Reads and checks the common prefix; returns k.
    static func readPrefix(magic: [UInt8], from reader: inout ByteReader) throws(SummaryFormatError) -> UInt8 {
        guard try reader.readBytes(magic.count) == magic[...] else { throw .badMagic }
        let version = try reader.readByte()
        guard version == Self.version else { throw .unsupportedVersion(version) }
        let scheme = try reader.readByte()
        guard scheme == schemeSHA256DoubleHashing else { throw .unsupportedScheme(scheme) }
        let hashCount = try reader.readByte()
        guard try reader.readByte() == 0 else { throw .reservedBitsSet }
        return hashCount
    }

    /// Appends the CRC-32C of everything written so far.
    static func seal(_ writer: inout ByteWriter) {
        writer.appendLittleEndian(CRC32C.checksum(writer.bytes))
    }

    /// Checks the trailing checksum of `bytes` (whose length was validated).
    static func verifyChecksum(_ bytes: [UInt8]) throws(SummaryFormatError) {
        guard bytes.count >= checksumSize else { throw .truncated }
        let body = bytes.count - checksumSize
        var stored: UInt32 = 0
        for (shift, byte) in bytes[body...].enumerated() { stored |= UInt32(byte) << (8 * UInt32(shift)) }
        guard CRC32C.checksum(bytes[..<body]) == stored else { throw .checksumMismatch }
    }
}

/// Appends little-endian integers and LEB128 varints to a byte array.
struct ByteWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    mutating func append(_ byte: UInt8) { bytes.append(byte) }

    mutating func append(contentsOf other: some Sequence<UInt8>) { bytes.append(contentsOf: other) }

    mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        var remaining = value.littleEndian
        withUnsafeBytes(of: &remaining) { bytes.append(contentsOf: $0) }
    }

    /// Appends words as consecutive little-endian UInt64s (one copy on
    /// little-endian hosts, which is every platform Swift runs this on).
    mutating func appendLittleEndianWords(_ words: [UInt64]) {
        if UInt64(1).littleEndian == 1 {
            words.withUnsafeBytes { bytes.append(contentsOf: $0) }
        } else {
            for word in words { appendLittleEndian(word) }
        }
    }

    /// Unsigned LEB128: 7 bits per byte, low bits first, high bit = more.
    mutating func appendVarint(_ value: UInt64) {
        var remaining = value
        while remaining >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: remaining) | 0x80)
            remaining >>= 7
        }
        bytes.append(UInt8(remaining))
    }
}

/// Reads what `ByteWriter` writes, throwing instead of reading past the end.
struct ByteReader {
    private let bytes: [UInt8]
    private(set) var offset: Int
    /// Where the readable region ends (the checksum after it is not payload).
    private let end: Int

    init(_ bytes: [UInt8], end: Int? = nil) {
        self.bytes = bytes
        self.offset = 0
        self.end = min(end ?? bytes.count, bytes.count)
    }

    var remaining: Int { end - offset }

    mutating func readByte() throws(SummaryFormatError) -> UInt8 {
        guard offset < end else { throw .truncated }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func readBytes(_ count: Int) throws(SummaryFormatError) -> ArraySlice<UInt8> {
        guard count >= 0, count <= remaining else { throw .truncated }
        defer { offset += count }
        return bytes[offset..<(offset + count)]
    }

    mutating func readLittleEndian<T: FixedWidthInteger & UnsignedInteger>(_: T.Type = T.self) throws(SummaryFormatError) -> T {
        var value: T = 0
        for (index, byte) in try readBytes(MemoryLayout<T>.size).enumerated() {
            value |= T(byte) << (8 * index)
        }
        return value
    }

    /// Unsigned LEB128, at most 10 bytes, minimal encoding only (so every
    /// value has exactly one encoding and equal deltas have equal bytes).
    mutating func readVarint() throws(SummaryFormatError) -> UInt64 {
        var value: UInt64 = 0
        for index in 0..<10 {
            let byte = try readByte()
            let payload = UInt64(byte & 0x7F)
            if index == 9 && byte > 1 { throw .malformedVarint }
            value |= payload << (7 * UInt64(index))
            if byte & 0x80 == 0 {
                if index > 0 && byte == 0 { throw .malformedVarint }
                return value
            }
        }
        throw .malformedVarint
    }
}
