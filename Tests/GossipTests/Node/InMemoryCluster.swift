import Foundation
import Logging
import TestSupport
import Testing

@testable import Gossip

/// `GossipNode`s on one `InMemoryNetwork`, sharing a key, with protocol
/// timing fast enough for unit tests.
struct InMemoryCluster: Sendable {
    let network = InMemoryNetwork()
    let key = ClusterKey.generate()
    var settings = Self.fast
    var streamLimits = GossipConfiguration.StreamLimits()
    var streamTimeout: Duration = .seconds(5)

    /// `lan`, five times faster.
    static let fast: SWIM.Settings = {
        var s = SWIM.Settings.lan
        s.probeInterval = .milliseconds(200)
        s.probeTimeout = .milliseconds(100)
        s.gossipInterval = .milliseconds(40)
        s.joinRetryInitial = .milliseconds(100)
        return s
    }()

    static func endpoint(_ index: Int) -> SWIM.Endpoint { SWIM.Endpoint(host: "10.1.0.\(index)", port: 7946) }

    /// A node named `name` at `endpoint(index)`, joining through the nodes at `seeds`.
    func node(_ name: String, at index: Int, seeds: [Int] = [], keyring: Keyring? = nil) throws -> GossipNode {
        var logger = Logger(label: "gossip-test")
        logger.logLevel = .critical
        let configuration = GossipConfiguration(
            name: name, bindAddress: Self.endpoint(index), advertiseAddress: Self.endpoint(index),
            seeds: seeds.map { "\(Self.endpoint($0))" }, settings: settings, keyring: try keyring ?? Keyring([key]),
            streamTimeout: streamTimeout, streamLimits: streamLimits)
        return try GossipNode(configuration: configuration, transport: network.transport(at: Self.endpoint(index)), logger: logger)
    }

    /// Runs `nodes` while `body` runs, then stops them.
    func running<T: Sendable>(_ nodes: [GossipNode], _ body: () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for node in nodes { group.addTask { try await node.run() } }
            defer { group.cancelAll() }
            for node in nodes { try await node.waitUntilBound() }
            return try await body()
        }
    }

    /// Waits until every node lists every one of them alive.
    func waitUntilAlive(_ nodes: [GossipNode], within deadline: Duration = .seconds(5)) async throws {
        let names = Set(nodes.map(\.configuration.name))
        try #require(await poll(timeout: deadline) {
            for node in nodes {
                let alive = await node.members.filter { $0.status == .alive }.map(\.name)
                guard names.isSubset(of: alive) else { return false }
            }
            return true
        } != nil, "\(names.sorted()) alive in every view")
    }

    /// Waits until `node` has received and opened a few more datagrams.
    func waitForTraffic(to node: GossipNode) async throws {
        let start = await node.statistics
        try #require(await poll(timeout: .seconds(5)) {
            let now = await node.statistics
            return now.packetsReceived >= start.packetsReceived + 3 && now.rejected == start.rejected
        } != nil, "traffic reaches \(node.configuration.name)")
    }

    /// Seals what a member with the cluster key would send.
    func sealed(_ body: [UInt8]) -> [UInt8] {
        let security = MessageSecurity(
            label: "gossip-mirror", keyring: try! Keyring([key]), replayWindowMilliseconds: 120_000, notBefore: 0)
        return security.seal(body, at: UInt64(Date().timeIntervalSince1970 * 1000))
    }
}
