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
/// the member's metadata, SWIM's liveness and round-trip times, attempts in
/// flight, and recent failures. Lookups are local bit tests.
///
/// Only members SWIM holds alive are candidates: a suspect, dead or departed
/// member is never dialled. Attempts are leases (`lease(_:)`); how each ends
/// is the one place where a peer's standing changes (`settle`).
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

    public init(selfName: String, banDuration: Duration = .seconds(600), failureHalfLife: Duration = .seconds(30)) {
        self.selfName = selfName
        self.banDuration = banDuration.seconds
        self.failureHalfLife = failureHalfLife.seconds
    }

    /// Updates membership facts (called on membership events and periodically).
    public func update(members: [SWIM.Member]) {
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
    /// failures, lower round-trip time, fewer attempts in flight.
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

    /// Whether SWIM holds `name` alive now.
    public func isAlive(_ name: String) -> Bool { peers.withLock { $0[name]?.active ?? false } }

    /// Whether `name` served bytes that did not match their digest recently.
    public func isBanned(_ name: String, now: Date = Date()) -> Bool {
        peers.withLock { ($0[name]?.bannedUntil ?? .distantPast) >= now }
    }

    /// Attempts to `name` in flight now.
    public func inFlight(_ name: String) -> Int { peers.withLock { $0[name]?.inFlight ?? 0 } }

    /// Attempts in flight to all peers together.
    public var totalInFlight: Int { peers.withLock { $0.values.reduce(0) { $0 + $1.inFlight } } }

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

    /// An attempt at `peer` begins; `onEnd` hears how it ended (after the
    /// directory has settled it), for metrics and logs.
    func lease(_ peer: PeerCandidate, onEnd: @escaping @Sendable (PeerCandidate, AttemptOutcome) -> Void = { _, _ in }) -> AttemptLease {
        peers.withLock { $0[peer.name]?.inFlight += 1 }
        return AttemptLease(peer: peer) { [self] peer, outcome in
            peers.withLock { peers in
                guard var entry = peers[peer.name] else { return }
                entry.inFlight = max(0, entry.inFlight - 1)
                judge(&entry, outcome, now: Date())
                peers[peer.name] = entry
            }
            onEnd(peer, outcome)
        }
    }

    /// Applies a verdict found after the attempts ended (a streamed blob
    /// that failed its digest check at the end): `.lied` bans the peer.
    func settle(_ name: String, _ outcome: AttemptOutcome, now: Date = Date()) {
        peers.withLock { peers in
            guard var entry = peers[name] else { return }
            judge(&entry, outcome, now: now)
            peers[name] = entry
        }
    }

    /// What an outcome does to a peer's standing: the only place penalties
    /// are decided.
    private func judge(_ peer: inout Peer, _ outcome: AttemptOutcome, now: Date) {
        switch outcome {
        case .served, .absent, .cancelled:
            break
        case .failed:
            peer.failures = decayed(peer, now) + 1
            peer.failuresUpdatedAt = now
        case .lied:
            peer.bannedUntil = now.addingTimeInterval(banDuration)
        }
    }
}
