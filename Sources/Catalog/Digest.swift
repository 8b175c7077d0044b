/// A content digest in the only form this mirror accepts: `sha256:` followed by
/// exactly 64 lowercase hexadecimal characters.
///
/// Parsing is strict on purpose (OCI image spec, "Digests"): a digest becomes
/// part of a file path under containerd's content root, so anything else (other
/// algorithms, upper case, separators, `..`, overlong input) is rejected before
/// it can reach the file system.
public struct Digest: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The 32 raw bytes of the sha256 hash.
    public let bytes: [UInt8]

    public init?(_ string: some StringProtocol) {
        guard string.utf8.count == 71, string.hasPrefix("sha256:") else { return nil }
        var raw = [UInt8]()
        raw.reserveCapacity(32)
        var high: UInt8? = nil
        for c in string.utf8.dropFirst(7) {
            let v: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): v = c - UInt8(ascii: "a") + 10
            default: return nil
            }
            if let h = high { raw.append(h << 4 | v); high = nil } else { high = v }
        }
        self.bytes = raw
    }

    /// Wraps 32 raw hash bytes.
    public init?(sha256 bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        self.bytes = bytes
    }

    /// The 64 lowercase hex characters.
    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 0xF)]) }
        return String(decoding: out, as: UTF8.self)
    }

    public var description: String { "sha256:" + hex }

    public static func < (lhs: Digest, rhs: Digest) -> Bool { lhs.bytes.lexicographicallyPrecedes(rhs.bytes) }
}
