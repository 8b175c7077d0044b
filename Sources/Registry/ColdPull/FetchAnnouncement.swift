import Catalog
import Gossip

/// The blobs a member is fetching from the upstream, announced in its
/// gossiped member metadata under `fetching`, so that members find a fetch
/// without asking its coordinator (and a new coordinator after a view change
/// learns of fetches it holds no claim for).
///
/// The value is a comma-separated list of digest prefixes: 16 hex
/// characters (64 bits) each, at most 16 of them, newest last, so that the
/// whole fits the 512 bytes SWIM allows for metadata beside the registry
/// address. A prefix is a hint, not a proof: a collision (2^-64 per pair)
/// costs one request that the fetcher answers with a 404, and the bytes are
/// verified against the full digest whatever the hint said.
public enum FetchAnnouncement {
    public static let metadataKey = "fetching"
    public static let prefixLength = 16
    public static let maximumEntries = 16

    /// The metadata value for `digests` (the last `maximumEntries`), or nil
    /// when there are none.
    public static func encode(_ digests: [Digest]) -> String? {
        guard !digests.isEmpty else { return nil }
        return digests.suffix(maximumEntries).map { prefix(of: $0) }.joined(separator: ",")
    }

    /// The prefixes a value announces; an empty set for a malformed value
    /// (more entries than allowed, wrong lengths, anything but lowercase hex).
    public static func decode(_ value: String?) -> Set<String> {
        guard let value, !value.isEmpty, value.utf8.count <= maximumEntries * (prefixLength + 1) else { return [] }
        let items = value.split(separator: ",", omittingEmptySubsequences: false)
        guard items.count <= maximumEntries,
            items.allSatisfy({ $0.utf8.count == prefixLength && $0.utf8.allSatisfy(isLowercaseHex) })
        else { return [] }
        return Set(items.map(String.init))
    }

    public static func prefix(of digest: Digest) -> String {
        String(digest.hex.prefix(prefixLength))
    }

    private static func isLowercaseHex(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"))
    }
}
