import Catalog
import Foundation
import Gossip
import Synchronization

/// A peer that may hold something, as the router ranks it.
public struct PeerCandidate: Hashable, Sendable {
    public var name: String
    /// `host:port` of the peer's registry API.
    public var registryAddress: String
    public var roundTripTime: Duration?
    public var score: Double
}

/// What this node knows of every other member's content and health: the
/// Bloom-filter summaries gossiped by the catalog, the registry address from
/// the member's metadata, SWIM's round-trip times, requests in flight, and
/// recent failures. Lookups are local bit tests.
///
/// A `Mutex` rather than an actor: lookups are on every request's path and
/// take microseconds, so a lock is cheaper than an actor hop, and `Mutex`
/// makes the class `Sendable` without `@unchecked`.
public final class PeerDirectory: Sendable {
    struct Peer: Sendable {
        var name: String
        var registryAddress: String?
        var active: Bool
        var roundTripTime: Duration?
        var summary: BloomFilter?
        var inFlight = 0
        /// Failures, decaying by half every `failureHalfLife`.
        var failures = 0.0
        var failuresUpdatedAt = Date.distantPast
        /// Until when the peer is not asked at all (it served wrong bytes).
        var bannedUntil = Date.distantPast
    }

    private let peers = Mutex<[String: Peer]>([:])
    private let selfName: String
    /// How long a peer that served bytes not matching their digest is not asked.
    public let banDuration: TimeInterval
    public let failureHalfLife: TimeInterval

    public init(selfName: String, banDuration: TimeInterval = 600, failureHalfLife: TimeInterval = 30) {
        self.selfName = selfName
        self.banDuration = banDuration
        self.failureHalfLife = failureHalfLife
    }

    /// Updates membership facts (called on membership events and periodically).
    public func update(members: [SWIM.Member], advertisedHost: (SWIM.Member) -> String? = { $0.endpoint.host }) {
        peers.withLock { peers in
            var seen = Set<String>()
            for m in members where m.name != selfName {
                seen.insert(m.name)
                var peer = peers[m.name] ?? Peer(name: m.name, registryAddress: nil, active: false)
                peer.active = m.status == .alive
                peer.roundTripTime = m.roundTripTime
                peer.registryAddress = Self.registryAddress(of: m)
                peers[m.name] = peer
            }
            for name in peers.keys where !seen.contains(name) { peers[name] = nil }
        }
    }

    /// The registry address a member advertises; a wildcard host is replaced
    /// by the member's gossip address.
    static func registryAddress(of member: SWIM.Member) -> String? {
        guard let advertised = member.metadata["registry"], let endpoint = SWIM.Endpoint(parsing: advertised) else { return nil }
        if endpoint.host == "0.0.0.0" || endpoint.host == "::" {
            return SWIM.Endpoint(host: member.endpoint.host, port: endpoint.port).description
        }
        return endpoint.description
    }

    /// Replaces a member's summary; undecodable bytes clear it (and are reported).
    @discardableResult
    public func setSummary(of name: String, bytes: [UInt8]) -> Bool {
        let filter = try? BloomFilter(serialized: bytes)
        peers.withLock { peers in
            var peer = peers[name] ?? Peer(name: name, registryAddress: nil, active: true)
            peer.summary = filter
            peers[name] = peer
        }
        return filter != nil
    }

    /// The number of keys (digests and tags) in each peer's summary, for the
    /// status page.
    public func summaryEntries() -> [String: Int] {
        peers.withLock { peers in peers.compactMapValues { $0.summary?.count } }
    }

    /// Alive peers whose summary may contain `key`, best first: fewer recent
    /// failures, lower round-trip time, fewer requests in flight.
    public func candidates(for key: SummaryKey, now: Date = Date()) -> [PeerCandidate] {
        peers.withLock { peers in
            var out: [PeerCandidate] = []
            for peer in peers.values where peer.active && peer.bannedUntil < now {
                guard let address = peer.registryAddress, let summary = peer.summary, summary.mightContain(key) else { continue }
                out.append(PeerCandidate(name: peer.name, registryAddress: address, roundTripTime: peer.roundTripTime, score: score(peer, now)))
            }
            return out.sorted { $0.score < $1.score || ($0.score == $1.score && $0.name < $1.name) }
        }
    }

    /// Names of alive peers whose summary may contain `key`.
    public func holders(of key: SummaryKey) -> [String] {
        candidates(for: key).map(\.name).sorted()
    }

    /// Lower is better: round-trip time in milliseconds (1 ms when unknown)
    /// scaled by load, plus 50 ms per recent failure.
    private func score(_ peer: Peer, _ now: Date) -> Double {
        let rtt = peer.roundTripTime.map { max(0.05, $0.seconds * 1000) } ?? 1
        return rtt * Double(1 + peer.inFlight) + 50 * decayed(peer, now)
    }

    private func decayed(_ peer: Peer, _ now: Date) -> Double {
        let age = now.timeIntervalSince(peer.failuresUpdatedAt)
        return peer.failures * pow(0.5, max(0, age) / failureHalfLife)
    }

    /// A request to `name` begins.
    public func begin(_ name: String) { peers.withLock { $0[name]?.inFlight += 1 } }

    /// A request to `name` ended; a failure (refused, timed out, 5xx) counts against it.
    public func end(_ name: String, failed: Bool, now: Date = Date()) {
        peers.withLock { peers in
            guard var peer = peers[name] else { return }
            peer.inFlight = max(0, peer.inFlight - 1)
            if failed {
                peer.failures = decayed(peer, now) + 1
                peer.failuresUpdatedAt = now
            }
            peers[name] = peer
        }
    }

    /// The peer served bytes that do not match their digest: stop asking it for a while.
    public func penalise(_ name: String, now: Date = Date()) {
        peers.withLock { $0[name]?.bannedUntil = now.addingTimeInterval(banDuration) }
    }
}
