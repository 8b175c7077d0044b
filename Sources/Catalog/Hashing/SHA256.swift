import Crypto

/// SHA-256 of bytes in memory, as a `Digest`: tag keys, manifests, fixtures.
///
/// Computed by swift-crypto (BoringSSL on Linux, which uses the CPU's SHA
/// extensions where present); this replaced a hand-written implementation
/// once Catalog depended on other libraries anyway. Streams are hashed
/// incrementally with `Crypto.SHA256` directly (see Registry's
/// `DigestVerifier`).
public enum SHA256 {
    /// The digest of `bytes`.
    public static func hash(_ bytes: some Sequence<UInt8>) -> Digest {
        var hasher = Crypto.SHA256()
        if bytes.withContiguousStorageIfAvailable({ hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }) == nil {
            Array(bytes).withUnsafeBytes { hasher.update(bufferPointer: $0) }
        }
        return Digest(sha256: Array(hasher.finalize()))!  // a SHA-256 digest is 32 bytes
    }
}
