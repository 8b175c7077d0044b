import Foundation
import Testing

@testable import Gossip

/// The SWIM instance proved in the deterministic simulator
/// (`Tests/GossipTests/Simulator/`). Every time asserted here is virtual.
/// Each test prints one `[sim] ...` summary line with its numbers.
@Suite("Simulator")
struct SimulatorTests {
    static let lan = SWIM.Settings.lan

    // MARK: 1. Convergence

    /// Members join through one seed each and end up in one agreed view:
    /// every member sees every other alive at its current address, and
    /// nobody is ever declared dead.
    ///
    /// Under 10 % loss about 0.8 % of probes fail (the ping or its ack lost,
    /// and all three indirect paths too); the suspicion is refuted within a
    /// second, but with 1000 members about eight start every second, so an
    /// instant at which all 999,000 pairs read alive practically never
    /// comes. Lossy runs therefore go on at that loss for a while (no death
    /// allowed, the lowest share of alive pairs is reported), then the loss
    /// stops and the exact agreed view must follow within five seconds.
    @Test(arguments: [(100, 0.0), (100, 0.1), (1000, 0.0), (1000, 0.1)])
    func convergence(members: Int, loss: Double) {
        let watch = Stopwatch()
        var config = SimulatorConfiguration()
        config.seed = UInt64(members) &* 31 &+ UInt64(loss * 100)
        config.lossRate = loss
        config.roundTripThroughCodec = members <= 100
        let sim = Simulator(config)
        let cluster = sim.addCluster(members, spread: .seconds(members >= 1000 ? 5 : 1))
        let knownAt = sim.run(until: { $0.everyoneKnown(cluster) }, limit: .seconds(120))
        let allAliveAt = sim.run(
            until: { $0.aliveCountsConverged(cluster) && $0.viewGaps(cluster) == 0 },
            limit: loss > 0 ? .seconds(members >= 1000 ? 5 : 30) : .seconds(120))
        // Steady state; costly at 1000 members and 10 % loss (a minute of it
        // takes about 80 s of CPU in a debug build), hence shorter there.
        let steady: Duration = .seconds(members >= 1000 && loss > 0 ? 20 : 60)
        let steadyEnd = sim.now + steady
        var minimumAlive = 1.0
        while sim.now < steadyEnd {
            sim.run(for: .seconds(5))
            let alive = cluster.reduce(0) { $0 + sim.process($1).aliveCount }
            minimumAlive = min(minimumAlive, Double(alive) / Double(members * (members - 1)))
        }
        var settled: Duration? = nil
        if loss > 0 {
            let restored = sim.now
            sim.setLossRate(0)
            settled = sim.run(until: { $0.aliveCountsConverged(cluster) && $0.viewGaps(cluster) == 0 }, limit: .seconds(30))
                .map { $0 - restored }
            #expect(settled != nil && settled! <= .seconds(5), "view did not settle after the loss stopped")
        }
        #expect(knownAt != nil, "not every member learned of every other")
        if loss == 0 { #expect(allAliveAt != nil, "never converged") }
        #expect(sim.viewGaps(cluster) == 0)
        #expect(sim.deaths.isEmpty, "members declared dead: \(sim.deaths.prefix(3))")
        #expect(sim.statistics.codecOversize == 0)
        #expect(sim.statistics.codecMismatches == 0)
        report(
            "convergence", sim, watch,
            [
                ("members", "\(members)"), ("loss", percent(loss)),
                ("all-known", knownAt.map { "\(fmt($0.seconds, 1))s" } ?? "never"),
                ("all-alive", allAliveAt.map { "\(fmt($0.seconds, 1))s" } ?? "not-at-one-instant"),
                ("min-alive-pairs", "\(fmt(minimumAlive * 100, 3))%"),
                ("settled-after-loss-stopped", settled.map { "\(fmt($0.seconds, 1))s" } ?? "-"),
                ("deaths", "\(sim.deaths.count)"), ("suspicions", "\(sim.statistics.suspicions)"),
                ("refutations", "\(sim.statistics.refutations)"),
                ("codec-checked", "\(sim.statistics.codecChecked)"),
                ("largest-packet", "\(sim.statistics.largestPacket)B"),
            ])
    }

    // MARK: 2. Failure detection

    /// Three members crash one after another; every other member declares
    /// each dead within `failureDetectionBound(members:)` of its crash.
    @Test(arguments: [0.0, 0.1])
    func crashedMemberIsDeclaredDead(loss: Double) {
        let watch = Stopwatch()
        let n = 100
        var config = SimulatorConfiguration()
        config.seed = 200 &+ UInt64(loss * 100)
        config.lossRate = loss
        config.roundTripThroughCodec = true
        let sim = Simulator(config)
        let (cluster, converged) = sim.startConverged(n, spread: .seconds(1), limit: .seconds(60))
        #expect(converged != nil)
        sim.run(for: .seconds(10))
        let bound = Self.lan.failureDetectionBound(members: n)
        var crashed: [Int] = []
        var worst: Duration = .zero
        var times: [Double] = []
        for victim in [17, 42, 83] {
            let endpoint = sim.process(victim).endpoint
            let crashAt = sim.now
            sim.crash(victim)
            crashed.append(victim)
            let observers = cluster.filter { !crashed.contains($0) }
            let done = sim.run(
                until: { $0.declarationTimes(of: endpoint, by: observers).count == observers.count }, limit: bound * 2)
            let declared = sim.declarationTimes(of: endpoint, by: observers)
            #expect(done != nil, "\(observers.count - declared.count) members never declared \(sim.name(of: victim)) dead")
            let slowest = declared.values.max().map { $0 - crashAt } ?? bound * 2
            worst = max(worst, slowest)
            times.append(slowest.seconds)
            #expect(slowest <= bound, "\(sim.name(of: victim)) declared dead by all after \(slowest), bound \(bound)")
            sim.run(for: .seconds(20))
        }
        #expect(sim.falseDeaths.isEmpty, "healthy members declared dead: \(sim.falseDeaths.prefix(3))")
        #expect(sim.statistics.codecOversize == 0 && sim.statistics.codecMismatches == 0)
        report(
            "crash-detection", sim, watch,
            [
                ("members", "\(n)"), ("loss", percent(loss)), ("crashes", "\(crashed.count)"),
                ("detected-by-all-after", times.map { "\(fmt($0, 1))s" }.joined(separator: ",")),
                ("max", "\(fmt(worst.seconds, 1))s"), ("bound", "\(fmt(bound.seconds, 1))s"),
                ("false-deaths", "\(sim.falseDeaths.count)"),
            ])
    }

    /// The `wan` (edge) profile: slower probes and longer timeouts, 1232-byte
    /// packets. A crash is still detected by everyone within that profile's
    /// bound, and nobody healthy is declared dead at 10 % loss.
    @Test func wanProfileDetectsCrash() {
        let watch = Stopwatch()
        let n = 50
        var config = SimulatorConfiguration()
        config.settings = .wan
        config.seed = 250
        config.lossRate = 0.1
        config.minimumLatency = .milliseconds(10)
        config.maximumLatency = .milliseconds(80)
        config.jitter = .milliseconds(20)
        config.roundTripThroughCodec = true
        let sim = Simulator(config)
        let (cluster, _) = sim.startConverged(n, spread: .seconds(5), limit: .seconds(300))
        #expect(sim.everyoneKnown(cluster))
        sim.run(for: .seconds(60))
        let victim = cluster[21]
        let endpoint = sim.process(victim).endpoint
        let observers = cluster.filter { $0 != victim }
        let bound = SWIM.Settings.wan.failureDetectionBound(members: n)
        let crashAt = sim.now
        sim.crash(victim)
        let done = sim.run(
            until: { $0.declarationTimes(of: endpoint, by: observers).count == observers.count }, step: .seconds(1),
            limit: bound * 2)
        sim.run(for: .seconds(60))
        #expect(done != nil && done! - crashAt <= bound)
        #expect(sim.falseDeaths.isEmpty, "healthy members declared dead: \(sim.falseDeaths.prefix(3))")
        #expect(sim.statistics.codecOversize == 0 && sim.statistics.codecMismatches == 0)
        #expect(sim.statistics.largestPacket <= SWIM.Settings.wan.packetBudget - WireCodec.envelopeReserve)
        report(
            "wan-crash-detection", sim, watch,
            [
                ("members", "\(n)"), ("loss", percent(0.1)),
                ("detected-by-all-after", done.map { "\(fmt(($0 - crashAt).seconds, 1))s" } ?? "never"),
                ("bound", "\(fmt(bound.seconds, 1))s"), ("false-deaths", "\(sim.falseDeaths.count)"),
                ("largest-packet", "\(sim.statistics.largestPacket)B"),
            ])
    }

    // MARK: 3. Partition and healing

    /// A 50/50 partition outlasting the maximum suspicion timeout: each side
    /// declares the other dead; once the network heals, reconnection (state
    /// exchange with a random dead member every `reconnectInterval`) and the
    /// refutations it triggers bring back one view.
    @Test func partitionHeals() {
        let watch = Stopwatch()
        let n = 100
        var config = SimulatorConfiguration()
        config.seed = 300
        config.roundTripThroughCodec = true
        let sim = Simulator(config)
        let (cluster, converged) = sim.startConverged(n, spread: .seconds(1), limit: .seconds(60))
        #expect(converged != nil)
        sim.run(for: .seconds(10))
        let sideA = Array(cluster.prefix(n / 2))
        let sideB = Array(cluster.suffix(n / 2))
        let duration = Self.lan.suspicionMaximum(members: n).scaled(by: 1.5)
        let splitAt = sim.now
        sim.partition([sideA, sideB])
        func declaredAcross(_ sim: Simulator) -> Int {
            var count = 0
            for (observers, others) in [(sideA, sideB), (sideB, sideA)] {
                for o in others {
                    count += sim.declarationTimes(of: sim.process(o).endpoint, by: observers).count
                }
            }
            return count
        }
        let splitDone = sim.run(until: { declaredAcross($0) == n * n / 2 }, step: .seconds(1), limit: duration)
        sim.run(until: splitAt + duration)
        #expect(splitDone != nil, "only \(declaredAcross(sim)) of \(n * n / 2) cross-side deaths declared")
        // No one declared a member of its own side dead.
        let sameSide = sim.deaths.filter { d in
            let subject = cluster.first { sim.name(of: $0) == d.subject }!
            return sideA.contains(subject) == sideA.contains(d.observer)
        }
        #expect(sameSide.isEmpty, "members declared dead within their own side: \(sameSide.prefix(3))")
        let healAt = sim.now
        sim.heal()
        let healed = sim.run(
            until: { $0.aliveCountsConverged(cluster) && $0.viewGaps(cluster) == 0 }, limit: .seconds(120))
        let healBound = Self.lan.reconnectInterval * 3
        #expect(healed != nil, "no single view after healing: \(sim.viewGaps(cluster)) gaps")
        if let healed { #expect(healed - healAt <= healBound) }
        #expect(sim.statistics.codecOversize == 0 && sim.statistics.codecMismatches == 0)
        report(
            "partition", sim, watch,
            [
                ("members", "\(n)"), ("split", "50/50"), ("partition", "\(fmt(duration.seconds, 0))s"),
                ("max-suspicion-timeout", "\(fmt(Self.lan.suspicionMaximum(members: n).seconds, 0))s"),
                ("all-declared-dead-across-after", splitDone.map { "\(fmt(($0 - splitAt).seconds, 1))s" } ?? "never"),
                ("one-view-after-heal", healed.map { "\(fmt(($0 - healAt).seconds, 1))s" } ?? "never"),
                ("bound", "\(fmt(healBound.seconds, 0))s"),
            ])
    }

    // MARK: 4. No false positives

    /// 1,000 member-hours at 10 % loss without a single healthy member
    /// declared dead: two independent runs of 50 members for 10 hours each
    /// (run side by side, one per core). `GOSSIP_SIM_SOAK_HOURS` changes the
    /// hours per run (longer soaks are best run with `-c release`).
    @Test(arguments: [1, 2])
    func soakHasNoFalsePositives(run: Int) {
        let watch = Stopwatch()
        let n = 50
        let hours = ProcessInfo.processInfo.environment["GOSSIP_SIM_SOAK_HOURS"].flatMap(Double.init) ?? 10
        var config = SimulatorConfiguration()
        config.seed = 400 &+ UInt64(run)
        config.lossRate = 0.1
        let sim = Simulator(config)
        let (cluster, converged) = sim.startConverged(n, spread: .seconds(1), limit: .seconds(120))
        #expect(converged != nil || sim.everyoneKnown(cluster))
        let start = sim.now
        sim.run(for: .seconds(hours * 3600))
        let memberHours = Double(n) * (sim.now - start).seconds / 3600
        #expect(sim.deaths.isEmpty, "healthy members declared dead: \(sim.deaths.prefix(3))")
        report(
            "soak", sim, watch,
            [
                ("run", "\(run)"), ("members", "\(n)"), ("loss", percent(0.1)),
                ("member-hours", fmt(memberHours, 0)), ("false-deaths", "\(sim.deaths.count)"),
                ("suspicions", "\(sim.statistics.suspicions)"), ("refutations", "\(sim.statistics.refutations)"),
                ("packets", "\(sim.statistics.packetsSent)"),
            ])
    }
}
