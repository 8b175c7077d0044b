import Foundation
import Gossip
import Registry
import Testing
import TestSupport

/// The product's promise, end to end on real software across real network
/// boundaries: hosts in network namespaces on a bridge, each with its own
/// containerd (pulling through `hosts.toml` written by `gossip-mirror
/// configure-containerd`) and gossip-mirror node, and a docker-registry
/// upstream on the bridge. See `Cluster/`.
///
/// Every scenario builds its own cluster and tears it down, also when it
/// fails; a failure prints the logs of the nodes. Waiting is always polling
/// against a deadline. Images are generated (`TestImageBuilder`), small except
/// in the holder-killed scenario, where `tc tbf` slows the holders so the kill
/// lands mid-transfer.
@Suite(
    .serialized,
    .enabled(
        if: TestEnvironment.canRun(
            TestEnvironment.containerdTools + TestEnvironment.registryTools + ["ip", "nft", "tc", "curl", "openssl"],
            needsRoot: true),
        "needs root, containerd, ctr, docker-registry, skopeo, iproute2, nftables, curl and openssl"))
struct ClusterScenarioTests {
    /// Manifest, config and layers of the host platform, and the index above them.
    static func blobBytes(_ image: TestImage) -> Int64 {
        image.pulledDescriptors.reduce(0) { $0 + $1.size }
    }

    // MARK: Helpers

    static func counts(_ hosts: [ClusterHost]) async -> [String: RegistryCounts] {
        var result: [String: RegistryCounts] = [:]
        for host in hosts { result[host.name] = await host.status()?.counts ?? .init() }
        return result
    }

    /// Sealed messages the hosts could not open, in total.
    static func rejected(_ hosts: [ClusterHost]) async -> Int {
        var total = 0
        for host in hosts { total += await host.status()?.gossip.rejectedUnauthenticated ?? 0 }
        return total
    }

    /// Each host's view: the sorted "name=state" list.
    static func views(_ hosts: [ClusterHost]) async -> [String: String] {
        var result: [String: String] = [:]
        for host in hosts {
            let members = await host.status()?.members ?? []
            result[host.name] = members.map { "\($0.name)=\($0.state)" }.sorted().joined(separator: ",")
        }
        return result
    }
}
