@testable import Gossip

/// Something due at a point of virtual time.
enum SimEvent {
    /// A timer of a process (`SWIM.Instance.nextDeadline`).
    case tick(process: Int)
    /// An event handed to a process without crossing the network (answers to
    /// `.resolveSeeds`, application events).
    case input(process: Int, SWIM.Event)
    /// A UDP datagram arriving; the link is checked on arrival.
    case packet(to: Int, SWIM.Packet, from: Int)
    /// A stream request reaching the server.
    case streamArrive(id: UInt64)
    /// A stream reply reaching the client.
    case streamReply(id: UInt64, SWIM.StreamMessage)
    /// A stream's time limit.
    case streamTimeout(id: UInt64)
    /// A stalled process resumes.
    case resume(process: Int)
    /// A scenario step.
    case action((Simulator) -> Void)
    /// An empty slot of the agenda's storage.
    case vacant
}

/// How the simulated network and the simulated members behave.
struct SimulatorConfiguration {
    var settings: SWIM.Settings = .lan
    /// Seeds the simulator's generator, which also seeds every instance.
    var seed: UInt64 = 1
    /// Probability that one UDP datagram is lost (TCP is reliable).
    var lossRate: Double = 0
    /// Each link (pair of hosts) gets a fixed one-way base latency in
    /// `minimumLatency ... maximumLatency`; each datagram adds a uniform
    /// jitter in `0 ..< jitter` (which may reorder datagrams, as UDP does).
    var minimumLatency: Duration = .microseconds(200)
    var maximumLatency: Duration = .milliseconds(2)
    var jitter: Duration = .microseconds(500)
    /// A stream that has no answer after this long fails (connect timeout
    /// across a partition, a stalled peer).
    var streamTimeout: Duration = .seconds(10)
    /// Delay of the shell's DNS resolution of seeds.
    var resolveDelay: Duration = .milliseconds(1)
    /// Round-trip every datagram and stream message through `WireCodec`,
    /// checking that datagrams stay within the packet budget. Costly in
    /// debug builds: on for the functional tests, off for the soak.
    var roundTripThroughCodec = false
    /// Applies payload deltas (the application's job).
    var merge: SWIM.PayloadMerge? = nil
}
