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
    }

    let configuration: SimulatorConfiguration
    var settings: SWIM.Settings { configuration.settings }
    private(set) var now: SWIM.Instant = .zero
    private var queue = EventQueue()
    private var random: SWIM.Random
    private(set) var slots: [Slot] = []
    private(set) var processes: [Process] = []
    private var processByEndpoint: [SWIM.Endpoint: Int] = [:]
    private var streams: [UInt64: Stream] = [:]
    private var nextStreamID: UInt64 = 0
    /// Partition group of every slot; equal groups can talk.
    private var group: [Int] = []
    private(set) var isPartitioned = false
    private(set) var lossRate: Double
    private let minLatency: UInt64
    private let latencySpan: UInt64
    private let jitter: UInt64
    private let linkSalt: UInt64

    var statistics = Statistics()
    private(set) var declarations: [Declaration] = []

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
            incarnation: incarnation, hasSeeds: !slots[slot].seeds.isEmpty, merge: configuration.merge,
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
    func restart(_ slot: Int, seeds: [Int], incarnation: SWIM.Incarnation = 0) {
        if process(slot).isRunning { crash(slot) }
        slots[slot].seeds = seeds
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

    // MARK: Internals

    private func dispatch(_ event: SimEvent) {
        switch event {
        case .tick(let id):
            let p = processes[id]
            let t = now.nanoseconds
            guard p.isRunning, !p.stalled, p.tickAt == t else { return }
            p.tickAt = nil
            statistics.ticks += 1
            if p.lastTickTime == t {
                p.ticksThisInstant += 1
                precondition(p.ticksThisInstant < 100, "\(slots[p.slot].name): timer does not advance at \(now)")
            } else {
                p.lastTickTime = t
                p.ticksThisInstant = 0
            }
            handle(p, .tick)
        case .input(let id, let e):
            deliver(processes[id], e)
        case .packet(let to, let packet, let from):
            let receiver = processes[to]
            let sender = processes[from]
            guard canReach(sender.slot, receiver.slot) else {
                statistics.packetsBlocked += 1
                return
            }
            var packet = packet
            if let interceptor {
                guard let edited = interceptor(sender.slot, receiver.slot, packet) else {
                    statistics.packetsFiltered += 1
                    return
                }
                packet = edited
            }
            guard receiver.isRunning else { return }
            statistics.packetsDelivered += 1
            deliver(receiver, .packet(packet, from: sender.endpoint))
        case .streamArrive(let id):
            guard let s = streams[id] else { return }
            let server = processes[s.server]
            let client = processes[s.client]
            guard canReach(server.slot, client.slot) else { return }  // the timeout fails it
            guard server.isRunning else {
                // Connection reset: fails after one more one-way trip.
                streams[id] = nil
                statistics.streamsFailed += 1
                queue.push(.input(process: s.client, .streamFailed(s.request, to: server.endpoint)), at: now.nanoseconds + latency(server.slot, client.slot))
                return
            }
            deliver(server, .streamRequest(id: id, s.request, from: client.endpoint))
        case .streamReply(let id, let message):
            guard let s = streams[id] else { return }  // already timed out
            let server = processes[s.server]
            let client = processes[s.client]
            guard canReach(server.slot, client.slot) else { return }
            streams[id] = nil
            deliver(client, .streamReply(message, from: server.endpoint))
        case .streamTimeout(let id):
            guard let s = streams.removeValue(forKey: id) else { return }
            statistics.streamsFailed += 1
            deliver(processes[s.client], .streamFailed(s.request, to: processes[s.server].endpoint))
        case .resume(let id):
            let p = processes[id]
            guard p.isRunning, p.stalled else { return }
            p.stalled = false
            let input = p.pending
            p.pending = []
            for e in input where p.isRunning { handle(p, e) }
            if p.isRunning { handle(p, .tick) }
        case .action(let action):
            action(self)
        case .vacant:
            break
        }
    }

    /// Hands `event` to a process now, or queues it if stalled.
    private func deliver(_ p: Process, _ event: SWIM.Event) {
        guard p.isRunning else { return }
        if p.stalled {
            p.pending.append(event)
            return
        }
        handle(p, event)
    }

    private func handle(_ p: Process, _ event: SWIM.Event) {
        statistics.handled += 1
        let directives = p.instance.handle(event, at: now)
        for d in directives { carryOut(d, from: p) }
        guard p.isRunning, !p.stalled else { return }
        let deadline = max(p.instance.nextDeadline, now).nanoseconds
        if let at = p.tickAt, at <= deadline { return }
        p.tickAt = deadline
        queue.push(.tick(process: p.id), at: deadline)
    }

    private func carryOut(_ directive: SWIM.Directive, from p: Process) {
        switch directive {
        case .sendPacket(let packet, let endpoint):
            statistics.packetsSent += 1
            var packet = packet
            if configuration.roundTripThroughCodec { packet = roundTrip(packet) }
            guard let to = processByEndpoint[endpoint] else {
                statistics.packetsToUnknown += 1
                return
            }
            if lossRate > 0, unitRandom() < lossRate {
                statistics.packetsLost += 1
                return
            }
            let receiver = processes[to]
            let at = now.nanoseconds + latency(p.slot, receiver.slot) + (jitter > 0 ? random.next() % jitter : 0)
            queue.push(.packet(to: to, packet, from: p.id), at: at)
        case .openStream(let message, let endpoint):
            statistics.streamsOpened += 1
            if case .payloadRequest = message { statistics.payloadRequests += 1 }
            let message = configuration.roundTripThroughCodec ? roundTrip(message) : message
            guard let to = processByEndpoint[endpoint], processes[to].isRunning else {
                // Refused (or nobody there): fails after a round trip.
                statistics.streamsFailed += 1
                let rtt = 2 * latency(p.slot, processByEndpoint[endpoint].map { processes[$0].slot } ?? p.slot)
                queue.push(.input(process: p.id, .streamFailed(message, to: endpoint)), at: now.nanoseconds + rtt)
                return
            }
            nextStreamID += 1
            let id = nextStreamID
            streams[id] = Stream(client: p.id, server: to, request: message)
            let server = processes[to]
            // Handshake and request: one and a half round trips.
            queue.push(.streamArrive(id: id), at: now.nanoseconds + 3 * latency(p.slot, server.slot))
            queue.push(.streamTimeout(id: id), at: (now + configuration.streamTimeout).nanoseconds)
        case .replyStream(let id, let message):
            guard let s = streams[id] else { return }
            let message = configuration.roundTripThroughCodec ? roundTrip(message) : message
            let client = processes[s.client]
            queue.push(.streamReply(id: id, message), at: now.nanoseconds + latency(p.slot, client.slot))
        case .resolveSeeds:
            let endpoints = slots[p.slot].seeds.map { processes[slots[$0].process].endpoint }
            queue.push(.input(process: p.id, .join(endpoints)), at: (now + configuration.resolveDelay).nanoseconds)
        case .notify(let event):
            note(event, by: p)
            observer?(self, p.slot, event)
        }
    }

    private func note(_ event: SWIM.MembershipEvent, by p: Process) {
        switch event {
        case .memberChanged(let state, let previous):
            let was = previous == .alive ? 1 : 0
            let isAlive = state.status == .alive ? 1 : 0
            p.aliveCount += isAlive - was
            if previous == nil { p.knownCount += 1 }
            switch state.status {
            case .suspect:
                statistics.suspicions += 1
            case .dead, .left:
                let subject = processByEndpoint[state.endpoint].map { processes[$0] }
                declarations.append(
                    Declaration(
                        time: now, observer: p.slot, subject: state.name, endpoint: state.endpoint, status: state.status,
                        subjectRunning: subject?.isRunning ?? false))
            case .alive:
                break
            }
        case .refuted:
            statistics.refutations += 1
        case .nameConflict:
            statistics.nameConflicts += 1
        case .memberRemoved:
            p.knownCount -= 1
        case .payloadChanged, .implausibleIncarnation:
            break
        }
    }

    // MARK: Network model

    /// One-way base latency of the link between two slots, fixed per link.
    @inline(__always)
    private func latency(_ a: Int, _ b: Int) -> UInt64 {
        let lo = UInt64(min(a, b)), hi = UInt64(max(a, b))
        var z = (lo << 32 | hi) &+ linkSalt
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return minLatency + z % latencySpan
    }

    @inline(__always)
    private func unitRandom() -> Double { Double(random.next() >> 11) * 0x1p-53 }

    private func roundTrip(_ packet: SWIM.Packet) -> SWIM.Packet {
        let bytes = WireCodec.encode(packet)
        statistics.codecChecked += 1
        statistics.largestPacket = max(statistics.largestPacket, bytes.count)
        if bytes.count > settings.packetBudget - WireCodec.envelopeReserve { statistics.codecOversize += 1 }
        guard let decoded = try? WireCodec.decodePacket(bytes), decoded == packet else {
            statistics.codecMismatches += 1
            return packet
        }
        return decoded
    }

    private func roundTrip(_ message: SWIM.StreamMessage) -> SWIM.StreamMessage {
        let bytes = WireCodec.encode(message)
        statistics.codecChecked += 1
        guard let decoded = try? WireCodec.decodeStreamMessage(bytes), decoded == message else {
            statistics.codecMismatches += 1
            return message
        }
        return decoded
    }
}

extension SWIM.Instant {
    static func seconds(_ s: Double) -> SWIM.Instant { SWIM.Instant(nanoseconds: UInt64(s * 1e9)) }
    var seconds: Double { Double(nanoseconds) / 1e9 }
}
