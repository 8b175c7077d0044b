import Foundation
import Gossip
import TestSupport
import Testing

/// Real `gossip-mirror run` processes on loopback addresses (127.x.y.z),
/// each bound to its own address with the standard ports.
@Suite(.serialized) struct MembershipProcessTests {
    /// Starts `count` nodes; node i (i > 0) is given only node i−1 as seed.
    static func startChain(
        _ count: Int, subnet: String, keyFile: String, directory: String
    ) throws -> [MirrorProcess] {
        var nodes: [MirrorProcess] = []
        for i in 0..<count {
            let seed = i == 0 ? "\(subnet).\(count):7946" : "\(subnet).\(i):7946"
            nodes.append(
                try MirrorProcess(
                    name: "node-\(i + 1)", host: "\(subnet).\(i + 1)", keyFiles: [keyFile], join: [seed], directory: directory))
        }
        return nodes
    }

    @Test func fiveNodesFormAClusterDetectFailuresAndLeaves() async throws {
        let dir = try ScratchDirectory()
        let key = try LoopbackCluster.writeKey(dir, "cluster.key")
        let subnet = LoopbackCluster.subnet(1)
        let nodes = try Self.startChain(5, subnet: subnet, keyFile: key, directory: dir.path)
        defer { for n in nodes { kill(n.pid, SIGKILL) } }

        // All five list five alive members within 5 s.
        let formed = await poll(timeout: .seconds(5)) {
            for n in nodes {
                guard let s = await n.status(), s.members.count == 5, s.members.allSatisfy({ $0.state == "alive" }) else { return false }
            }
            return true
        }
        #expect(formed != nil, "cluster did not form within 5 s\n\(LoopbackCluster.logs(nodes))")
        guard formed != nil else { return }
        print("five nodes converged in \(formed!)")

        // SIGKILL node-5: the rest mark it dead within its suspicion bound.
        let bound = SWIM.Settings.lan.failureDetectionBound(members: 5)
        nodes[4].signal(SIGKILL)
        let detected = await poll(timeout: bound) {
            for n in nodes[0..<4] {
                guard await n.status()?.state(of: "node-5") == "dead" else { return false }
            }
            return true
        }
        #expect(detected != nil, "node-5 not declared dead within \(bound)\n\(LoopbackCluster.logs(nodes))")
        if let detected { print("SIGKILL detected by all within \(detected) (bound \(bound))") }

        // SIGTERM node-4: the rest mark it left within 2 s, and it exits cleanly.
        nodes[3].signal(SIGTERM)
        let left = await poll(timeout: .seconds(2)) {
            for n in nodes[0..<3] {
                guard await n.status()?.state(of: "node-4") == "left" else { return false }
            }
            return true
        }
        #expect(left != nil, "node-4 not marked left within 2 s\n\(LoopbackCluster.logs(nodes))")
        if let left { print("SIGTERM leave seen by all within \(left)") }
        #expect(await nodes[3].waitForExit() == 0)
    }

    /// The gossip TCP port is taken while its UDP port is free, so the UDP
    /// bind succeeds and the TCP bind fails: the node must exit with an error
    /// that says so (it used to trap on the half-opened UDP channel).
    @Test func aTakenGossipPortEndsTheNodeWithAClearError() async throws {
        let dir = try ScratchDirectory()
        let key = try LoopbackCluster.writeKey(dir, "cluster.key")
        let host = "\(LoopbackCluster.subnet(8)).1"
        let blocker = try SocketProbes.listen(host: host, port: 7946)
        defer { close(blocker) }
        let node = try MirrorProcess(name: "blocked", host: host, keyFiles: [key], join: [], directory: dir.path)
        let status = await node.waitForExit(timeout: .seconds(30))
        #expect(!node.endedBySignal, "the node crashed\n\(node.log.suffix(3000))")
        #expect(status != 0)
        #expect(node.log.contains("cannot bind the gossip socket (TCP \(host):7946)"), "\(node.log.suffix(3000))")
    }

    @Test func aNodeWithAnotherKeyNeverJoins() async throws {
        let dir = try ScratchDirectory()
        let key = try LoopbackCluster.writeKey(dir, "cluster.key")
        let wrong = try LoopbackCluster.writeKey(dir, "wrong.key")
        let subnet = LoopbackCluster.subnet(2)
        let nodes = try Self.startChain(3, subnet: subnet, keyFile: key, directory: dir.path)
        let intruder = try MirrorProcess(
            name: "intruder", host: "\(subnet).9", keyFiles: [wrong], join: ["\(subnet).1:7946"], directory: dir.path)
        defer { for n in nodes + [intruder] { kill(n.pid, SIGKILL) } }

        let formed = await poll(timeout: .seconds(5)) {
            for n in nodes {
                guard let s = await n.status(), s.members.count == 3, s.members.allSatisfy({ $0.state == "alive" }) else { return false }
            }
            return true
        }
        #expect(formed != nil, "cluster did not form\n\(LoopbackCluster.logs(nodes + [intruder]))")
        // The intruder keeps retrying its seed; the seed counts each attempt as rejected.
        let rejected = await poll(timeout: .seconds(10)) {
            (await nodes[0].status()?.gossip.rejectedUnauthenticated ?? 0) >= 2
        }
        #expect(rejected != nil, "seed did not count the intruder's messages as rejected")
        for n in nodes {
            let s = await n.status()
            #expect(s?.members.contains { $0.name == "intruder" } == false, "\(n.name) lists the intruder")
        }
        let intruderView = await intruder.status()
        #expect(intruderView?.members.map(\.name) == ["intruder"], "the intruder must see only itself")
    }

    /// Member names are restricted (issue 9, finding 12): the command line
    /// refuses one that could forge log lines, and says so with the name
    /// escaped, before it binds anything.
    @Test(arguments: ["evil\nINFO gossip: member node-9 dead", "node 1", "-rf", String(repeating: "n", count: 254), "nöde"])
    func anInvalidNameIsRefusedByTheCommandLine(_ name: String) async throws {
        let dir = try ScratchDirectory()
        let key = try LoopbackCluster.writeKey(dir, "cluster.key")
        let output = try await Subprocess.run(
            [MirrorProcess.binary, "run", "--name=\(name)", "--key-file", key, "--gossip-addr", "\(LoopbackCluster.subnet(12)).1:7946"],
            environment: MirrorProcess.environment,
            deadline: .seconds(30), check: false)
        #expect(output.status != 0)
        #expect(output.stderr.contains("is not a valid member name"), "\(output.stderr)")
        #expect(!output.stderr.contains("\nINFO gossip"), "the name reached the output unescaped")
    }
}
