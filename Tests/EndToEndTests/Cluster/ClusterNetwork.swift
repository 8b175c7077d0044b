import Foundation
import TestSupport

/// The cluster's network: a bridge with `SUBNET.1/24` (the upstream registry
/// binds there) and, per host, a network namespace whose `eth0` is one end
/// of a veth pair, the other end enslaved to the bridge, made by
/// `scripts/cluster/network.sh` (as the demo's are), which records each piece
/// in the ledger. The /24 is one that no interface or route of the machine
/// uses. Partitions and a blocked
/// upstream are nftables tables inside the hosts' namespaces, bandwidth
/// limits are `tc tbf` on a host's `eth0`: the machine's own ruleset, routes
/// and qdiscs are never changed.
struct ClusterNetwork: Sendable {
    /// The first three octets, e.g. `10.238.42`.
    let subnet: String
    /// A short random tag in every interface and namespace name.
    let tag: String
    let bridge: String

    /// The bridge's address: where the upstream listens, as seen from every host.
    var gateway: String { "\(subnet).1" }

    /// `scripts/cluster/network.sh` of the source tree the tests were built
    /// from: the one description of the network, which the demo uses too.
    static var script: String {
        URL(fileURLWithPath: DaemonTemplates.directory).deletingLastPathComponent()
            .appendingPathComponent("network.sh").path
    }

    /// The bridge, on a /24 under 10.238 that no interface or route uses.
    static func create(ledger: ClusterLedger) async throws -> ClusterNetwork {
        let tag = String(format: "%06x", UInt32.random(in: 0...0xFFFFFF))
        let bridge = "gmc\(tag)br"
        let subnet = try await Subprocess.run(["bash", script, "bridge", ledger.directory, bridge, "10.238"], deadline: .seconds(20))
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return ClusterNetwork(subnet: subnet, tag: tag, bridge: bridge)
    }

    func namespace(_ index: Int) -> String { "gmc-\(tag)-h\(index)" }
    func address(_ index: Int) -> String { "\(subnet).\(10 + index)" }

    /// Creates host `index`'s namespace, plugged into the bridge.
    func addHost(_ index: Int, ledger: ClusterLedger) async throws {
        try await Subprocess.run(
            ["bash", Self.script, "host", ledger.directory, namespace(index), "gmc\(tag)h\(index)", bridge, address(index)],
            deadline: .seconds(20))
    }

    /// Runs a command in host `index`'s namespace.
    @discardableResult
    func run(in index: Int, _ arguments: [String], deadline: Duration = .seconds(30), check: Bool = true) async throws
        -> Subprocess.Output
    {
        try await Subprocess.run(["ip", "netns", "exec", namespace(index)] + arguments, deadline: deadline, check: check)
    }

    /// Loads an nftables script into host `index`'s namespace.
    func nft(in index: Int, _ script: String, scratch: String) async throws {
        let path = "\(scratch)/nft-\(index)-\(UUID().uuidString.prefix(8)).nft"
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await run(in: index, ["nft", "-f", path])
    }

    /// Deletes an nftables table from host `index`'s namespace, if it is there.
    func deleteTable(in index: Int, _ table: String) async throws {
        try await run(in: index, ["nft", "delete", "table", "inet", table], check: false)
    }
}
