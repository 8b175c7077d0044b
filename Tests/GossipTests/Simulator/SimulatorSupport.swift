import Foundation

@testable import Gossip

/// Wall and CPU time of one simulator test. The tests are synchronous, so
/// the thread's CPU time is the test's own, even when other tests (or other
/// builds) compete for the cores and stretch the wall time.
struct Stopwatch {
    private let clock = ContinuousClock()
    private let wallStart: ContinuousClock.Instant
    private let cpuStart: Double

    init() {
        wallStart = clock.now
        cpuStart = Stopwatch.threadCPU()
    }

    var wall: Double { (clock.now - wallStart).seconds }
    var cpu: Double { Stopwatch.threadCPU() - cpuStart }

    static func threadCPU() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

/// `1.23` with the given number of decimals.
func fmt(_ value: Double, _ decimals: Int = 2) -> String { String(format: "%.\(decimals)f", value) }

/// `10%`.
func percent(_ fraction: Double) -> String { "\(fmt(fraction * 100, 0))%" }

/// One summary line per test, `[sim] name key=value ...`, for the docs.
func report(_ test: String, _ sim: Simulator, _ watch: Stopwatch, _ fields: [(String, String)]) {
    let common: [(String, String)] = [
        ("simulated", "\(fmt(sim.now.seconds, 1))s"),
        ("wall", "\(fmt(watch.wall, 1))s"),
        ("cpu", "\(fmt(watch.cpu, 1))s"),
        ("events", "\(sim.statistics.events)"),
    ]
    let line = (fields + common).map { "\($0.0)=\($0.1)" }.joined(separator: " ")
    print("[sim] \(test) \(line)")
}

extension Simulator {
    /// Starts `count` members (one seed each, starts spread over `spread`)
    /// and runs until every member counts every other alive. Returns the
    /// members and the time it happened, or nil after `limit`.
    func startConverged(_ count: Int, spread: Duration, limit: Duration) -> ([Int], SWIM.Instant?) {
        let cluster = addCluster(count, spread: spread)
        let at = run(until: { $0.aliveCountsConverged(cluster) && $0.viewGaps(cluster) == 0 }, limit: limit)
        return (cluster, at)
    }

    /// Runs until every one of `observers` holds `name` alive at `endpoint`
    /// (a restarted member accepted at its new address); when that was, or
    /// nil after `limit`.
    func runUntilAlive(_ name: String, at endpoint: SWIM.Endpoint, in observers: [Int], limit: Duration) -> SWIM.Instant? {
        run(
            until: { sim in
                observers.allSatisfy { o in
                    let m = sim.instance(o).member(named: name)
                    return m?.status == .alive && m?.endpoint == endpoint
                }
            }, step: .milliseconds(100), limit: limit)
    }

    /// When every observer in `observers` first declared `endpoint` dead
    /// (or left), by observer; observers that did not are missing.
    func declarationTimes(of endpoint: SWIM.Endpoint, status: SWIM.Status = .dead, by observers: [Int]) -> [Int: SWIM.Instant] {
        let wanted = Set(observers)
        var first: [Int: SWIM.Instant] = [:]
        for d in declarations where d.endpoint == endpoint && d.status == status && wanted.contains(d.observer) {
            if first[d.observer] == nil { first[d.observer] = d.time }
        }
        return first
    }

    /// Dead declarations (not departures) among `declarations`.
    var deaths: [Declaration] { declarations.filter { $0.status == .dead } }

    /// Pairs (observer, subject) in `live` where the subject is not alive
    /// in the observer's view, counting subjects that are dead separately.
    func viewCensus(_ live: [Int]) -> (alive: Int, suspect: Int, dead: Int, unknown: Int) {
        var alive = 0, suspect = 0, dead = 0, unknown = 0
        for a in live {
            let view = process(a).instance
            for b in live where b != a {
                switch view.member(named: name(of: b))?.status {
                case .alive?: alive += 1
                case .suspect?: suspect += 1
                case .dead?, .left?: dead += 1
                case nil: unknown += 1
                }
            }
        }
        return (alive, suspect, dead, unknown)
    }
}

/// A toy payload merge for the tests: a delta is appended to the payload.
let appendMerge: SWIM.PayloadMerge = { base, delta in base + delta }
