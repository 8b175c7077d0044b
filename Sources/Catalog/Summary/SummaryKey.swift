/// One entry of a node's summary: 32 uniformly distributed bytes.
///
/// A content digest is its own key (its sha256 bytes are already uniformly
/// random). A tag is keyed by the sha256 of its UTF-8 tag key,
/// `registry/repository:tag` in normalised form (see `ImageReference.tagKey`),
/// so digests and tags share one filter and one bit-index scheme.
public struct SummaryKey: Hashable, Sendable, CustomStringConvertible {
    /// The 32 key bytes; bit positions are derived from the first 16.
    public let bytes: [UInt8]

    /// The key of a blob or manifest.
    public init(_ digest: Digest) {
        bytes = digest.bytes
    }

    /// The key of a tag: sha256 of `tagKey`'s UTF-8 bytes. Pass the normalised
    /// form (`docker.io/library/ubuntu:latest`), or nodes will disagree.
    public init(tagKey: String) {
        bytes = SHA256.hash(tagKey.utf8).bytes
    }

    /// Wraps 32 raw key bytes; nil for any other length.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        self.bytes = bytes
    }

    public var description: String {
        bytes.prefix(8).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined() + "…"
    }
}
