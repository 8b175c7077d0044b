import Foundation
import TestSupport

/// The cluster's network: a bridge with `SUBNET.1/24` (the upstream registry
/// binds there) and, per host, a network namespace whose `eth0` is one end
/// of a veth pair, the other end enslaved to the bridge. The /24 is one that
/// no interface or route of the machine uses. Partitions and a blocked
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

    static func create(ledger: ClusterLedger) async throws -> ClusterNetwork {
        let tag = String(format: "%06x", UInt32.random(in: 0...0xFFFFFF))
        let used = try await Subprocess.run(["ip", "-4", "-o", "addr", "show"]).stdout
            + (try await Subprocess.run(["ip", "-4", "route", "show"]).stdout)
        var octet = 0
        for _ in 0..<100 {
            let candidate = Int.random(in: 2...254)
            if !used.contains("10.238.\(candidate).") {
                octet = candidate
                break
            }
        }
        guard octet != 0 else { throw Subprocess.Failure(command: ["ip", "addr"], reason: "no free 10.238.X.0/24") }
        let network = ClusterNetwork(subnet: "10.238.\(octet)", tag: tag, bridge: "gmc\(tag)br")
        try await Subprocess.run(["ip", "link", "add", network.bridge, "type", "bridge"], deadline: .seconds(10))
        ledger.record(.link, network.bridge)
        try await Subprocess.run(["ip", "addr", "add", "\(network.gateway)/24", "dev", network.bridge], deadline: .seconds(10))
        try await Subprocess.run(["ip", "link", "set", network.bridge, "up"], deadline: .seconds(10))
        return network
    }

    func namespace(_ index: Int) -> String { "gmc-\(tag)-h\(index)" }
    func address(_ index: Int) -> String { "\(subnet).\(10 + index)" }

    /// Creates host `index`'s namespace, plugged into the bridge.
    func addHost(_ index: Int, ledger: ClusterLedger) async throws {
        let ns = namespace(index)
        let outside = "gmc\(tag)h\(index)"
        let inside = outside + "p"
        try await Subprocess.run(["ip", "netns", "add", ns], deadline: .seconds(10))
        ledger.record(.netns, ns)
        try await Subprocess.run(["ip", "link", "add", outside, "type", "veth", "peer", "name", inside], deadline: .seconds(10))
        ledger.record(.link, outside)
        for command in [
            ["ip", "link", "set", inside, "netns", ns],
            ["ip", "link", "set", outside, "master", bridge, "up"],
            ["ip", "-n", ns, "link", "set", inside, "name", "eth0"],
            ["ip", "-n", ns, "addr", "add", "\(address(index))/24", "dev", "eth0"],
            ["ip", "-n", ns, "link", "set", "eth0", "up"],
            ["ip", "-n", ns, "link", "set", "lo", "up"],
        ] {
            try await Subprocess.run(command, deadline: .seconds(10))
        }
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
