import Foundation
import Testing

@testable import Gossip

/// Long simulator runs behind the figures of `docs/benchmarks.md`: for 10,
/// 100 and 1000 members at 0 %, 10 % and 30 % datagram loss, crash
/// detection, dissemination, bandwidth and false deaths, each printed beside
/// its model (`GossipModels`) as one `[sim-bench] …` line, which
/// `scripts/bench/simulator.sh` turns into tables.
///
/// They take minutes of CPU (a release build is about ten times faster than a
/// debug one), so the normal test suite skips them: they run only with
/// GOSSIP_MIRROR_SIM_BENCH=1, and with BENCH_QUICK=1 they run shorter (a
/// check that they work, not a measurement). Every cell starts from a
/// converged group without loss, then sets the loss and waits 30 s before
/// measuring, so that lossy cells measure the steady state, not the join.
@Suite(
    "Simulator benchmarks", .enabled(if: ProcessInfo.processInfo.environment["GOSSIP_MIRROR_SIM_BENCH"] == "1"),
    .serialized)
struct SimulatorBenchmarks {
    static var quick: Bool { ProcessInfo.processInfo.environment["BENCH_QUICK"] == "1" }
    static let settings = SWIM.Settings.lan

    static let cells: [(Int, Double)] = [10, 100, 1000].flatMap { n in [0.0, 0.1, 0.3].map { (n, $0) } }

    /// A converged group of `n` on `lan`, then `loss` and 30 s to settle.
    static func settledGroup(_ n: Int, loss: Double, seed: UInt64, merge: SWIM.PayloadMerge? = nil) -> (Simulator, [Int]) {
        var config = SimulatorConfiguration()
        config.seed = seed
        config.merge = merge
        let sim = Simulator(config)
        let (cluster, converged) = sim.startConverged(n, spread: .seconds(n >= 1000 ? 5 : 1), limit: .seconds(180))
        precondition(converged != nil, "\(n) members did not converge")
        sim.setLossRate(loss)
        sim.run(for: .seconds(30))
        return (sim, cluster)
    }

    // MARK: Crash detection

    /// A member crashes; every other declares it dead. Per crash: when the
    /// first member suspected it, and when each member declared it dead.
    /// Crashes follow one another in one group (10 in a group of 100, 4 of
    /// 1000, each once the last is settled), or in fresh groups of 10, so
    /// that the group size hardly changes.
    @Test(arguments: cells)
    func detection(members n: Int, loss: Double) {
        let watch = Stopwatch()
        let crashes = Self.quick ? 2 : (n >= 1000 ? 4 : 10)
        let groups = n <= 10 ? crashes : 1
        var detections: [Double] = []  // every (crash, observer) pair
        var byAll: [Double] = []  // per crash, the last observer
        var firstSuspicions: [Double] = []
        var missed = 0
        var falseDeaths = 0
        var events = 0
        var sizes: [Int] = []
        for g in 0..<groups {
            let (sim, cluster) = Self.settledGroup(n, loss: loss, seed: 9000 &+ UInt64(n) &* 7 &+ UInt64(loss * 100) &* 131 &+ UInt64(g))
            var crashed: [Int] = []
            for c in 0..<(crashes / groups) {
                let victim = cluster[(c * 37 + 11) % cluster.count]
                guard !crashed.contains(victim) else { continue }
                let victimName = sim.name(of: victim)
                let endpoint = sim.process(victim).endpoint
                var suspectedAt: SWIM.Instant?
                sim.observer = { sim, _, event in
                    if case .memberChanged(let state, _) = event, state.name == victimName, state.endpoint == endpoint,
                        state.status == .suspect, suspectedAt == nil
                    {
                        suspectedAt = sim.now
                    }
                }
                let crashAt = sim.now
                sim.crash(victim)
                crashed.append(victim)
                let observers = cluster.filter { !crashed.contains($0) }
                sizes.append(observers.count + 1)
                let limit = Self.settings.failureDetectionBound(members: n) * 2
                sim.run(until: { $0.declarationTimes(of: endpoint, by: observers).count == observers.count }, limit: limit)
                let declared = sim.declarationTimes(of: endpoint, by: observers)
                missed += observers.count - declared.count
                let times = declared.values.map { ($0 - crashAt).seconds }
                detections += times
                if let last = times.max(), declared.count == observers.count { byAll.append(last) }
                if let s = suspectedAt { firstSuspicions.append((s - crashAt).seconds) }
                sim.observer = nil
                sim.run(for: .seconds(20))
            }
            falseDeaths += sim.falseDeaths.count
            events += sim.statistics.events
        }
        let size = sizes.isEmpty ? n : sizes.sorted()[sizes.count / 2]
        let s = Self.settings
        BenchmarkLine.print(
            "detection",
            [
                ("members", "\(n)"), ("loss", fmt(loss, 2)), ("crashes", "\(byAll.count)"), ("pairs", "\(detections.count)"),
                ("missed", "\(missed)"), ("false-deaths", "\(falseDeaths)"),
                ("first-suspicion-mean", fmt(mean(firstSuspicions), 2)),
                ("p50", fmt(quantile(detections, 0.5), 2)), ("p99", fmt(quantile(detections, 0.99), 2)),
                ("max", fmt(detections.max() ?? .nan, 2)), ("by-all-max", fmt(byAll.max() ?? .nan, 2)),
                ("model-first-suspicion", fmt(GossipModels.firstSuspicion(n: size, settings: s), 2)),
                ("model-p50", fmt(GossipModels.detection(n: size, settings: s, loss: loss, quantile: 0.5), 2)),
                ("model-p99", fmt(GossipModels.detection(n: size, settings: s, loss: loss, quantile: 0.99), 2)),
                ("suspicion-min", fmt(s.suspicionMinimum(members: size).seconds, 1)),
                ("suspicion-max", fmt(s.suspicionMaximum(members: size).seconds, 1)),
                ("cpu", fmt(watch.cpu, 1)), ("events", "\(events)"),
            ])
        #expect(missed == 0, "\(missed) observers never declared a crashed member dead")
    }
}

// MARK: Output

/// `[sim-bench] kind key=value …`: one line per benchmark cell.
enum BenchmarkLine {
    static func print(_ kind: String, _ fields: [(String, String)]) {
        Swift.print("[sim-bench] \(kind) " + fields.map { "\($0.0)=\($0.1)" }.joined(separator: " "))
    }
}

func mean(_ values: [Double]) -> Double { values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count) }

/// The q-quantile by the nearest rank (q = 0.99 of 990 values is the 981st).
func quantile(_ values: [Double], _ q: Double) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    let rank = Int((q * Double(sorted.count)).rounded(.up))
    return sorted[min(sorted.count - 1, max(0, rank - 1))]
}
