import Foundation
import Testing

@testable import Gossip

extension SimulatorBenchmarks {
    /// How a group is busy while a delta spreads.
    enum Background: String, CaseIterable, Sendable {
        /// Nothing else happens: broadcast queues are empty (as far as the
        /// loss lets them empty) when the delta is published.
        case quiet
        /// Ten metadata changes a second somewhere in the group, so that
        /// every member always has news queued and gossips on its cadence.
        case busy
    }

    /// One payload delta, published by one member, reaches 99 % and 100 % of
    /// the others: the median over several publishers, beside the push
    /// epidemic model for the gossip interval and fan-out (with and without
    /// the eager first wave, see `GossipModels.gossipRounds`). Also which
    /// kind of datagram first brought the delta to each member, to count
    /// what piggybacking on probes, acks and indirect probes adds.
    @Test(arguments: cells)
    func dissemination(members n: Int, loss: Double) {
        for background in Background.allCases { disseminate(n: n, loss: loss, background: background) }
    }

    func disseminate(n: Int, loss: Double, background: Background) {
        let watch = Stopwatch()
        let repetitions = Self.quick ? 1 : 5
        let (sim, cluster) = Self.settledGroup(
            n, loss: loss, seed: 7000 &+ UInt64(n) &* 3 &+ UInt64(loss * 100) &* 17 &+ (background == .busy ? 1 : 0),
            merge: appendMerge)
        let publishers = (0..<repetitions).map { cluster[($0 * 97 + 5) % n] }
        // A first full payload from each publisher, fetched by everyone, so that deltas apply.
        for p in publishers { sim.send(.localPayload(SWIM.Payload(generation: 1, bytes: [0]), delta: nil), to: p) }
        let based = sim.run(
            until: { sim in
                publishers.allSatisfy { p in
                    cluster.allSatisfy { $0 == p || sim.instance($0).payload(of: sim.name(of: p))?.generation == 1 }
                }
            }, step: .seconds(1), limit: .seconds(600))
        #expect(based != nil, "base payloads did not reach everyone")

        var reach99: [Double] = [], reach100: [Double] = [], firstWave: [Double] = [], idleShares: [Double] = []
        var reached: [Double] = []
        var carriers: [String: Int] = [:]
        var metadataChanges = 0
        for (r, publisher) in publishers.enumerated() {
            let name = sim.name(of: publisher)
            let others = cluster.filter { $0 != publisher }
            if background == .quiet {
                sim.run(until: { sim in cluster.allSatisfy { sim.instance($0).pendingBroadcasts == 0 } }, step: .seconds(1), limit: .seconds(30))
            } else {
                metadataChanges += churn(sim, cluster, excluding: publisher, for: .seconds(5))
            }
            idleShares.append(Double(others.filter { sim.instance($0).pendingBroadcasts == 0 }.count) / Double(others.count))
            let generation = UInt64(2 + r)
            var informedAt: [Int: SWIM.Instant] = [:]
            sim.observer = { sim, observer, event in
                if case .payloadChanged(let owner, let g) = event, owner == name, g == generation, informedAt[observer] == nil {
                    informedAt[observer] = sim.now
                }
            }
            sim.interceptor = { _, to, packet in
                if informedAt[to] == nil, packet.updates.contains(where: { Self.isDelta($0, of: name, generation: generation) }) {
                    carriers[Self.kind(of: packet.message), default: 0] += 1
                }
                return packet
            }
            let start = sim.now
            sim.send(.localPayload(SWIM.Payload(generation: generation, bytes: [0, UInt8(r)]), delta: [UInt8(r)]), to: publisher)
            // A member that missed every copy of the delta learns the generation
            // only from a push/pull: give up on 100 % after a minute.
            let end = start + .seconds(60)
            while sim.now < end, informedAt.count < others.count {
                if background == .busy { metadataChanges += churn(sim, cluster, excluding: publisher, for: .milliseconds(100)) }
                else { sim.run(for: .milliseconds(100)) }
            }
            sim.observer = nil
            sim.interceptor = nil
            let times = informedAt.values.map { ($0 - start).seconds }.sorted()
            let target = Int((0.99 * Double(others.count)).rounded(.up))
            reach99.append(times.count >= target ? times[target - 1] : .infinity)
            reach100.append(times.count == others.count ? times.last! : .infinity)
            firstWave.append(Double(times.filter { $0 < 0.05 }.count) / Double(others.count))
            reached.append(Double(times.count) / Double(others.count))
        }
        let s = Self.settings
        let counted = max(1, carriers.values.reduce(0, +))
        func share(_ kind: String) -> String { fmt(Double(carriers[kind, default: 0]) / Double(counted) * 100, 1) }
        BenchmarkLine.print(
            "dissemination",
            [
                ("members", "\(n)"), ("loss", fmt(loss, 2)), ("background", background.rawValue),
                ("publications", "\(repetitions)"),
                ("reach99-median", fmt(median(reach99), 2)), ("reach99-range", range(reach99)),
                ("reach100-median", fmt(median(reach100), 2)), ("reach100-range", range(reach100)),
                ("reached-in-60s", fmt(reached.min() ?? .nan, 4)),
                ("first-50ms-share", fmt(median(firstWave), 3)), ("idle-queues-share", fmt(median(idleShares), 3)),
                ("model-push-99", fmt(GossipModels.dissemination(n: n, settings: s, loss: loss, reach: 0.99, eager: false), 2)),
                ("model-push-100", fmt(GossipModels.dissemination(n: n, settings: s, loss: loss, reach: 1, eager: false), 2)),
                ("model-eager-99", fmt(GossipModels.dissemination(n: n, settings: s, loss: loss, reach: 0.99, eager: true), 2)),
                ("model-eager-100", fmt(GossipModels.dissemination(n: n, settings: s, loss: loss, reach: 1, eager: true), 2)),
                ("first-by-gossip", share("gossip")), ("first-by-ping", share("ping")), ("first-by-ack", share("ack")),
                ("first-by-ping-request", share("ping-request")), ("first-by-nack", share("nack")),
                ("background-changes", "\(metadataChanges)"), ("cpu", fmt(watch.cpu, 1)), ("events", "\(sim.statistics.events)"),
            ])
    }

    /// Runs `duration` with ten metadata changes a second, by random members
    /// other than `excluded`; returns how many it made.
    private func churn(_ sim: Simulator, _ cluster: [Int], excluding excluded: Int, for duration: Duration) -> Int {
        let steps = max(1, Int(duration.seconds * 10))
        for step in 0..<steps {
            let member = cluster[(Int(sim.now.nanoseconds / 1_000_000) &* 31 &+ step) % cluster.count]
            if member != excluded {
                sim.send(.localMetadata(["changed": "\(sim.now.nanoseconds / 1_000_000)"]), to: member)
            }
            sim.run(for: .milliseconds(100))
        }
        return steps
    }

    static func isDelta(_ update: SWIM.Update, of owner: String, generation: UInt64) -> Bool {
        if case .payloadDelta(let o, _, let g, _, _) = update { return o == owner && g == generation }
        return false
    }

    static func kind(of message: SWIM.Message) -> String {
        switch message {
        case .ping: "ping"
        case .pingRequest: "ping-request"
        case .ack: "ack"
        case .nack: "nack"
        case .gossip: "gossip"
        }
    }
}

func median(_ values: [Double]) -> Double { quantile(values, 0.5) }

/// "low–high" of finite values, "∞" for a value that never came.
func range(_ values: [Double]) -> String {
    guard let low = values.min(), let high = values.max() else { return "-" }
    func f(_ v: Double) -> String { v.isFinite ? fmt(v, 2) : "inf" }
    return "\(f(low))-\(f(high))"
}
