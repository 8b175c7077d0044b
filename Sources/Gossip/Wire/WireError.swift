/// Why bytes could not be decoded. Decoding never traps: every length and
/// count is checked against what is left before it is used.
public enum WireError: Error, Equatable, Sendable, CustomStringConvertible {
    case truncated
    case tooLarge(Int)
    case unknownVersion(UInt8)
    case unknownKind(UInt8)
    case invalid(String)
    case trailingBytes(Int)

    public var description: String {
        switch self {
        case .truncated: "message truncated"
        case .tooLarge(let n): "message too large (\(n) bytes)"
        case .unknownVersion(let v): "unknown wire version \(v)"
        case .unknownKind(let k): "unknown message kind \(k)"
        case .invalid(let why): "invalid message: \(why)"
        case .trailingBytes(let n): "\(n) unexpected trailing bytes"
        }
    }
}
