import ArgumentParser
import Gossip
import Testing

@testable import gossip_mirror

/// `--gossip-max-members` and `--gossip-max-payload-size` as `run` turns
/// them into `SWIM.Limits`, and the values refused at start.
@Suite struct GossipLimitsOptionsTests {
    struct Row: CustomTestStringConvertible, Sendable {
        var arguments: [String]
        /// The limits, or nil if `run` must refuse the arguments.
        var limits: SWIM.Limits?
        var testDescription: String { arguments.isEmpty ? "defaults" : arguments.joined(separator: " ") }
    }

    static let rows: [Row] = [
        Row(arguments: [], limits: .default),
        Row(arguments: ["--gossip-max-members", "100"], limits: SWIM.Limits(maximumMembers: 100)),
        Row(arguments: ["--gossip-max-members", "2"], limits: SWIM.Limits(maximumMembers: 2)),
        Row(arguments: ["--gossip-max-payload-size", "512KiB"], limits: SWIM.Limits(maximumPayloadSize: 512 << 10)),
        Row(arguments: ["--gossip-max-payload-size", "2MiB"], limits: SWIM.Limits(maximumPayloadSize: 2 << 20)),
        Row(arguments: ["--gossip-max-payload-size", "4096"], limits: SWIM.Limits(maximumPayloadSize: 4096)),
        Row(
            arguments: ["--gossip-max-members", "4000", "--gossip-max-payload-size", "8MiB"],
            limits: SWIM.Limits(maximumMembers: 4000, maximumPayloadSize: 8 << 20)),
        Row(arguments: ["--gossip-max-members", "0"], limits: nil),
        Row(arguments: ["--gossip-max-members", "1"], limits: nil),
        Row(arguments: ["--gossip-max-members", "-3"], limits: nil),
        Row(arguments: ["--gossip-max-members", "100000"], limits: nil),
        Row(arguments: ["--gossip-max-members", "many"], limits: nil),
        Row(arguments: ["--gossip-max-payload-size", "0"], limits: nil),
        Row(arguments: ["--gossip-max-payload-size", "1000"], limits: nil),
        Row(arguments: ["--gossip-max-payload-size", "16MiB"], limits: nil),
        Row(arguments: ["--gossip-max-payload-size", "1GiB"], limits: nil),
        Row(arguments: ["--gossip-max-payload-size", "99999999999999999999"], limits: nil),
        Row(arguments: ["--gossip-max-payload-size", "-1MiB"], limits: nil),
        Row(arguments: ["--gossip-max-members", "10000", "--gossip-max-payload-size", "8MiB"], limits: nil),
    ]

    @Test(arguments: rows) func flags(_ row: Row) throws {
        if let limits = row.limits {
            let run = try Run.parse(row.arguments)
            #expect(run.gossipLimits.limits == limits)
            #expect(run.gossipSettings.limits == limits)
            #expect(run.gossipSettings.profileName == "lan")
        } else {
            #expect(throws: (any Error).self) { try Run.parse(row.arguments) }
        }
    }

    @Test func theEnvironmentAndTheFileSetThemToo() throws {
        let fromEnvironment = try ConfigurationSources.merge(
            arguments: ["run"], environment: ["GOSSIP_MIRROR_GOSSIP_MAX_MEMBERS": "300", "GOSSIP_MIRROR_GOSSIP_MAX_PAYLOAD_SIZE": "256KiB"])
        #expect(try Run.parse(Array(fromEnvironment.dropFirst())).gossipLimits.limits
            == SWIM.Limits(maximumMembers: 300, maximumPayloadSize: 256 << 10))
        let fromFile = try ConfigurationSources.merge(
            arguments: ["run", "--config", "limits.yaml"], environment: [:],
            readFile: { _ in "gossip-max-members: 500\ngossip-max-payload-size: 2MiB\n" })
        #expect(try Run.parse(Array(fromFile.dropFirst())).gossipLimits.limits
            == SWIM.Limits(maximumMembers: 500, maximumPayloadSize: 2 << 20))
        let refused = try ConfigurationSources.merge(
            arguments: ["run", "--config", "limits.yaml"], environment: [:], readFile: { _ in "gossip-max-members: 0\n" })
        #expect(throws: (any Error).self) { try Run.parse(Array(refused.dropFirst())) }
    }
}
