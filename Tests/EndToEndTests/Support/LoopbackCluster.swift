import Foundation
import Gossip
import TestSupport

/// What the process suites share to run `gossip-mirror` nodes on loopback
/// addresses (127.x.y.z, each node bound to its own address with the
/// standard ports): a /24 per suite, a cluster key, nodes serving an OCI
/// layout, waiting until a node locates an image, and the nodes' logs for
/// a failure message. (Multi-host scenarios in network namespaces use `Cluster`.)
enum LoopbackCluster {
    /// A /24 of loopback addresses not used by other suites in this run.
    static func subnet(_ index: Int) -> String { "127.\(100 + index).\(Int.random(in: 1...250))" }

    /// Writes a new cluster key to `dir/name`; returns its path.
    static func writeKey(_ dir: ScratchDirectory, _ name: String) throws -> String {
        let path = dir.appending(name)
        try (ClusterKey.generate().base64 + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The last lines of every node's log, for a failure message.
    static func logs(_ nodes: [MirrorProcess]) -> String {
        nodes.map { "==== \($0.name)\n" + String($0.log.suffix(4000)) }.joined(separator: "\n")
    }

    /// A node serving the OCI layout at `layout` (created if missing).
    static func node(
        _ name: String, _ host: String, key: String, join: [String], layout: String, dir: ScratchDirectory, extra: [String] = []
    ) throws -> MirrorProcess {
        try FileManager.default.createDirectory(atPath: layout, withIntermediateDirectories: true)
        return try MirrorProcess(
            name: name, host: host, keyFiles: [key], join: join, directory: dir.path,
            store: ["--store", "oci-layout", "--oci-layout", layout], extra: extra)
    }

    /// The peer path's smallest cluster, on `subnet`: `holder` (.1) serves
    /// `image` as `reference` from the layout `dir/a`; `relay` (.2, named
    /// `relayName`, started with `relayArguments`) holds nothing (`dir/b`)
    /// and joins it. Returns both once `relay` locates the image on `holder`,
    /// or with `located` false after 10 s.
    static func holderAndRelay(
        serving image: TestImage, as reference: String, subnet: String, key: String, dir: ScratchDirectory,
        relayName: String = "relay", relayArguments: [String] = []
    ) async throws -> (holder: MirrorProcess, relay: MirrorProcess, located: Bool) {
        try await serve(image, as: reference, at: dir.appending("a"))
        let holder = try node("holder", "\(subnet).1", key: key, join: [], layout: dir.appending("a"), dir: dir)
        let relay: MirrorProcess
        do {
            relay = try node(
                relayName, "\(subnet).2", key: key, join: ["\(subnet).1"], layout: dir.appending("b"), dir: dir, extra: relayArguments)
        } catch {
            await holder.stop()
            throw error
        }
        return (holder, relay, await waitForHolder(relay, reference, "holder"))
    }

    /// Copies `image` into the layout at `layout`, named `reference` (a full
    /// reference, as a node's OCI-layout store advertises it).
    static func serve(_ image: TestImage, as reference: String, at layout: String) async throws {
        try await Subprocess.run([
            "skopeo", "--insecure-policy", "copy", "--quiet", "--preserve-digests",
            "oci:\(image.layoutDirectory):\(image.tag)", "oci:\(layout):\(reference)",
        ])
    }

    /// Waits up to 10 s until `node` believes `holder` holds `reference`.
    static func waitForHolder(_ node: MirrorProcess, _ reference: String, _ holder: String) async -> Bool {
        await poll(timeout: .seconds(10)) { await node.locate(reference)?.holders.contains(holder) == true } != nil
    }
}
