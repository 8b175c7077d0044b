/// Reads what `ByteWriter` wrote, checking every length against what is left.
struct ByteReader {
    private let bytes: [UInt8]
    private(set) var offset: Int

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.offset = 0
    }

    var remaining: Int { bytes.count - offset }

    mutating func readUInt8() throws(WireError) -> UInt8 {
        guard remaining >= 1 else { throw .truncated }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func readUInt16() throws(WireError) -> UInt16 {
        guard remaining >= 2 else { throw .truncated }
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    mutating func readUInt32() throws(WireError) -> UInt32 {
        guard remaining >= 4 else { throw .truncated }
        var v: UInt32 = 0
        for i in 0..<4 { v = v << 8 | UInt32(bytes[offset + i]) }
        offset += 4
        return v
    }

    mutating func readUInt64() throws(WireError) -> UInt64 {
        guard remaining >= 8 else { throw .truncated }
        var v: UInt64 = 0
        for i in 0..<8 { v = v << 8 | UInt64(bytes[offset + i]) }
        offset += 8
        return v
    }

    mutating func readBool() throws(WireError) -> Bool {
        switch try readUInt8() {
        case 0: return false
        case 1: return true
        default: throw .invalid("boolean out of range")
        }
    }

    mutating func readBytes(_ count: Int) throws(WireError) -> [UInt8] {
        guard count >= 0, remaining >= count else { throw .truncated }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    mutating func readBlob(maximum: Int) throws(WireError) -> [UInt8] {
        let count = Int(try readUInt32())
        guard count <= maximum else { throw .tooLarge(count) }
        return try readBytes(count)
    }

    mutating func readShortBlob() throws(WireError) -> [UInt8] {
        try readBytes(Int(try readUInt16()))
    }

    /// A count of items that each take at least `minimumItemSize` bytes, so
    /// that a forged count cannot make the decoder reserve huge arrays.
    mutating func readCount(minimumItemSize: Int) throws(WireError) -> Int {
        let count = Int(try readUInt32())
        // Divided rather than multiplied: no product to overflow.
        guard count <= remaining / max(1, minimumItemSize) else { throw .truncated }
        return count
    }

    func expectEnd() throws(WireError) {
        guard remaining == 0 else { throw .trailingBytes(remaining) }
    }
}
