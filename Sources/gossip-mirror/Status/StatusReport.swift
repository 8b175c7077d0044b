import Gossip

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

    var name: String
    var address: String
    var profile: String
    var localHealth: Int
    var keyIDs: [UInt8]
    var members: [MemberReport]
    var gossip: GossipStatistics

    static func make(from node: GossipNode) async -> StatusReport {
        let me = await node.myself
        let members = await node.members.map { m in
            MemberReport(
                name: m.name, address: "\(m.endpoint)", state: "\(m.status)", incarnation: m.incarnation,
                registry: m.metadata["registry"], payloadGeneration: m.payloadGeneration,
                roundTripMilliseconds: m.roundTripTime.map { $0.seconds * 1000 }, isSelf: m.name == me.name)
        }
        return StatusReport(
            name: me.name, address: "\(me.endpoint)", profile: node.configuration.settings.profileName,
            localHealth: await node.localHealthScore, keyIDs: await node.keys.map(\.id), members: members,
            gossip: await node.statistics)
    }
}
