import Foundation
import Testing

@testable import Gossip

/// Dissemination of news and the simulator's own reproducibility (see
/// `SimulatorTests`).
extension SimulatorTests {
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
}
