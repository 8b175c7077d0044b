import Catalog
import Crypto
import NIOCore

/// Incremental SHA-256 over bytes as they stream, checked against the digest
/// they were requested by.
///
/// Backed by swift-crypto, which on Linux is BoringSSL: its SHA-256 uses the
/// CPU's SHA extensions (SHA-NI) where present, so hashing keeps up with the
/// network instead of needing a second pass. (`Catalog.SHA256` is a portable
/// pure-Swift hash for keys and fixtures; it is not meant for this path.)
///
/// `@unchecked Sendable`: the only stored property that is not declared
/// Sendable is `Crypto.SHA256`, a copy-on-write value type (its BoringSSL
/// context lives in a private class that `update` copies unless uniquely
/// referenced, and `finalize` only reads), so copies of a verifier held by
/// different tasks never write shared state, exactly as with `Array`.
public struct DigestVerifier: @unchecked Sendable {
    private var hasher = Crypto.SHA256()
    /// How many bytes have been hashed.
    public private(set) var byteCount: Int64 = 0

    public init() {}

    /// Hashes the readable bytes of `buffer` (without moving its reader index).
    public mutating func update(_ buffer: ByteBuffer) {
        buffer.withUnsafeReadableBytes { update($0) }
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        hasher.update(bufferPointer: bytes)
        byteCount += Int64(bytes.count)
    }

    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The digest of everything hashed so far. Does not consume the state:
    /// more bytes may follow and `finish()` may be called again.
    public func finish() -> Catalog.Digest {
        let raw = hasher.finalize().withUnsafeBytes { Array($0) }
        // A SHA-256 output is always 32 bytes.
        return Catalog.Digest(sha256: raw)!
    }

    /// Whether the bytes so far hash to `expected`.
    public func matches(_ expected: Catalog.Digest) -> Bool {
        finish() == expected
    }

    /// Throws `.digestMismatch` unless the bytes so far hash to `expected`.
    public func verify(_ expected: Catalog.Digest) throws(PeerFetchError) {
        let actual = finish()
        guard actual == expected else { throw .digestMismatch(expected: expected, actual: actual) }
    }

    /// The digest of `bytes` in one call.
    public static func digest(of bytes: [UInt8]) -> Catalog.Digest {
        var verifier = DigestVerifier()
        verifier.update(bytes)
        return verifier.finish()
    }

    /// The digest of the readable bytes of `buffer` in one call.
    public static func digest(of buffer: ByteBuffer) -> Catalog.Digest {
        var verifier = DigestVerifier()
        verifier.update(buffer)
        return verifier.finish()
    }
}
