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

    static func make(from node: GossipNode, catalog: LocalCatalog? = nil, registry: RegistryMetrics? = nil) async -> StatusReport {
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
        return StatusReport(
            name: me.name, address: "\(me.endpoint)", profile: node.configuration.settings.profileName,
            localHealth: await node.localHealthScore, keyIDs: await node.keys.map(\.id), members: members,
            gossip: await node.statistics, catalog: catalogReport, registry: registry?.snapshot)
    }
}
