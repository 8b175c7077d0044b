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

    // MARK: 5. Dissemination

    /// One payload delta, then one metadata change, published by one member
    /// of 1000 on the `lan` profile: each reaches 99 % of the members within
    /// 2 s of simulated time.
    @Test func newsReachesNinetyNinePercentWithinTwoSeconds() {
        let watch = Stopwatch()
        let n = 1000
        var config = SimulatorConfiguration()
        config.seed = 500
        config.merge = appendMerge
        let sim = Simulator(config)
        let (cluster, converged) = sim.startConverged(n, spread: .seconds(5), limit: .seconds(120))
        #expect(converged != nil)
        let publisher = cluster[123]
        let publisherName = sim.name(of: publisher)
        let others = cluster.filter { $0 != publisher }
        // A first full payload, fetched by everyone, so that deltas apply.
        sim.send(.localPayload(SWIM.Payload(generation: 1, bytes: [1, 2, 3]), delta: nil), to: publisher)
        let based = sim.run(
            until: { sim in others.allSatisfy { sim.instance($0).payload(of: publisherName)?.generation == 1 } },
            step: .seconds(1), limit: .seconds(120))
        #expect(based != nil)
        // Quiet down: let every queue drain.
        sim.run(until: { sim in cluster.allSatisfy { sim.instance($0).pendingBroadcasts == 0 } }, step: .seconds(1), limit: .seconds(120))

        var payloadAt: [Int: SWIM.Instant] = [:]
        var metadataAt: [Int: SWIM.Instant] = [:]
        sim.observer = { sim, observer, event in
            switch event {
            case .payloadChanged(let owner, let generation) where owner == publisherName && generation == 2:
                if payloadAt[observer] == nil { payloadAt[observer] = sim.now }
            case .memberChanged(let state, _) where state.name == publisherName && state.metadata["registry"] == "new":
                if metadataAt[observer] == nil { metadataAt[observer] = sim.now }
            default:
                break
            }
        }
        let target = Int((Double(others.count) * 0.99).rounded(.up))
        func spread(_ times: [Int: SWIM.Instant], from start: SWIM.Instant) -> (p99: Duration?, all: Duration?) {
            let sorted = times.values.sorted()
            let p99 = sorted.count >= target ? sorted[target - 1] - start : nil
            let all = sorted.count == others.count ? sorted.last! - start : nil
            return (p99, all)
        }

        let deltaStart = sim.now
        let requestsBefore = sim.statistics.payloadRequests
        sim.send(.localPayload(SWIM.Payload(generation: 2, bytes: [1, 2, 3, 4]), delta: [4]), to: publisher)
        sim.run(for: .seconds(10))
        let delta = spread(payloadAt, from: deltaStart)
        // Applied from the gossiped delta, not fetched: no payload requests.
        let fetched = sim.statistics.payloadRequests - requestsBefore
        sim.run(until: { sim in cluster.allSatisfy { sim.instance($0).pendingBroadcasts == 0 } }, step: .seconds(1), limit: .seconds(120))

        let metadataStart = sim.now
        sim.send(.localMetadata(["registry": "new"]), to: publisher)
        sim.run(for: .seconds(10))
        let metadata = spread(metadataAt, from: metadataStart)

        #expect(delta.p99 != nil && delta.p99! <= .seconds(2), "delta reached 99 % after \(String(describing: delta.p99))")
        #expect(metadata.p99 != nil && metadata.p99! <= .seconds(2), "metadata reached 99 % after \(String(describing: metadata.p99))")
        #expect(others.allSatisfy { sim.instance($0).payload(of: publisherName)?.bytes == [1, 2, 3, 4] })
        // A few may fetch: a push/pull racing the gossip can bring the new
        // generation number before the delta itself.
        #expect(fetched <= others.count / 100, "\(fetched) members fetched the payload instead of applying the delta")
        #expect(sim.deaths.isEmpty)
        report(
            "dissemination", sim, watch,
            [
                ("members", "\(n)"), ("profile", "lan"),
                ("delta-99%", delta.p99.map { "\(fmt($0.seconds, 2))s" } ?? "never"),
                ("delta-100%", delta.all.map { "\(fmt($0.seconds, 2))s" } ?? "never"),
                ("metadata-99%", metadata.p99.map { "\(fmt($0.seconds, 2))s" } ?? "never"),
                ("metadata-100%", metadata.all.map { "\(fmt($0.seconds, 2))s" } ?? "never"),
                ("payload-fetches-for-delta", "\(fetched)"),
            ])
    }

    // MARK: The simulator itself

    /// Same seed, same run: every count and every member's view agree.
    @Test func runsAreReproducible() {
        func run() -> (Simulator.Statistics, [String]) {
            var config = SimulatorConfiguration()
            config.seed = 77
            config.lossRate = 0.1
            let sim = Simulator(config)
            let cluster = sim.addCluster(40, spread: .seconds(1))
            sim.run(for: .seconds(5))
            sim.crash(cluster[3])
            sim.stall(cluster[4], for: .seconds(2))
            sim.run(for: .seconds(40))
            let views = cluster.map { s in
                sim.instance(s).allMembers.map { "\($0.name)@\($0.endpoint)#\($0.incarnation):\($0.status)" }.joined(separator: ",")
            }
            return (sim.statistics, views)
        }
        let (a, viewsA) = run()
        let (b, viewsB) = run()
        #expect(a.events == b.events && a.packetsSent == b.packetsSent && a.packetsLost == b.packetsLost)
        #expect(a.suspicions == b.suspicions && a.refutations == b.refutations)
        #expect(viewsA == viewsB)
    }

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
        let accepted = sim.run(
            until: { sim in
                others.allSatisfy { o in
                    let m = sim.instance(o).member(named: rName)
                    return m?.status == .alive && m?.endpoint == newEndpoint
                }
            }, step: .milliseconds(100), limit: .seconds(180))
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
