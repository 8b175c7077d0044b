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
        from node: GossipNode, catalog: LocalCatalog? = nil, registry: RegistryMetrics? = nil, coldPull: ColdPull? = nil
    ) async -> StatusReport {
        let me = await node.myself
        let members = await node.members.map { m in
            MemberReport(
                name: m.name, address: "\(m.endpoint)", state: "\(m.status)", incarnation: m.incarnation,
                registry: m.metadata["registry"], payloadGeneration: m.payloadGeneration,
                roundTripMilliseconds: m.roundTripTime.map { $0.seconds * 1000 }, isSelf: m.name == me.name)
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
        return StatusReport(
            name: me.name, address: "\(me.endpoint)", profile: node.configuration.settings.profileName,
            localHealth: await node.localHealthScore, keyIDs: await node.keys.map(\.id), members: members,
            gossip: await node.statistics, catalog: catalogReport, registry: registry?.snapshot,
            coldPull: coldReport)
    }
}
