import Foundation
import Gossip
import TestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The set-up of the tests of a member with the cluster key turned hostile:
/// the three real nodes of `HostileGossipProcessTests.cluster` on a subnet,
/// and mallory (`GossipImpostor`) at its .4, holding the key and her own
/// signing key, answering probes as an honest member would. `stop()` ends
/// all four; the scratch directory lives as long as this value.
struct MalloryCluster {
    let directory: ScratchDirectory
    let key: String
    let subnet: String
    let nodes: [MirrorProcess]
    let mallory: GossipImpostor
    /// The node mallory's forgeries go to, and its gossip endpoint.
    var target: MirrorProcess { nodes[0] }
    var to: SWIM.Endpoint { SWIM.Endpoint(host: target.host, port: 7946) }

    /// - Parameter subnet: the `LoopbackCluster.subnet` index, one per test.
    static func start(subnet index: Int) async throws -> MalloryCluster {
        let directory = try ScratchDirectory()
        let key = try LoopbackCluster.writeKey(directory, "cluster.key")
        let subnet = LoopbackCluster.subnet(index)
        let nodes = try await HostileGossipProcessTests.cluster(subnet, key: key, dir: directory)
        do {
            let mallory = try GossipImpostor(name: "mallory", host: "\(subnet).4", keyFile: key)
            mallory.answerPings(incarnation: 1)
            return MalloryCluster(directory: directory, key: key, subnet: subnet, nodes: nodes, mallory: mallory)
        } catch {
            for n in nodes { kill(n.pid, SIGKILL) }
            throw error
        }
    }

    func stop() {
        mallory.stop()
        for n in nodes { kill(n.pid, SIGKILL) }
    }
}
