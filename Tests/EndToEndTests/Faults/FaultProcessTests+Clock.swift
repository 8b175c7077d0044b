import Foundation
import Testing
import TestSupport

/// Wall-clock jumps: `WallClockShift` moves the wall clock of a node (and
/// only that clock) at run time, as when NTP steps it.
extension FaultProcessTests {
    /// A holder of a 1 MiB blob and two empty nodes; `clocks[i]` is the
    /// offset file of node i (nodes may share one).
    static func clockCluster(_ dir: ScratchDirectory, subnet: Int, clocks: [String]) async throws
        -> (image: LoadImage, nodes: [MirrorProcess])
    {
        let shift = try await WallClockShift(in: dir)
        let key = try LoopbackCluster.writeKey(dir, "cluster.key")
        let net = LoopbackCluster.subnet(subnet)
        let image = try await LoadImage.write(to: dir.appending("a"), size: 1 << 20, reference: "docker.io/faults/clock:v1")
        var nodes: [MirrorProcess] = []
        for (i, name) in ["a", "b", "c", "d"].prefix(clocks.count).enumerated() {
            let layout = i == 0 ? image.layout : dir.appending(name)
            nodes.append(
                try LoopbackCluster.node(
                    name, "\(net).\(i + 1)", key: key, join: i == 0 ? [] : ["\(net).1"], layout: layout, dir: dir,
                    environment: shift.environment(offsetFile: clocks[i])))
        }
        let ready = await poll(timeout: .seconds(15)) {
            guard await allAlive(nodes) else { return false }
            for n in nodes.dropFirst() where await n.locate("docker.io/faults/clock:v1")?.holders.contains("a") != true { return false }
            return true
        }
        if ready == nil {
            let logs = LoopbackCluster.logs(nodes)
            for n in nodes { await n.stop() }
            throw TimedOut(what: "the faked-clock cluster to form\n\(logs)", deadline: .seconds(15))
        }
        return (image, nodes)
    }

    /// Whether a download of the blob through `node` is whole and correct.
    static func relays(_ image: LoadImage, through node: MirrorProcess, to path: String) async throws -> SlowDownload.Outcome {
        try await SlowDownload(image.blobURL(on: node), to: path, rate: "1G").finish()
    }

    /// Fault 6a: every node's wall clock jumps an hour forward, then back
    /// (one offset file for all). Timers run on the monotonic clock, so no
    /// member is suspected, and peer tokens stay valid (their clocks agree):
    /// relays work throughout.
    @Test func theWallClockJumpingAnHourForwardAndBackSuspectsNoOne() async throws {
        let dir = try ScratchDirectory()
        let clock = dir.appending("clock")
        try WallClockShift.set(clock, seconds: 0)
        let (image, nodes) = try await Self.clockCluster(dir, subnet: 34, clocks: [clock, clock, clock])
        defer { for n in nodes { kill(n.pid, SIGKILL) } }
        let memory = MemoryWatch(nodes)
        let watch = MembershipWatch(hosts: nodes, names: ["a", "b", "c"])
        let watching = Task { await watch.run() }
        let hex = image.digest.hex

        for (step, offset) in [(1, 3600), (2, 0)] {
            try WallClockShift.set(clock, seconds: offset)
            // Hold each clock through more than a suspicion timeout (4 s at
            // three members) and several probe rounds (1 s each).
            let since = ContinuousClock.now
            try await Task.sleep(until: since + .seconds(12), clock: .continuous)
            for n in nodes.dropFirst() {
                let got = try await Self.relays(image, through: n, to: dir.appending("\(n.name)-\(step)"))
                #expect(got.isWhole(size: image.size, hex: hex), "clock \(offset): relay through \(n.name): \(got)")
            }
        }
        await watch.stop()
        await watching.value
        let anomalies = await watch.anomalies
        print("clock +1 h and back on all nodes: \(anomalies.count) views not all alive in \(await watch.observations) rounds")
        #expect(anomalies.isEmpty, "\(anomalies.prefix(5))")
        await memory.expectUnderBound()
        for n in nodes { #expect(n.isRunning) }
    }

    /// Fault 6b: one node's wall clock jumps an hour ahead while the others'
    /// stay (four nodes, so that the three whose clocks agree still have an
    /// indirect prober each when the fourth is cut off, as SWIM assumes; with
    /// three, a single late ack between the two left has no second path, and
    /// CI once saw one of them declared dead for a moment). Its sealed gossip
    /// and its peer tokens are outside the 120 s window (docs/security.md),
    /// so it is cut off as by a partition: the
    /// others mark it dead and never each other; requests through it and
    /// to it answer 404 at once, so clients fall back upstream. When its
    /// clock is back it rejoins, and relays work again.
    @Test func oneNodeAnHourAheadIsCutOffAnswers404AndRejoinsWhenItsClockIsBack() async throws {
        let dir = try ScratchDirectory()
        let (fixed, jumping) = (dir.appending("fixed"), dir.appending("jumping"))
        for file in [fixed, jumping] { try WallClockShift.set(file, seconds: 0) }
        let (image, nodes) = try await Self.clockCluster(dir, subnet: 35, clocks: [fixed, fixed, fixed, jumping])
        defer { for n in nodes { kill(n.pid, SIGKILL) } }
        let (a, b, d) = (nodes[0], nodes[1], nodes[3])
        let memory = MemoryWatch(nodes)
        let watch = MembershipWatch(hosts: [a, b, nodes[2]], names: ["a", "b", "c"], othersAllowed: true)
        let watching = Task { await watch.run() }

        try WallClockShift.set(jumping, seconds: 3600)
        let jumped = ContinuousClock.now
        let cutOff = await poll(timeout: .seconds(60), every: .milliseconds(200)) {
            let (inA, inB) = (await a.status()?.state(of: "d"), await b.status()?.state(of: "d"))
            return inA == "dead" && inB == "dead"
        }
        #expect(cutOff != nil, "a and b never marked d dead\n\(LoopbackCluster.logs(nodes))")
        let dView = await d.status()?.members.map { "\($0.name)=\($0.state)" }.sorted() ?? []
        // Through d (it cannot reach the holder): a fast 404.
        let (throughD, tookD) = try await d.statusCode(of: image.blobURL(on: d))
        #expect(throughD == 404, "d answered \(throughD) while an hour ahead")
        print(
            "one node +1 h: a and b marked d dead after \(cutOff?.short ?? "-"); d sees \(dView); "
                + "blob through d: \(throughD) in \(tookD.short)")
        #expect(tookD < .seconds(2), "the 404 took \(tookD): a client would wait instead of falling back")
        // Relays among the nodes whose clocks agree are unaffected.
        let viaB = try await Self.relays(image, through: b, to: dir.appending("b-ahead"))
        #expect(viaB.isWhole(size: image.size, hex: image.digest.hex), "relay through b while d is ahead: \(viaB)")

        try WallClockShift.set(jumping, seconds: 0)
        let back = await poll(timeout: .seconds(90), every: .milliseconds(200)) { await Self.allAlive(nodes) }
        #expect(back != nil, "d did not rejoin once its clock was back\n\(LoopbackCluster.logs(nodes))")
        let located = await poll(timeout: .seconds(30)) { await d.locate("docker.io/faults/clock:v1")?.holders.contains("a") == true }
        #expect(located != nil, "d does not see a's summary again")
        let viaD = try await Self.relays(image, through: d, to: dir.appending("d-back"))
        #expect(viaD.isWhole(size: image.size, hex: image.digest.hex), "relay through d after its clock came back: \(viaD)")
        print("d's clock back after \((ContinuousClock.now - jumped).short) in all: all alive again after \(back?.short ?? "-")")

        await watch.stop()
        await watching.value
        let deaths = await watch.losses
        #expect(deaths.isEmpty, "a, b or c was declared dead: \(deaths.prefix(5))")
        let seen = await watch.anomalies
        // Suspicions of a, b or c are allowed, deaths are not: d's stale view
        // (it suspected the members it could not hear) spreads once its
        // messages are fresh again, and the suspected member refutes it,
        // as after a healed partition.
        print("views of a, b and c with one of them not alive: \(seen.count) of \(await watch.observations) rounds \(seen.prefix(3))")
        await memory.expectUnderBound()
        for n in nodes { #expect(n.isRunning) }
    }
}
