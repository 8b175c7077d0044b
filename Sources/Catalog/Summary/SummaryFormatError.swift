/// Why serialized summary bytes (a filter or a delta) were rejected.
///
/// Summaries arrive from other nodes, so decoding validates everything before
/// allocating or indexing: these errors are the only outcome of bad input.
public enum SummaryFormatError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The input ends before a field it must contain.
    case truncated
    /// The input is longer than any valid encoding may be.
    case tooLarge(byteCount: Int, limit: Int)
    /// The first four bytes do not name the expected encoding.
    case badMagic
    case unsupportedVersion(UInt8)
    case unsupportedScheme(UInt8)
    /// m or k out of range or inconsistent (m not a positive multiple of 64, k not in 1...64).
    case invalidGeometry(bitCount: UInt64, hashCount: UInt8)
    /// A reserved byte is not zero.
    case reservedBitsSet
    /// The input is longer than the encoding it describes.
    case trailingBytes(Int)
    case checksumMismatch
    /// A count that does not fit this platform or the encoding.
    case invalidCount(UInt64)
    /// A delta whose new generation is not after its base generation.
    case invalidGenerations(base: UInt64, new: UInt64)
    /// A delta bit position list that is unsorted, repeated or out of range.
    case invalidPositions(String)
    /// A varint that is overlong, non-minimal or exceeds 64 bits.
    case malformedVarint

    public var description: String {
        switch self {
        case .truncated: "summary bytes truncated"
        case .tooLarge(let count, let limit): "summary bytes too large: \(count) > \(limit)"
        case .badMagic: "not a gossip-mirror summary encoding (bad magic)"
        case .unsupportedVersion(let version): "unsupported summary format version \(version)"
        case .unsupportedScheme(let scheme): "unsupported summary hash scheme \(scheme)"
        case .invalidGeometry(let m, let k): "invalid filter geometry m=\(m) k=\(k)"
        case .reservedBitsSet: "reserved header byte is not zero"
        case .trailingBytes(let count): "\(count) unexpected trailing bytes"
        case .checksumMismatch: "summary checksum mismatch"
        case .invalidCount(let count): "invalid entry count \(count)"
        case .invalidGenerations(let base, let new): "delta generation \(new) does not follow base \(base)"
        case .invalidPositions(let why): "invalid delta positions: \(why)"
        case .malformedVarint: "malformed varint"
        }
    }
}
