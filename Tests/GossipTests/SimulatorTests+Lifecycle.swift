import Foundation
import Testing

@testable import Gossip

/// Lifeguard, refutation, leave, restart and anti-entropy in the simulator
/// (see `SimulatorTests`).
extension SimulatorTests {
    // MARK: 6. Lifeguard, refutation, leave, restart, anti-entropy

    /// A member stalls for 3 s (a long GC pause, a starved VM) and then
    /// handles its queued input: it is suspected and refutes, nobody is
    /// declared dead (neither the stalled member nor anyone it failed to
    /// hear from), and its local health score rises.
    @Test func stalledMemberHarmsNobody() {
        let watch = Stopwatch()
        let n = 30
        var config = SimulatorConfiguration()
        config.seed = 600
        config.roundTripThroughCodec = true
        let sim = Simulator(config)
        let (cluster, converged) = sim.startConverged(n, spread: .seconds(1), limit: .seconds(60))
        #expect(converged != nil)
        sim.run(for: .seconds(10))
        let stalled = cluster[7]
        let stalledName = sim.name(of: stalled)
        // Stall just as another member starts probing it, so that the stall
        // is noticed for sure (members probe round-robin: in a group of 30 a
        // given member is probed about once a second, so 3 s could pass unseen).
        let probed = sim.run(
            until: { sim in
                cluster.contains { o in
                    sim.instance(o).probe.map { $0.target == stalledName && sim.now - $0.sentAt < .milliseconds(1) } ?? false
                }
            },
            step: .milliseconds(1), limit: .seconds(60))
        #expect(probed != nil)
        let before = sim.instance(stalled).myself.incarnation
        let suspicionsBefore = sim.statistics.suspicions
        let stallAt = sim.now
        sim.stall(stalled, for: .seconds(3))
        sim.run(until: stallAt + .seconds(3))  // includes the resumption and its queued input
        var highest = sim.instance(stalled).localHealthScore
        for _ in 0..<1000 {
            sim.run(for: .milliseconds(10))
            highest = max(highest, sim.instance(stalled).localHealthScore)
        }
        sim.run(for: .seconds(60))
        let after = sim.instance(stalled).myself.incarnation
        #expect(sim.deaths.isEmpty, "declared dead: \(sim.deaths.prefix(3))")
        #expect(highest > 0, "local health score never rose")
        #expect(sim.statistics.suspicions > suspicionsBefore, "the stall went unnoticed")
        #expect(after > before, "the stalled member did not refute")
        #expect(sim.viewGaps(cluster) == 0)
        #expect(sim.instance(stalled).localHealthScore == 0, "health did not recover")
        report(
            "stall", sim, watch,
            [
                ("members", "\(n)"), ("stall", "3s"), ("health-score-peak", "\(highest)"),
                ("suspicions", "\(sim.statistics.suspicions - suspicionsBefore)"),
                ("incarnation", "\(before)->\(after)"), ("deaths", "\(sim.deaths.count)"),
            ])
    }

    /// A healthy member wrongly suspected (a forged suspicion injected at one
    /// member) refutes with a higher incarnation and stays alive everywhere.
    @Test func wronglySuspectedMemberRefutes() {
        let watch = Stopwatch()
        let n = 30
        var config = SimulatorConfiguration()
        config.seed = 610
        config.lossRate = 0.1
        config.roundTripThroughCodec = true
        let sim = Simulator(config)
        let (cluster, _) = sim.startConverged(n, spread: .seconds(1), limit: .seconds(60))
        sim.run(for: .seconds(10))
        let suspect = cluster[5]
        let accuser = cluster[20]
        let suspectName = sim.name(of: suspect)
        let before = sim.instance(suspect).myself.incarnation
        let forged = SWIM.Packet(
            .gossip(from: sim.name(of: accuser)),
            updates: [.suspect(name: suspectName, incarnation: before, from: sim.name(of: accuser))])
        var suspectedBy: Set<Int> = []
        sim.observer = { _, observer, event in
            if case .memberChanged(let s, _) = event, s.name == suspectName, s.status == .suspect { suspectedBy.insert(observer) }
        }
        let injectedAt = sim.now
        sim.send(.packet(forged, from: sim.process(accuser).endpoint), to: cluster[0])
        let refuted = sim.run(
            until: { sim in
                cluster.allSatisfy { o in
                    o == suspect
                        || (sim.instance(o).member(named: suspectName).map { $0.status == .alive && $0.incarnation > before } ?? false)
                }
            }, step: .milliseconds(10), limit: .seconds(30))
        sim.run(for: Self.lan.suspicionMaximum(members: n) + .seconds(10))
        let after = sim.instance(suspect).myself.incarnation
        #expect(!suspectedBy.isEmpty, "the forged suspicion did not take")
        #expect(after > before)
        #expect(refuted != nil && refuted! - injectedAt <= .seconds(2))
        #expect(sim.deaths.filter { $0.subject == suspectName }.isEmpty)
        #expect(cluster.allSatisfy { o in o == suspect || sim.instance(o).member(named: suspectName)?.status == .alive })
        report(
            "refutation", sim, watch,
            [
                ("members", "\(n)"), ("loss", percent(0.1)), ("suspected-by", "\(suspectedBy.count)"),
                ("incarnation", "\(before)->\(after)"),
                ("alive-again-everywhere-after", refuted.map { "\(fmt(($0 - injectedAt).seconds, 2))s" } ?? "never"),
                ("deaths", "\(sim.deaths.count)"),
            ])
    }

    /// A member leaving gracefully is marked `left` (not dead) by everyone
    /// within a second, even at 10 % loss.
    @Test func gracefulLeaveIsSeenQuickly() {
        let watch = Stopwatch()
        let n = 50
        var config = SimulatorConfiguration()
        config.seed = 620
        config.lossRate = 0.1
        config.roundTripThroughCodec = true
        let sim = Simulator(config)
        let (cluster, _) = sim.startConverged(n, spread: .seconds(1), limit: .seconds(60))
        sim.run(for: .seconds(10))
        let leaver = cluster[11]
        let endpoint = sim.process(leaver).endpoint
        let others = cluster.filter { $0 != leaver }
        let leftAt = sim.now
        sim.send(.leave, to: leaver)
        let done = sim.run(
            until: { $0.declarationTimes(of: endpoint, status: .left, by: others).count == others.count },
            step: .milliseconds(10), limit: .seconds(30))
        sim.run(for: .seconds(30))
        #expect(done != nil && done! - leftAt <= .seconds(1))
        #expect(sim.deaths.isEmpty, "declared dead instead of left: \(sim.deaths.prefix(3))")
        #expect(others.allSatisfy { sim.instance($0).member(named: sim.name(of: leaver))?.status == .left })
        report(
            "leave", sim, watch,
            [
                ("members", "\(n)"), ("loss", percent(0.1)),
                ("left-everywhere-after", done.map { "\(fmt(($0 - leftAt).seconds, 3))s" } ?? "never"),
            ])
    }

    /// A member crashes and restarts 2 s later with the same name at a new
    /// address (and, like any fresh process, incarnation 0 and payload
    /// generation 1). Nobody accepts the new address while the old one is
    /// still considered alive (that would be a name conflict); once the old
    /// one is declared dead, the new one is accepted everywhere, and its new
    /// payload replaces what its previous life published.
    @Test func restartedMemberIsAcceptedAtItsNewAddress() {
        let watch = Stopwatch()
        let n = 30
        var config = SimulatorConfiguration()
        config.seed = 630
        config.roundTripThroughCodec = true
        let sim = Simulator(config)
        let (cluster, _) = sim.startConverged(n, spread: .seconds(1), limit: .seconds(60))
        let r = cluster[9]
        let rName = sim.name(of: r)
        let others = cluster.filter { $0 != r }
        sim.send(.localPayload(SWIM.Payload(generation: 3, bytes: Array("old life".utf8)), delta: nil), to: r)
        sim.run(for: .seconds(15))
        #expect(others.allSatisfy { sim.instance($0).payload(of: rName)?.generation == 3 })
        let oldEndpoint = sim.process(r).endpoint
        var acceptedAt: [Int: SWIM.Instant] = [:]
        sim.observer = { sim, observer, event in
            if case .memberChanged(let s, _) = event, s.name == rName, s.status == .alive, s.endpoint != oldEndpoint,
                acceptedAt[observer] == nil
            {
                acceptedAt[observer] = sim.now
            }
        }
        let crashAt = sim.now
        sim.crash(r)
        sim.run(for: .seconds(2))
        sim.restart(r, seeds: [cluster[0]])
        sim.send(.localPayload(SWIM.Payload(generation: 1, bytes: Array("new life".utf8)), delta: nil), to: r)
        let newEndpoint = sim.process(r).endpoint
        let accepted = sim.runUntilAlive(rName, at: newEndpoint, in: others, limit: .seconds(180))
        sim.run(for: .seconds(30))
        let oldDead = sim.declarationTimes(of: oldEndpoint, by: others)
        #expect(oldDead.count == others.count, "the old address was not declared dead everywhere")
        let early = others.filter { o in acceptedAt[o].map { $0 < (oldDead[o] ?? .zero) } ?? false }
        #expect(early.isEmpty, "accepted the new address while the old one was alive: \(early)")
        #expect(accepted != nil, "the restarted member was not accepted everywhere")
        let lastOldDead = oldDead.values.max() ?? crashAt
        if let accepted { #expect(accepted - crashAt <= Self.lan.failureDetectionBound(members: n) + .seconds(5)) }
        let payloads = others.map { sim.instance($0).payload(of: rName) }
        #expect(payloads.allSatisfy { $0?.bytes == Array("new life".utf8) }, "stale payload of the previous life kept")
        #expect(sim.falseDeaths.isEmpty, "healthy members declared dead: \(sim.falseDeaths.prefix(3))")
        report(
            "restart", sim, watch,
            [
                ("members", "\(n)"), ("restart-after-crash", "2s"),
                ("old-dead-everywhere-after-crash", "\(fmt((lastOldDead - crashAt).seconds, 1))s"),
                ("new-accepted-everywhere-after-crash", accepted.map { "\(fmt(($0 - crashAt).seconds, 1))s" } ?? "never"),
                ("name-conflicts", "\(sim.statistics.nameConflicts)"),
            ])
    }

    /// A member restarted without an identity key file comes back with a
    /// new key: its records are refused while its previous life is alive or
    /// recently dead, and accepted everywhere once that life has been dead
    /// for `gossipToTheDeadTime` (docs/security.md, "Restarts").
    @Test func restartWithANewKeyIsAcceptedAfterTheWait() {
        let watch = Stopwatch()
        let n = 20
        var config = SimulatorConfiguration()
        config.seed = 650
        let sim = Simulator(config)
        let (cluster, _) = sim.startConverged(n, spread: .seconds(1), limit: .seconds(60))
        let r = cluster[5]
        let rName = sim.name(of: r)
        let others = cluster.filter { $0 != r }
        let oldEndpoint = sim.process(r).endpoint
        let crashAt = sim.now
        sim.crash(r)
        sim.run(for: .seconds(2))
        sim.restart(r, seeds: [cluster[0]], newIdentity: true)
        let newEndpoint = sim.process(r).endpoint
        let accepted = sim.runUntilAlive(rName, at: newEndpoint, in: others, limit: .seconds(300))
        let oldDead = sim.declarationTimes(of: oldEndpoint, by: others)
        #expect(accepted != nil, "the restarted member was not accepted everywhere")
        if let accepted, let firstDead = oldDead.values.min() {
            #expect(accepted - firstDead >= Self.lan.gossipToTheDeadTime, "a new key was taken before the wait")
        }
        #expect(sim.falseDeaths.isEmpty, "healthy members declared dead: \(sim.falseDeaths.prefix(3))")
        report(
            "restart-new-key", sim, watch,
            [
                ("members", "\(n)"), ("restart-after-crash", "2s"),
                ("old-dead-everywhere-after-crash", "\(fmt(((oldDead.values.max() ?? crashAt) - crashAt).seconds, 1))s"),
                ("new-accepted-everywhere-after-crash", accepted.map { "\(fmt(($0 - crashAt).seconds, 1))s" } ?? "never"),
                ("forged-refusals", "\(sim.statistics.forged)"),
            ])
    }

    /// A member misses every payload delta of another (they are stripped
    /// from all datagrams it receives); push/pull anti-entropy brings it the
    /// latest payload within one push/pull interval.
    @Test func missedDeltasConvergeThroughPushPull() {
        let watch = Stopwatch()
        let n = 20
        var config = SimulatorConfiguration()
        config.seed = 640
        config.merge = appendMerge
        config.roundTripThroughCodec = true
        let sim = Simulator(config)
        let (cluster, _) = sim.startConverged(n, spread: .seconds(1), limit: .seconds(60))
        let owner = cluster[3]
        let ownerName = sim.name(of: owner)
        let deaf = cluster[12]
        sim.send(.localPayload(SWIM.Payload(generation: 1, bytes: [0]), delta: nil), to: owner)
        sim.run(for: .seconds(10))
        #expect(cluster.allSatisfy { $0 == owner || sim.instance($0).payload(of: ownerName)?.generation == 1 })
        var stripped = 0
        sim.interceptor = { _, to, packet in
            guard to == deaf else { return packet }
            var packet = packet
            let before = packet.updates.count
            packet.updates.removeAll { if case .payloadDelta = $0 { true } else { false } }
            stripped += before - packet.updates.count
            return packet
        }
        var bytes: [UInt8] = [0]
        for generation in 2...4 {
            bytes.append(UInt8(generation))
            sim.send(.localPayload(SWIM.Payload(generation: UInt64(generation), bytes: bytes), delta: [UInt8(generation)]), to: owner)
            sim.run(for: .seconds(1))
        }
        let publishedAt = sim.now
        let othersDone = sim.run(
            until: { sim in cluster.allSatisfy { $0 == owner || $0 == deaf || sim.instance($0).payload(of: ownerName)?.generation == 4 } },
            step: .milliseconds(100), limit: .seconds(10))
        let caughtUp = sim.run(
            until: { $0.instance(deaf).payload(of: ownerName)?.generation == 4 }, step: .milliseconds(100),
            limit: .seconds(300))
        let bound = Self.lan.pushPullInterval(members: n) + .seconds(1)
        #expect(othersDone != nil)
        #expect(stripped > 0, "no delta was aimed at the member")
        #expect(caughtUp != nil && caughtUp! - publishedAt <= bound)
        #expect(sim.instance(deaf).payload(of: ownerName)?.bytes == bytes)
        #expect(sim.deaths.isEmpty)
        report(
            "push-pull", sim, watch,
            [
                ("members", "\(n)"), ("deltas-stripped", "\(stripped)"),
                ("caught-up-after", caughtUp.map { "\(fmt(($0 - publishedAt).seconds, 1))s" } ?? "never"),
                ("bound", "\(fmt(bound.seconds, 0))s"),
            ])
    }

    /// A crashed member is forgotten everywhere once its retention ends, and
    /// stays forgotten: state exchanges with members that still remember it
    /// must not bring it back.
    @Test func reapedMemberStaysGone() {
        let watch = Stopwatch()
        let n = 30
        var config = SimulatorConfiguration()
        config.seed = 650
        config.settings.deadMemberRetention = .seconds(60)
        config.settings.pushPullInterval = .seconds(5)
        let sim = Simulator(config)
        let (cluster, _) = sim.startConverged(n, spread: .seconds(1), limit: .seconds(60))
        let victim = cluster[4]
        let victimName = sim.name(of: victim)
        let others = cluster.filter { $0 != victim }
        var revived = 0
        sim.observer = { _, _, event in
            if case .memberChanged(let s, let previous) = event, s.name == victimName, s.status.isActive, previous == nil {
                revived += 1
            }
        }
        sim.crash(victim)
        let crashAt = sim.now
        let forgotten = sim.run(
            until: { sim in others.allSatisfy { sim.instance($0).member(named: victimName) == nil } }, step: .seconds(1),
            limit: .seconds(300))
        sim.run(for: .seconds(300))
        let remembering = others.filter { sim.instance($0).member(named: victimName) != nil }
        #expect(forgotten != nil)
        #expect(remembering.isEmpty, "\(remembering.count) members brought the reaped member back")
        #expect(revived == 0, "the reaped member was re-learned \(revived) times")
        report(
            "reap", sim, watch,
            [
                ("members", "\(n)"), ("retention", "60s"),
                ("forgotten-everywhere-after-crash", forgotten.map { "\(fmt(($0 - crashAt).seconds, 1))s" } ?? "never"),
                ("revived", "\(revived)"),
            ])
    }
}
