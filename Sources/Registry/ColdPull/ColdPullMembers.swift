import Catalog
import Gossip
import Synchronization

/// The membership as cold pulls need it: which members take part in
/// rendezvous hashing (every member not declared dead or left, this node
/// included), where their registry ports are, and which blobs they announce
/// fetching. Updated from the gossip layer's member list.
///
/// Suspect members stay in: suspicion is a local opinion that differs from
/// member to member for a moment and is often refuted, while dead and left
/// are what every member converges on. An asker that cannot reach a suspect
/// coordinator goes on to the next in the ranking, which is where the
/// claims go once the suspect is declared dead.
public final class ColdPullMembers: Sendable {
    public struct Member: Hashable, Sendable {
        public var name: String
        /// `host:port` of the member's registry API.
        public var registryAddress: String
        /// Digest prefixes the member announces fetching (`FetchAnnouncement`).
        public var fetching: Set<String>
    }

    public let selfName: String
    private let members = Mutex<[String: Member]>([:])

    public init(selfName: String) {
        self.selfName = selfName
    }

    /// Replaces the view; returns the names of members that were in it and
    /// are not any more (dead, left or reaped), whose claims end.
    @discardableResult
    public func update(_ list: [SWIM.Member]) -> Set<String> {
        var next: [String: Member] = [:]
        for m in list where m.name != selfName && (m.status == .alive || m.status == .suspect) {
            guard let address = PeerDirectory.registryAddress(of: m) else { continue }
            next[m.name] = Member(
                name: m.name, registryAddress: address, fetching: FetchAnnouncement.decode(m.metadata[FetchAnnouncement.metadataKey]))
        }
        return members.withLock { current in
            let gone = Set(current.keys).subtracting(next.keys)
            current = next
            return gone
        }
    }

    /// This node and every other member in the view.
    public var names: [String] {
        members.withLock { [selfName] + Array($0.keys) }
    }

    public func member(named name: String) -> Member? {
        members.withLock { $0[name] }
    }

    /// A member announcing that it fetches `digest` (the first by name when
    /// several do), other than `excluding`.
    public func announcer(of digest: Digest, excluding: String? = nil) -> String? {
        let prefix = FetchAnnouncement.prefix(of: digest)
        return members.withLock { members in
            members.values.filter { $0.fetching.contains(prefix) && $0.name != excluding }.map(\.name).min()
        }
    }

    /// Members in rendezvous order for `digest`: the coordinator first.
    public func coordinators(of digest: Digest) -> [String] {
        Rendezvous.ranking(of: digest, among: names)
    }
}
