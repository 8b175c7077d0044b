@testable import Gossip

/// A deterministic discrete-event simulator for `SWIM.Instance`.
///
/// Virtual time, one agenda ordered by `(time, sequence)`, one seeded
/// generator: the same configuration and scenario always produce the same
/// run, in any process (the instance never depends on dictionary order,
/// which Swift seeds per process). Members are identified by a *slot* (a
/// stable name, `node-0042`); each start or restart of a slot is a *process*
/// with its own endpoint, so a restarted member keeps its name and gets a
/// new address. `addCluster` starts members with one seed each, a random
/// earlier member (the first has none), as `--join` would.
///
/// Use: build a `SimulatorConfiguration`, add members, schedule faults
/// (`crash`, `restart`, `stall`, `partition`/`heal`, `setLossRate`) and
/// application events (`send`), `run` until a time or a condition, and read
/// the members' views (`instance(_:)`), the notifications (`observer`,
/// `declarations`) and the counters (`statistics`).
///
/// Speed (debug build, this 2-core machine): about 200,000 events per
/// CPU-second in small groups, 35,000 in a 1000-member join (whose datagrams
/// carry some 30 updates each): the join costs about 25 s of CPU, and 50
/// members at 10 % loss about 0.17 s per member-hour.
///
/// The network: UDP datagrams with per-link latency, jitter and loss; TCP
/// streams as reliable request/response exchanges that fail when the peer is
/// down (refused after one round trip), partitioned away or silent (after
/// `streamTimeout`). Partitions split slots into groups that cannot reach
/// each other, for datagrams and streams alike. A stalled process handles
/// nothing and keeps its input queued until it resumes; a crashed process
/// drops everything.
final class Simulator {
    final class Process {
        let id: Int
        let slot: Int
        let endpoint: SWIM.Endpoint
        var instance: SWIM.Instance
        var crashed = false
        var stalled = false
        /// Input that arrived while stalled, handled on resume.
        var pending: [SWIM.Event] = []
        /// Time of the earliest tick scheduled for this process.
        var tickAt: UInt64?
        /// How many other members this process sees alive, and knows of at
        /// all (from its notifications).
        var aliveCount = 0
        var knownCount = 0
        /// Ticks at the current instant, to catch a timer that never advances.
        var ticksThisInstant = 0
        var lastTickTime: UInt64 = .max

        init(id: Int, slot: Int, endpoint: SWIM.Endpoint, instance: SWIM.Instance) {
            self.id = id
            self.slot = slot
            self.endpoint = endpoint
            self.instance = instance
        }

        var isRunning: Bool { !crashed }
    }

    struct Slot {
        let name: String
        var seeds: [Int]
        var process: Int
        /// The member's signing key: by default one per name, kept across
        /// restarts (an identity key file); `restart(newIdentity:)` draws a
        /// new one (a process without a key file).
        var identity: MemberIdentity? = nil
    }

    struct Stream {
        let client: Int
        let server: Int
        let request: SWIM.StreamMessage
    }

    /// A death or departure as one observer declared it.
    struct Declaration {
        let time: SWIM.Instant
        let observer: Int
        let subject: String
        let endpoint: SWIM.Endpoint
        let status: SWIM.Status
        /// Whether the process at that endpoint was running (not crashed) then.
        let subjectRunning: Bool
    }

    struct Statistics {
        var events = 0
        var handled = 0
        var ticks = 0
        var packetsSent = 0
        var packetsDelivered = 0
        var packetsLost = 0
        var packetsBlocked = 0
        var packetsFiltered = 0
        var packetsToUnknown = 0
        var streamsOpened = 0
        var payloadRequests = 0
        var streamsFailed = 0
        var codecChecked = 0
        var codecOversize = 0
        var codecMismatches = 0
        var largestPacket = 0
        var suspicions = 0
        var refutations = 0
        var nameConflicts = 0
        /// News refused as not signed by the member it is about.
        var forged = 0
        /// Bytes sent as they would be on the wire, sealed: datagrams (lost
        /// ones too) and stream messages in 16 KiB chunks (`sealedSize`).
        var datagramBytes = 0
        var streamBytes = 0
    }

    let configuration: SimulatorConfiguration
    var settings: SWIM.Settings { configuration.settings }
    private(set) var now: SWIM.Instant = .zero
    // The state below is internal, not private, for `Simulator+Delivery.swift`.
    var queue = EventQueue()
    var random: SWIM.Random
    private(set) var slots: [Slot] = []
    private(set) var processes: [Process] = []
    var processByEndpoint: [SWIM.Endpoint: Int] = [:]
    var streams: [UInt64: Stream] = [:]
    var nextStreamID: UInt64 = 0
    /// Partition group of every slot; equal groups can talk.
    private var group: [Int] = []
    private(set) var isPartitioned = false
    private(set) var lossRate: Double
    let minLatency: UInt64
    let latencySpan: UInt64
    let jitter: UInt64
    let linkSalt: UInt64

    var statistics = Statistics()
    var declarations: [Declaration] = []

    /// Called for every `.notify` directive: (simulator, observer slot, event).
    var observer: ((Simulator, Int, SWIM.MembershipEvent) -> Void)?
    /// Sees every datagram about to be delivered: (from slot, to slot,
    /// packet); returns the packet to deliver (possibly edited) or nil to drop it.
    var interceptor: ((Int, Int, SWIM.Packet) -> SWIM.Packet?)?

    init(_ configuration: SimulatorConfiguration) {
        self.configuration = configuration
        var random = SWIM.Random(seed: configuration.seed)
        self.linkSalt = random.next()
        self.random = random
        self.lossRate = configuration.lossRate
        self.minLatency = UInt64(configuration.minimumLatency.nanoseconds)
        self.latencySpan = UInt64(max(0, (configuration.maximumLatency - configuration.minimumLatency).nanoseconds)) + 1
        self.jitter = UInt64(configuration.jitter.nanoseconds)
    }

    // MARK: Building a cluster

    /// Adds a member that starts at `at` (default: now) with the given seed slots.
    @discardableResult
    func addMember(seeds: [Int], at start: SWIM.Instant? = nil, metadata: SWIM.Metadata = [:]) -> Int {
        let slot = slots.count
        slots.append(Slot(name: Self.name(slot), seeds: seeds, process: -1))
        group.append(0)
        let when = start ?? now
        schedule(at: when) { sim in sim.startProcess(slot: slot, metadata: metadata, incarnation: 0) }
        return slot
    }

    /// `count` members; member 0 has no seed, member `i` has one seed chosen
    /// at random among members `0 ..< i`. Starts are spread evenly over `spread`.
    func addCluster(_ count: Int, spread: Duration = .zero) -> [Int] {
        var added: [Int] = []
        let base = slots.count
        for i in 0..<count {
            let seeds = i == 0 && base == 0 ? [] : [Int(random.next() % UInt64(base + i))]
            let offset = count > 1 ? spread.scaled(by: Double(i) / Double(count)) : .zero
            added.append(addMember(seeds: seeds, at: now + offset))
        }
        return added
    }

    static func name(_ slot: Int) -> String {
        let digits = String(slot)
        return "node-" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    private func startProcess(slot: Int, metadata: SWIM.Metadata, incarnation: SWIM.Incarnation) {
        let id = processes.count
        // Every process gets its own address, so a restart has a new endpoint.
        let endpoint = SWIM.Endpoint(host: "10.\(id >> 16 & 255).\(id >> 8 & 255).\(id & 255)", port: 7946)
        let instance = SWIM.Instance(
            settings: settings, name: slots[slot].name, endpoint: endpoint, metadata: metadata,
            identity: slots[slot].identity ?? .named(slots[slot].name), incarnation: incarnation, hasSeeds: !slots[slot].seeds.isEmpty, merge: configuration.merge,
            seed: random.next(), now: now)
        let process = Process(id: id, slot: slot, endpoint: endpoint, instance: instance)
        processes.append(process)
        processByEndpoint[endpoint] = id
        slots[slot].process = id
        handle(process, .tick)
    }

    // MARK: Faults

    /// The slot's current process stops and drops everything from now on.
    func crash(_ slot: Int) {
        let p = processes[slots[slot].process]
        p.crashed = true
        p.pending = []
    }

    /// A new process for the slot: same name, new endpoint, fresh state.
    func restart(_ slot: Int, seeds: [Int], incarnation: SWIM.Incarnation = 0, newIdentity: Bool = false) {
        if process(slot).isRunning { crash(slot) }
        slots[slot].seeds = seeds
        if newIdentity {
            var seed: [UInt8] = []
            for _ in 0..<4 { withUnsafeBytes(of: random.next()) { seed += $0 } }
            slots[slot].identity = MemberIdentity(seed: seed)
        }
        startProcess(slot: slot, metadata: [:], incarnation: incarnation)
    }

    /// The slot's process handles nothing for `duration`; its input queues up.
    func stall(_ slot: Int, for duration: Duration) {
        let p = process(slot)
        guard p.isRunning, !p.stalled else { return }
        p.stalled = true
        p.tickAt = nil
        queue.push(.resume(process: p.id), at: (now + duration).nanoseconds)
    }

    /// Splits the slots into groups that cannot reach each other; slots not
    /// listed form one more group.
    func partition(_ groups: [[Int]]) {
        for i in group.indices { group[i] = -1 }
        for (g, members) in groups.enumerated() { for s in members { group[s] = g } }
        isPartitioned = true
    }

    /// Changes the datagram loss rate from now on.
    func setLossRate(_ rate: Double) { lossRate = rate }

    func heal() {
        for i in group.indices { group[i] = 0 }
        isPartitioned = false
    }

    @inline(__always)
    func canReach(_ a: Int, _ b: Int) -> Bool { group[a] == group[b] }

    // MARK: Driving

    func schedule(at time: SWIM.Instant, _ action: @escaping (Simulator) -> Void) {
        queue.push(.action(action), at: max(time, now).nanoseconds)
    }

    func schedule(after delay: Duration, _ action: @escaping (Simulator) -> Void) {
        schedule(at: now + delay, action)
    }

    /// Hands an application event (`.localPayload`, `.leave`, ...) to a slot's process now.
    func send(_ event: SWIM.Event, to slot: Int) {
        deliver(process(slot), event)
    }

    /// Runs every event due up to and including `end`, then sets the clock to `end`.
    func run(until end: SWIM.Instant) {
        let limit = end.nanoseconds
        while let t = queue.nextTime, t <= limit {
            let (time, event) = queue.pop()!
            now = SWIM.Instant(nanoseconds: time)
            statistics.events += 1
            dispatch(event)
        }
        if end > now { now = end }
    }

    func run(for duration: Duration) { run(until: now + duration) }

    /// Runs in steps of `step` until `condition` holds or `limit` has passed;
    /// returns the time it first held (at step resolution) or nil.
    @discardableResult
    func run(until condition: (Simulator) -> Bool, step: Duration = .milliseconds(100), limit: Duration) -> SWIM.Instant? {
        let end = now + limit
        if condition(self) { return now }
        while now < end {
            run(until: min(now + step, end))
            if condition(self) { return now }
        }
        return nil
    }

    // MARK: Observing

    func process(_ slot: Int) -> Process { processes[slots[slot].process] }
    func instance(_ slot: Int) -> SWIM.Instance { process(slot).instance }
    func name(of slot: Int) -> String { slots[slot].name }

    /// Slots whose current process runs and has not left.
    var liveSlots: [Int] {
        slots.indices.filter { slots[$0].process >= 0 && process($0).isRunning && !process($0).instance.isLeaving }
    }

    /// Cheap test from notification counts: every live member counts the
    /// others alive. Exact when no stale identities exist; confirm with `viewGaps`.
    func aliveCountsConverged(_ live: [Int]) -> Bool {
        let expected = live.count - 1
        for s in live where slots[s].process < 0 || process(s).aliveCount != expected { return false }
        return true
    }

    /// Every live member knows every other (in whatever state).
    func everyoneKnown(_ live: [Int]) -> Bool {
        let expected = live.count - 1
        for s in live where slots[s].process < 0 || process(s).knownCount != expected { return false }
        return true
    }

    /// Pairs (observer, subject) among `live` where the observer does not see
    /// the subject alive at its current endpoint. Zero means one agreed view.
    func viewGaps(_ live: [Int]) -> Int {
        var gaps = 0
        for a in live {
            let view = process(a).instance
            for b in live where b != a {
                let target = process(b)
                guard let m = view.member(named: slots[b].name), m.status == .alive, m.endpoint == target.endpoint else {
                    gaps += 1
                    continue
                }
            }
        }
        return gaps
    }

    /// Declared deaths of members whose process was running: false positives.
    var falseDeaths: [Declaration] { declarations.filter { $0.status == .dead && $0.subjectRunning } }
}
