import Foundation
import Testing

@testable import Gossip

extension SimulatorBenchmarks {
    /// A group left alone for SIM_MEMBER_HOURS member-hours (250 by default:
    /// 25 h of 10 members, 2.5 h of 100, 15 min of 1000; 20 with
    /// BENCH_QUICK; the cost is about the same at every size): bytes each
    /// member sends per second, sealed (datagrams and push/pull streams), and
    /// healthy members declared dead, per 1000 member-hours; beside the
    /// bandwidth model and the expected rate of suspicions (a probe fails
    /// when its ping or ack is lost and every indirect path loses one of its
    /// four datagrams).
    @Test(arguments: cells)
    func steadyState(members n: Int, loss: Double) {
        let watch = Stopwatch()
        let (sim, cluster) = Self.settledGroup(n, loss: loss, seed: 5000 &+ UInt64(n) &* 11 &+ UInt64(loss * 100) &* 7)
        let memberHoursWanted = ProcessInfo.processInfo.environment["SIM_MEMBER_HOURS"].flatMap(Double.init) ?? (Self.quick ? 20 : 250)
        let hours = memberHoursWanted / Double(n)
        let before = sim.statistics
        let deathsBefore = sim.falseDeaths.count
        let start = sim.now
        let end = start + .seconds(hours * 3600)
        // In steps, so that a run of many hours keeps its agenda small.
        while sim.now < end { sim.run(until: min(end, sim.now + .seconds(600))) }
        let seconds = (sim.now - start).seconds
        let after = sim.statistics
        let memberSeconds = Double(n) * seconds
        let memberHours = memberSeconds / 3600
        let falseDeaths = sim.falseDeaths.count - deathsBefore
        let datagramBytes = Double(after.datagramBytes - before.datagramBytes)
        let streamBytes = Double(after.streamBytes - before.streamBytes)
        let suspicions = Double(after.suspicions - before.suspicions)

        let s = Self.settings
        let sample = sim.instance(cluster[0])
        let ping = SWIM.Packet(
            .ping(sequence: 1, target: sim.name(of: cluster[1]), targetKey: MemberIdentity.named(sim.name(of: cluster[1])).keyID, from: sample.sender))
        let ack = SWIM.Packet(.ack(sequence: 1, from: sim.name(of: cluster[1])))
        let state = WireCodec.encodedSize(of: .alive(sample.myself.state))
        let model = GossipModels.bytesPerMemberPerSecond(
            n: n, settings: s, loss: loss, pingBytes: WireCodec.encode(ping).count, ackBytes: WireCodec.encode(ack).count,
            stateBytes: state, payloadBytes: 0)
        // Suspicions each member raises per second if every probe were
        // independent: a suspicion is then gossiped, so every member counts
        // it once (the simulator counts suspect notifications by observer).
        let failedProbe = (1 - pow(1 - loss, 2)) * pow(1 - pow(1 - loss, 4), Double(s.indirectChecks))
        BenchmarkLine.print(
            "steady",
            [
                ("members", "\(n)"), ("loss", fmt(loss, 2)), ("member-hours", fmt(memberHours, 0)),
                ("bytes-per-member-s", fmt((datagramBytes + streamBytes) / memberSeconds, 0)),
                ("datagram-bytes-per-member-s", fmt(datagramBytes / memberSeconds, 0)),
                ("stream-bytes-per-member-s", fmt(streamBytes / memberSeconds, 0)),
                ("model-bytes-per-member-s", fmt(model, 0)),
                ("false-deaths", "\(falseDeaths)"),
                ("false-deaths-per-1000-member-hours", fmt(Double(falseDeaths) / memberHours * 1000, 2)),
                ("suspicions-per-member-hour", fmt(suspicions / Double(n) / memberHours, 1)),
                ("model-failed-probes-per-member-hour", fmt(failedProbe * 3600 / s.probeInterval.seconds, 1)),
                ("refutations", "\(after.refutations - before.refutations)"),
                ("cpu", fmt(watch.cpu, 1)), ("events", "\(after.events - before.events)"),
            ])
    }
}
