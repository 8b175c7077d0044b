import Foundation
import Testing

@testable import Gossip

@Suite("SimDebug", .serialized)
struct SimDebugTests {
    @Test func investigateFalsePositive() {
        let env = ProcessInfo.processInfo.environment
        guard env["SIM_DEBUG"] == "1" else { return }
        var config = SimulatorConfiguration()
        config.lossRate = Double(env["SIM_LOSS"] ?? "0.1")!
        config.seed = UInt64(env["SIM_SEED"] ?? "42")!
        let n = Int(env["SIM_N"] ?? "100")!
        let sim = Simulator(config)
        struct Rec { var t: Double; var observer: Int; var name: String; var status: SWIM.Status; var inc: UInt64 }
        var log: [Rec] = []
        sim.observer = { sim, slot, event in
            if case .memberChanged(let s, _) = event { log.append(Rec(t: sim.now.seconds, observer: slot, name: s.name, status: s.status, inc: s.incarnation)) }
        }
        let cluster = sim.addCluster(n, spread: .seconds(1))
        sim.run(until: { $0.aliveCountsConverged(cluster) }, limit: .seconds(300))
        sim.run(for: .seconds(Double(env["SIM_EXTRA"] ?? "600")!))
        print("[dbg] declarations \(sim.declarations.count)")
        for d in sim.declarations.prefix(5) {
            print("[dbg] \(d.time) observer \(sim.name(of: d.observer)) declared \(d.subject) \(d.status)")
            let t0 = d.time.seconds - 60
            for r in log where r.name == d.subject && r.t >= t0 && r.t <= d.time.seconds + 5 && (r.observer == d.observer) {
                print("    \(r.t) \(sim.name(of: r.observer)) sees \(r.name) \(r.status) inc \(r.inc)")
            }
            let others = log.filter { $0.name == d.subject && $0.t >= t0 && $0.t <= d.time.seconds + 5 && $0.observer != d.observer }
            print("    others: \(others.count) changes; first \(others.first.map { "\($0.t) \($0.status) \($0.inc)" } ?? "-") last \(others.last.map { "\($0.t) \($0.status) \($0.inc) by \(sim.name(of: $0.observer))" } ?? "-")")
            let sus = others.filter { $0.status == .suspect }
            print("    suspect notes by others: \(sus.count) from \(sus.first?.t ?? 0) to \(sus.last?.t ?? 0); alive: \(others.filter { $0.status == .alive }.count)")
        }
    }
}

extension SimDebugTests {
    @Test func debugStall() {
        guard ProcessInfo.processInfo.environment["SIM_DEBUG"] == "2" else { return }
        var config = SimulatorConfiguration()
        config.seed = 600
        let sim = Simulator(config)
        let (cluster, _) = sim.startConverged(30, spread: .seconds(1), limit: .seconds(60))
        sim.run(for: .seconds(10))
        let s = cluster[7]
        sim.stall(s, for: .seconds(3))
        print("[dbg] stalled \(sim.process(s).stalled) at \(sim.now)")
        for _ in 0..<29 {
            sim.run(for: .milliseconds(100))
            let probing = cluster.filter { sim.instance($0).probe?.target == sim.name(of: s) }.map { c -> String in
                let pr = sim.instance(c).probe!
                return "\(sim.name(of: c)) ack \(pr.ackDeadline) dl \(pr.deadline) ind \(pr.indirectSent)"
            }
            if !probing.isEmpty { print("[dbg] \(sim.now) probing: \(probing)") }
        }
        print("[dbg] pending \(sim.process(s).pending.count) stalled \(sim.process(s).stalled) susp \(sim.statistics.suspicions)")
        for e in sim.process(s).pending { print("[dbg]   \(e)".prefix(200)) }
        sim.run(for: .seconds(1))
        print("[dbg] after: stalled \(sim.process(s).stalled) susp \(sim.statistics.suspicions) health \(sim.instance(s).localHealthScore)")
    }
}
