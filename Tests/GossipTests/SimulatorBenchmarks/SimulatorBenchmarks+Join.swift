import Foundation
import Testing

@testable import Gossip

extension SimulatorBenchmarks {
    /// 1000 members join within 5 s at 0 % and 10 % datagram loss: the time
    /// until every member knows every other alive, and the members falsely
    /// declared dead meanwhile. The join carries one alive record per member
    /// to every member, so it is where the size of a record (with its key
    /// and signature) shows most (docs/benchmarks.md, "Signed records").
    @Test(arguments: [0.0, 0.1])
    func join(loss: Double) {
        let watch = Stopwatch()
        let n = Self.quick ? 100 : 1000
        var config = SimulatorConfiguration()
        config.seed = 7100 &+ UInt64(loss * 100)
        let sim = Simulator(config)
        sim.setLossRate(loss)
        let start = sim.now
        let (cluster, converged) = sim.startConverged(n, spread: .seconds(5), limit: .seconds(900))
        _ = cluster
        BenchmarkLine.print(
            "join",
            [
                ("members", "\(n)"), ("loss", fmt(loss * 100, 0) + "%"),
                ("all-know-all-s", converged.map { fmt(($0 - start).seconds, 1) } ?? "never"),
                ("false-deaths", "\(sim.falseDeaths.count)"),
                ("record-bytes", "\(WireCodec.encodedSize(of: .alive(sim.instance(cluster[0]).ownRecord)))"),
                ("run-s", fmt(watch.wall, 0)),
            ])
        #expect(converged != nil)
    }
}
