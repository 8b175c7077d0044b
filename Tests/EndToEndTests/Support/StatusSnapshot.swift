import Foundation
import Gossip
import Registry

/// The parts of `/status.json` the tests read.
struct StatusSnapshot: Decodable, Sendable {
    struct Member: Decodable, Sendable {
        var name: String
        var address: String
        var state: String
        var incarnation: UInt64
    }

    struct Catalog: Decodable, Sendable {
        var available: Bool
        var blobs: Int
        var tags: Int
    }

    var name: String
    var keyIDs: [UInt8]?
    var members: [Member]
    var gossip: GossipStatistics
    var catalog: Catalog?
    var registry: RegistryMetrics.Counts?
    var coldPull: ColdPullStatus?

    func state(of name: String) -> String? { members.first { $0.name == name }?.state }
    var alive: Set<String> { Set(members.filter { $0.state == "alive" }.map(\.name)) }
    var counts: RegistryMetrics.Counts { registry ?? RegistryMetrics.Counts() }
}

/// `coldPull` in `/status.json`.
struct ColdPullStatus: Decodable, Sendable {
    var enabled: Bool
    /// Digests this node's containerd fetches from the upstream under a claim.
    var fetching: [String]
    var counts: ColdPullMetrics.Counts
    var claims: [ClaimReport]
}

extension RegistryMetrics.Counts {
    func requests(_ outcome: String) -> Int { requests[outcome, default: 0] }
}

extension StatusSnapshot {
    /// `GET http://ADDRESS/status.json`, or nil if the node does not answer.
    static func fetch(from address: String) async -> StatusSnapshot? {
        guard let url = URL(string: "http://\(address)/status.json") else { return nil }
        return await HTTPGet.json(url, as: StatusSnapshot.self)
    }
}

extension LocateReport {
    /// `GET http://ADDRESS/locate?ref=…`, or nil if the node does not answer.
    static func fetch(_ reference: String, from address: String) async -> LocateReport? {
        let escaped = reference.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? reference
        guard let url = URL(string: "http://\(address)/locate?ref=\(escaped)") else { return nil }
        return await HTTPGet.json(url, as: LocateReport.self)
    }
}
