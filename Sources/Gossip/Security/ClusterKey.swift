import Foundation

/// A 32-byte pre-shared cluster key for XChaCha20-Poly1305.
///
/// Keys come only from files or the environment, encoded as base64 (as
/// `gossip-mirror keygen` writes them). The raw bytes never appear in logs:
/// `description` shows only the key id.
public struct ClusterKey: Sendable, Hashable, CustomStringConvertible {
    public static let byteCount = 32

    /// The raw key bytes.
    public let bytes: [UInt8]

    /// One byte that names the key on the wire so receivers try the right key
    /// first: the first byte of BLAKE2b("gossip-mirror key id" ‖ key).
    public let id: UInt8

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case notBase64
        case wrongLength(Int)
        case unreadable(path: String, reason: String)

        public var description: String {
            switch self {
            case .notBase64: "the key is not valid base64"
            case .wrongLength(let n): "the key has \(n) bytes; a cluster key has exactly 32 (use `gossip-mirror keygen`)"
            case .unreadable(let path, let reason): "cannot read key file \(path): \(reason)"
            }
        }
    }

    public init(bytes: [UInt8]) throws(ParseError) {
        guard bytes.count == Self.byteCount else { throw .wrongLength(bytes.count) }
        self.bytes = bytes
        self.id = Sodium.hash(Array("gossip-mirror key id".utf8) + bytes, length: 16)[0]
    }

    /// Parses base64 text, ignoring surrounding whitespace.
    public init(base64 text: String) throws(ParseError) {
        guard let data = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw .notBase64
        }
        try self.init(bytes: Array(data))
    }

    /// Reads a key file written by `gossip-mirror keygen`.
    public init(contentsOfFile path: String) throws(ParseError) {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw .unreadable(path: path, reason: (error as NSError).localizedDescription)
        }
        try self.init(base64: text)
    }

    /// A new random key.
    public static func generate() -> ClusterKey {
        // 32 random bytes always make a valid key.
        try! ClusterKey(bytes: Sodium.randomBytes(byteCount))
    }

    public var base64: String { Data(bytes).base64EncodedString() }

    public var description: String { "ClusterKey(id: \(id))" }

    /// A key derived from this one for another purpose (BLAKE2b keyed with
    /// this key over a context string), so that one secret serves gossip and
    /// the registry's peer tokens without reusing key material.
    public func derive(_ context: String) -> [UInt8] {
        Sodium.hash(Array(context.utf8), key: bytes, length: 32)
    }

    /// A 32-byte message authentication code of `message` under a key derived
    /// for `context` (keyed BLAKE2b, libsodium `crypto_generichash`).
    public func authenticate(_ message: [UInt8], context: String) -> [UInt8] {
        Sodium.hash(message, key: derive(context), length: 32)
    }

    /// Whether `tag` authenticates `message` for `context`, compared in constant time.
    public func verify(_ tag: [UInt8], for message: [UInt8], context: String) -> Bool {
        Sodium.constantTimeEqual(tag, authenticate(message, context: context))
    }
}
