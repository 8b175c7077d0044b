import Catalog
import Crypto

/// Rendezvous (highest random weight) hashing: Thaler and Ravishankar, "A
/// Name-Based Mapping Scheme for Rendezvous", 1996.
///
/// Every member gets a weight for a digest from a hash of both; the member of
/// highest weight coordinates the digest. Members that see the same alive
/// members therefore pick the same coordinator without talking to each
/// other, and when a member joins or leaves, only the digests whose highest
/// weight was (or becomes) that member's move: about 1/n of them, the
/// minimum any mapping can move. The ranking below the first place is the
/// order of succession: if the coordinator is dead but not yet declared so,
/// askers go to the second, which is the coordinator once the view changes.
///
/// The weight is the first 8 bytes of SHA-256 over a label, the digest's 32
/// bytes and the member's name: the same on every node and every platform
/// (Swift's `Hasher` is seeded per process, so it cannot be used).
public enum Rendezvous {
    static let label = Array("gossip-mirror rendezvous v1\u{0}".utf8)

    /// The weight of `member` for `digest`.
    public static func weight(of member: String, for digest: Catalog.Digest) -> UInt64 {
        var hasher = Crypto.SHA256()
        hasher.update(data: label)
        hasher.update(data: digest.bytes)
        hasher.update(data: Array(member.utf8))
        return hasher.finalize().withUnsafeBytes { raw in
            raw.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        }
    }

    /// `members` from highest weight to lowest (names break ties, so the
    /// order is total); duplicates count once.
    public static func ranking(of digest: Catalog.Digest, among members: some Sequence<String>) -> [String] {
        Set(members).map { (name: $0, weight: weight(of: $0, for: digest)) }
            .sorted { $0.weight != $1.weight ? $0.weight > $1.weight : $0.name < $1.name }
            .map(\.name)
    }

    /// The member that coordinates `digest`, or nil when there are none.
    public static func coordinator(of digest: Catalog.Digest, among members: some Sequence<String>) -> String? {
        var best: (name: String, weight: UInt64)?
        for name in Set(members) {
            let w = weight(of: name, for: digest)
            if let current = best, current.weight > w || (current.weight == w && current.name < name) { continue }
            best = (name, w)
        }
        return best?.name
    }
}
