import Foundation
import Catalog
import Gossip
import Registry

/// What `/status.json` answers and `members`/`status` print.
struct StatusReport: Codable, Sendable {
    struct MemberReport: Codable, Sendable {
        var name: String
        var address: String
        var state: String
        var incarnation: UInt64
        var registry: String?
        var payloadGeneration: UInt64
        var roundTripMilliseconds: Double?
        var isSelf: Bool
        /// Keys (digests and tags) in the member's summary: this node's own
        /// catalog, or the summary it last received from the member.
        var catalogEntries: Int?
    }

    struct CatalogReport: Codable, Sendable {
        var store: String
        var available: Bool
        var blobs: Int
        var tags: Int
        var summaryGeneration: UInt64
        var summaryBytes: Int
        /// Entries of the store that are not shared, and why (nil from older nodes).
        var skipped: [SkippedImage]?
    }

    var name: String
    var address: String
    var profile: String
    var localHealth: Int
    var keyIDs: [UInt8]
    var members: [MemberReport]
    var gossip: GossipStatistics
    var catalog: CatalogReport?
    var registry: RegistryMetrics.Counts?
    /// `BuildInfo.version` and `.commit` of the node (absent from nodes older than 0.2.0).
    var version: String?
    var commit: String?
    var lastRequests: [RecentActivity.RequestEntry]?
    var lastErrors: [RecentActivity.ErrorEntry]?

    /// The share of registry lookups answered from each source (`local`,
    /// `peer`, `miss`), nil before the first.
    var hitRatios: [String: Double]? {
        guard let requests = registry?.requests else { return nil }
        let sources = ["local", "peer", "miss"]
        let total = sources.reduce(0) { $0 + requests[$1, default: 0] }
        guard total > 0 else { return nil }
        return Dictionary(uniqueKeysWithValues: sources.map { ($0, Double(requests[$0, default: 0]) / Double(total)) })
    }

    /// Cold pulls (nil from nodes that do not report them).
    var coldPull: ColdPullReport?

    struct ColdPullReport: Codable, Sendable {
        var enabled: Bool
        /// Digests this node's containerd fetches from the upstream under a claim.
        var fetching: [String]
        var counts: ColdPullMetrics.Counts
        /// The claims this node holds as the coordinator of their digests.
        var claims: [ClaimReport]
    }

    static func make(
        from node: GossipNode, catalog: LocalCatalog? = nil, registry: RegistryMetrics? = nil, peers: PeerDirectory? = nil,
        recent: RecentActivity? = nil, coldPull: ColdPull? = nil
    ) async -> StatusReport {
        let me = await node.myself
        let entries = peers?.summaryEntries() ?? [:]
        let members = await node.members.map { m in
            MemberReport(
                name: m.name, address: "\(m.endpoint)", state: "\(m.status)", incarnation: m.incarnation,
                registry: m.metadata["registry"], payloadGeneration: m.payloadGeneration,
                roundTripMilliseconds: m.roundTripTime.map { $0.seconds * 1000 }, isSelf: m.name == me.name,
                catalogEntries: entries[m.name])
        }
        var catalogReport: CatalogReport?
        if let catalog {
            let snapshot = await catalog.snapshot
            let status = await catalog.storeStatus
            catalogReport = CatalogReport(
                store: "\(status)", available: status.isAvailable, blobs: snapshot.blobs.count, tags: snapshot.tags.count,
                summaryGeneration: await catalog.generation, summaryBytes: await catalog.summary.count,
                skipped: await catalog.skippedImages())
        }
        var coldReport: ColdPullReport?
        if let coldPull {
            coldReport = ColdPullReport(
                enabled: coldPull.settings.enabled, fetching: await coldPull.fetching.map(\.description),
                counts: coldPull.metrics.snapshot, claims: coldPull.coordinator.claims)
        }
        var report = StatusReport(
            name: me.name, address: "\(me.endpoint)", profile: node.configuration.settings.profileName,
            localHealth: await node.localHealthScore, keyIDs: await node.keys.map(\.id), members: members,
            gossip: await node.statistics, catalog: catalogReport, registry: registry?.snapshot,
            version: BuildInfo.version, commit: BuildInfo.commit,
            lastRequests: recent?.lastRequests, lastErrors: recent?.lastErrors, coldPull: coldReport)
        if let catalogReport, let index = report.members.firstIndex(where: \.isSelf) {
            report.members[index].catalogEntries = catalogReport.blobs + catalogReport.tags
        }
        return report
    }
}
