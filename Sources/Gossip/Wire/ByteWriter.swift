/// Appends big-endian integers and length-prefixed fields to a byte array.
struct ByteWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    mutating func write(_ v: UInt8) { bytes.append(v) }

    mutating func write(_ v: UInt16) { bytes.append(UInt8(v >> 8)); bytes.append(UInt8(truncatingIfNeeded: v)) }

    mutating func write(_ v: UInt32) {
        for shift in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt32(shift))) }
    }

    mutating func write(_ v: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt64(shift))) }
    }

    mutating func write(_ v: Bool) { bytes.append(v ? 1 : 0) }

    /// A string of at most 255 UTF-8 bytes, prefixed by its length.
    mutating func writeShortString(_ s: String) {
        let utf8 = Array(s.utf8.prefix(255))
        bytes.append(UInt8(utf8.count))
        bytes.append(contentsOf: utf8)
    }

    /// Bytes prefixed by a 32-bit length.
    mutating func writeBlob(_ b: [UInt8]) {
        write(UInt32(b.count))
        bytes.append(contentsOf: b)
    }

    /// Bytes prefixed by a 16-bit length (at most 65535).
    mutating func writeShortBlob(_ b: [UInt8]) {
        write(UInt16(min(b.count, 65535)))
        bytes.append(contentsOf: b.prefix(65535))
    }

    mutating func writeRaw(_ b: some Sequence<UInt8>) { bytes.append(contentsOf: b) }
}
