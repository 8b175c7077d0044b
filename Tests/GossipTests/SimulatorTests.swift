import Testing

@testable import Gossip

@Suite("Simulator", .serialized)
struct SimulatorTests {
    @Test func probeSpeed100() {
        var config = SimulatorConfiguration()
        config.seed = 42
        let sim = Simulator(config)
        let clock = ContinuousClock()
        let start = clock.now
        let cluster = sim.addCluster(100, spread: .seconds(1))
        let converged = sim.run(until: { $0.aliveCountsConverged(cluster) }, limit: .seconds(120))
        sim.run(for: .seconds(30))
        let wall = (clock.now - start).seconds
        print("[sim] probe 100: converged at \(converged?.seconds ?? -1)s, events \(sim.statistics.events), handled \(sim.statistics.handled), wall \(wall)s, \(Double(sim.statistics.events) / wall) ev/s")
        #expect(converged != nil)
    }
}
