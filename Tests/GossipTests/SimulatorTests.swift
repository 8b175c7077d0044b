import Foundation
import Testing

@testable import Gossip

@Suite("Simulator", .serialized)
struct SimulatorTests {
    @Test func probeSpeed100() {
        var config = SimulatorConfiguration()
        let env = ProcessInfo.processInfo.environment
        let n = Int(env["SIM_N"] ?? "100")!
        config.lossRate = Double(env["SIM_LOSS"] ?? "0")!
        config.roundTripThroughCodec = env["SIM_CODEC"] == "1"
        config.seed = 42
        let sim = Simulator(config)
        let clock = ContinuousClock()
        let start = clock.now
        let cluster = sim.addCluster(n, spread: .seconds(n >= 1000 ? 5 : 1))
        let converged = sim.run(until: { $0.aliveCountsConverged(cluster) }, limit: .seconds(300))
        sim.run(for: .seconds(Double(env["SIM_EXTRA"] ?? "30")!))
        let wall = (clock.now - start).seconds
        print("[sim] probe \(n) loss \(config.lossRate): converged at \(converged?.seconds ?? -1)s, events \(sim.statistics.events), handled \(sim.statistics.handled), wall \(wall)s, \(Double(sim.statistics.events) / wall) ev/s, dead \(sim.declarations.count), susp \(sim.statistics.suspicions), gaps \(sim.viewGaps(cluster)) \(sim.statistics)")
        #expect(converged != nil)
    }
}
