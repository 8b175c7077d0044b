import Foundation
import Testing
import TestSupport

/// Membership faults: a node paused with SIGSTOP, and a seed name that
/// stops resolving.
extension FaultProcessTests {
    /// Three nodes on `subnet`: `a` first, then `b` and `c` joining it.
    static func threeNodes(_ dir: ScratchDirectory, subnet: Int) async throws -> [MirrorProcess] {
        let key = try LoopbackCluster.writeKey(dir, "cluster.key")
        let net = LoopbackCluster.subnet(subnet)
        var nodes: [MirrorProcess] = []
        for (i, name) in ["a", "b", "c"].enumerated() {
            nodes.append(
                try LoopbackCluster.node(
                    name, "\(net).\(i + 1)", key: key, join: i == 0 ? [] : ["\(net).1"], layout: dir.appending(name), dir: dir))
        }
        let formed = await poll(timeout: .seconds(15)) { await allAlive(nodes) }
        if formed == nil {
            let logs = LoopbackCluster.logs(nodes)
            for n in nodes { await n.stop() }
            throw TimedOut(what: "three nodes to form a cluster\n\(logs)", deadline: .seconds(15))
        }
        return nodes
    }

    /// Whether every node answers and sees every node alive.
    static func allAlive(_ nodes: [MirrorProcess]) async -> Bool {
        let names = Set(nodes.map(\.name))
        for n in nodes where await n.status()?.alive != names { return false }
        return true
    }

    /// Fault 5: `c` is stopped with SIGSTOP for 20 s and resumed. The others
    /// suspect it (and may declare it dead: 20 s is beyond the suspicion
    /// timeout); `a` and `b` are never anything but alive in any view,
    /// `c`'s included once it runs again; `c` refutes with a higher
    /// incarnation and the cluster converges to all alive.
    @Test func aNodePausedForTwentySecondsRefutesAndNoHealthyMemberDies() async throws {
        let dir = try ScratchDirectory()
        let nodes = try await Self.threeNodes(dir, subnet: 32)
        defer { for n in nodes { kill(n.pid, SIGKILL) } }
        let (a, b, c) = (nodes[0], nodes[1], nodes[2])
        let memory = MemoryWatch(nodes)
        // One watch per view: c's status requests hang while it is stopped,
        // and must not slow the watch of a's and b's views.
        let watch = MembershipWatch(hosts: [a, b], names: ["a", "b"], othersAllowed: true)
        let watchOfC = MembershipWatch(hosts: [c], names: ["a", "b"], othersAllowed: true)
        let watching = [Task { await watch.run() }, Task { await watchOfC.run() }]
        let incarnation = try #require(await a.status()?.members.first { $0.name == "c" }?.incarnation)

        c.signal(SIGSTOP)
        let paused = ContinuousClock.now
        let suspected = await poll(timeout: .seconds(20)) { await a.status()?.state(of: "c") != "alive" }
        #expect(suspected != nil, "a never noticed that c stopped answering")
        let seenAs = await a.status()?.state(of: "c") ?? "?"
        // The fault is the pause itself: hold it for its full 20 s.
        try await Task.sleep(until: paused + .seconds(20), clock: .continuous)
        let aAt20s = await a.status()?.state(of: "c") ?? "?"
        c.signal(SIGCONT)

        let converged = await poll(timeout: .seconds(60), every: .milliseconds(200)) { await Self.allAlive(nodes) }
        #expect(converged != nil, "the cluster did not converge to all alive\n\(LoopbackCluster.logs(nodes))")
        var after: [UInt64] = []
        for n in [a, b] { after.append(await n.status()?.members.first { $0.name == "c" }?.incarnation ?? 0) }
        print(
            "SIGSTOP 20 s: a saw c \(seenAs) after \(suspected?.short ?? "-"), \(aAt20s) at 20 s; all alive "
                + "\(converged?.short ?? "-") after SIGCONT; c's incarnation \(incarnation) -> \(after)")
        #expect(after.allSatisfy { $0 > incarnation }, "c did not refute with a higher incarnation: \(incarnation) -> \(after)")

        for w in [watch, watchOfC] { await w.stop() }
        for w in watching { await w.value }
        let deaths = await watch.losses + watchOfC.losses
        #expect(deaths.isEmpty, "a healthy member was declared dead: \(deaths.prefix(5))")
        let (anomalies, ofC) = (await watch.anomalies, await watchOfC.anomalies)
        print(
            "views of a and b with a or b not alive: \(anomalies.count) of \(await watch.observations) rounds; "
                + "c's view: \(ofC.count) of \(await watchOfC.observations) rounds \(ofC.prefix(3))")
        await memory.expectUnderBound()
        for n in nodes { #expect(n.isRunning) }
    }

    /// `unshare -m` with `hosts` bind-mounted on `/etc/hosts`: the node's
    /// getaddrinfo reads the test's file (glibc reads it on every lookup),
    /// and nothing outside the node's private mount namespace changes.
    static func privateHosts(_ hosts: String) -> [String] {
        ["unshare", "-m", "--propagation", "private", "sh", "-c", "mount --bind \"$0\" /etc/hosts && exec \"$@\"", hosts]
    }

    /// Rewrites the hosts file in place (not by rename: the bind mount holds
    /// the inode).
    static func writeHosts(_ path: String, _ entries: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.truncate(atOffset: 0)
        try handle.write(contentsOf: Data("127.0.0.1 localhost\n\(entries)".utf8))
    }

    /// Fault 4: `--join seed.faults.test`, a name the test resolves through
    /// a private `/etc/hosts`. `b` joins while it resolves; then it stops
    /// resolving: `b` is unaffected, and `c`, started now, stays up, logs
    /// the failure and retries with backoff; once the name resolves again,
    /// `c` joins.
    @Test func aSeedNameThatStopsResolvingIsRetriedUntilItResolves() async throws {
        let dir = try ScratchDirectory()
        let key = try LoopbackCluster.writeKey(dir, "cluster.key")
        let net = LoopbackCluster.subnet(33)
        let hosts = dir.appending("hosts")
        FileManager.default.createFile(atPath: hosts, contents: nil)
        let seedEntry = "\(net).1 seed.faults.test\n"
        try Self.writeHosts(hosts, seedEntry)
        let seed = ["seed.faults.test"]
        let a = try LoopbackCluster.node("a", "\(net).1", key: key, join: [], layout: dir.appending("a"), dir: dir)
        defer { kill(a.pid, SIGKILL) }
        let b = try LoopbackCluster.node(
            "b", "\(net).2", key: key, join: seed, layout: dir.appending("b"), dir: dir, launcher: Self.privateHosts(hosts))
        defer { kill(b.pid, SIGKILL) }
        let joined = await poll(timeout: .seconds(15)) { await a.status()?.state(of: "b") == "alive" }
        try #require(joined != nil, "b did not join through the seed name\n\(LoopbackCluster.logs([a, b]))")

        try Self.writeHosts(hosts, "")
        let c = try LoopbackCluster.node(
            "c", "\(net).3", key: key, join: seed, layout: dir.appending("c"), dir: dir, launcher: Self.privateHosts(hosts))
        defer { kill(c.pid, SIGKILL) }
        let nodes = [a, b, c]
        let memory = MemoryWatch(nodes)
        let watch = MembershipWatch(hosts: [a, b], names: ["a", "b"], othersAllowed: true)
        let watching = Task { await watch.run() }
        let failure = "some seeds did not resolve"
        let retried = await poll(timeout: .seconds(30), every: .milliseconds(200)) { c.logLines(containing: failure) >= 3 }
        #expect(retried != nil, "c did not retry the seed three times\n\(String(c.log.suffix(3000)))")
        #expect(c.isRunning)
        #expect(await c.isHealthy)
        #expect(await c.status()?.members.count == 1, "c joined something without a seed")

        try Self.writeHosts(hosts, seedEntry)
        let rejoined = await poll(timeout: .seconds(45), every: .milliseconds(200)) { await Self.allAlive(nodes) }
        #expect(rejoined != nil, "c did not join once the name resolved\n\(LoopbackCluster.logs(nodes))")
        print(
            "unresolvable seed: c retried \(c.logLines(containing: failure)) times in all (3 after \(retried?.short ?? "-")); "
                + "joined \(rejoined?.short ?? "-") after the name resolved again")

        await watch.stop()
        await watching.value
        let seen = await watch.anomalies
        #expect(seen.isEmpty, "a or b saw a or b other than alive: \(seen.prefix(5))")
        await memory.expectUnderBound()
        for n in nodes { #expect(n.isRunning) }
    }
}
