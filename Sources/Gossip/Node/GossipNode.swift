import Foundation
import Logging

/// A member of the gossip group: `SWIM.Instance` driven over a
/// `GossipTransport`, every datagram and stream chunk sealed with the cluster
/// keyring (`MessageSecurity`). The way apple/swift-cluster-membership pairs
/// `SWIM.Instance` with its NIO shell, the node interprets the instance's
/// directives (`GossipNode+Interpreter`) and feeds it what the network
/// delivers (`GossipNode+Datagrams`, `GossipNode+Streams`).
///
/// The instance is only touched inside this actor, so its state needs no
/// locks; network I/O happens in child tasks of `run()`.
public actor GossipNode {
    nonisolated public let configuration: GossipConfiguration
    let logger: Logger
    let transport: any GossipTransport
    var instance: SWIM.Instance
    var security: MessageSecurity
    var admission: StreamAdmission
    var counters = GossipCounters()
    let origin = ContinuousClock.now
    /// The advertised endpoint, fixed at creation.
    nonisolated public let advertisedEndpoint: SWIM.Endpoint

    var outboundJobs: AsyncStream<OutboundJob>.Continuation?
    var subscribers: [UInt64: AsyncStream<SWIM.MembershipEvent>.Continuation] = [:]
    var nextSubscriberID: UInt64 = 0
    /// Inbound stream requests by id, between `.streamRequest` and the
    /// interpreter's `.replyStream` (nil until it answers).
    var pendingAnswers: [UInt64: SWIM.StreamMessage?] = [:]
    var nextStreamID: UInt64 = 0
    var stopRequested = false
    var readyContinuation: CheckedContinuation<Void, any Error>?
    var isBound = false
    /// The timer loop sleeps on this until the instance's next deadline.
    let alarm = Alarm()
    /// The deadline the timer loop sleeps until; an event that moves the
    /// instance's deadline earlier rings the alarm.
    var timerTarget = SWIM.Instant(nanoseconds: .max)
    /// Times the timer loop woke up (for tests: an idle node does not).
    var timerWakeups = 0
    /// When the members cap was last logged (`warnOverCapacity`).
    var capacityWarnedAt: SWIM.Instant?

    /// A node on real sockets (`NIOTransport`), bound when `run()` starts.
    public init(configuration: GossipConfiguration, logger: Logger = Logger(label: "gossip")) throws {
        try self.init(
            configuration: configuration, transport: NIOTransport(bindAddress: configuration.bindAddress, logger: logger),
            logger: logger)
    }

    init(configuration: GossipConfiguration, transport: any GossipTransport, logger: Logger) throws {
        guard SWIM.MemberName.isValid(configuration.name) else {
            throw StartError.invalidName(LogText.escaped(configuration.name))
        }
        do { try WireCodec.validate(metadata: configuration.metadata) } catch {
            throw StartError.invalidMetadata("\(error)")
        }
        if let problem = configuration.settings.limits.problem() { throw StartError.invalidLimits(problem) }
        self.configuration = configuration
        self.logger = logger
        self.transport = transport
        // Nothing stamped before this process started is accepted: a restart
        // must not make the messages of its previous life fresh again.
        self.security = MessageSecurity(
            label: configuration.label, keyring: configuration.keyring,
            replayWindowMilliseconds: configuration.replayWindowMilliseconds, notBefore: Self.wallClockMilliseconds)
        self.admission = StreamAdmission(
            maximumInbound: configuration.streamLimits.maximumInbound,
            maximumPerAddress: configuration.streamLimits.maximumPerAddress)
        let advertised = try configuration.advertiseAddress ?? transport.defaultAdvertiseAddress()
        self.advertisedEndpoint = advertised
        var seed: UInt64 = 0
        withUnsafeMutableBytes(of: &seed) { $0.copyBytes(from: Sodium.randomBytes(8)) }
        self.instance = SWIM.Instance(
            settings: configuration.settings, name: configuration.name, endpoint: advertised,
            metadata: configuration.metadata, hasSeeds: !configuration.seeds.isEmpty, merge: configuration.merge,
            seed: seed, now: .zero)
    }

    public enum StartError: Error, CustomStringConvertible {
        case noAdvertiseAddress(String)
        case invalidAddress(String)
        /// The member name breaks `SWIM.MemberName` (escaped for display).
        case invalidName(String)
        case invalidMetadata(String)
        /// `SWIM.Limits.problem()`.
        case invalidLimits(String)
        /// Binding the gossip socket failed (`what`: protocol and address).
        case bindFailed(String, String)

        public var description: String {
            switch self {
            case .noAdvertiseAddress(let why): "cannot derive an advertise address: \(why); set --advertise-addr"
            case .invalidAddress(let a): "\(a) is not an IP address; use an IP literal or a name that resolves"
            case .invalidName(let name): "\"\(name)\" is not a valid member name: \(SWIM.MemberName.rule)"
            case .invalidMetadata(let why): "member metadata cannot be gossiped: \(why)"
            case .invalidLimits(let why): "invalid gossip limits: \(why)"
            case .bindFailed(let what, let why): "cannot bind the gossip socket (\(what)): \(why)"
            }
        }
    }

    /// Time since the node was created, on the instance's clock.
    var now: SWIM.Instant {
        let elapsed = ContinuousClock.now - origin
        return SWIM.Instant(nanoseconds: UInt64(max(0, elapsed.nanoseconds)))
    }

    /// Milliseconds since the Unix epoch (0 for a clock set before it), for
    /// sealed timestamps.
    static var wallClockMilliseconds: UInt64 { UInt64(max(0, Date().timeIntervalSince1970 * 1000)) }

    // MARK: Public view

    /// All members including this one, sorted by name.
    public var members: [SWIM.Member] { instance.allMembers }

    public var myself: SWIM.Member { instance.myself }

    public func payload(of name: String) -> SWIM.Payload? { instance.payload(of: name) }

    public var localHealthScore: Int { instance.localHealthScore }

    public var keys: [ClusterKey] { security.keyring.keys }

    /// Counters of this node, for status pages and tests.
    public var statistics: GossipStatistics { counters.statistics }

    /// Membership changes as they happen, until the node stops.
    public func events() -> AsyncStream<SWIM.MembershipEvent> {
        let (stream, continuation) = AsyncStream<SWIM.MembershipEvent>.makeStream(bufferingPolicy: .bufferingNewest(4096))
        let id = nextSubscriberID
        nextSubscriberID += 1
        subscribers[id] = continuation
        continuation.onTermination = { [weak self] _ in Task { await self?.unsubscribe(id) } }
        return stream
    }

    private func unsubscribe(_ id: UInt64) { subscribers[id] = nil }

    /// Waits until the transport is bound (or binding failed).
    public func waitUntilBound() async throws {
        if isBound { return }
        try await withCheckedThrowingContinuation { readyContinuation = $0 }
    }

    // MARK: Application input

    /// Publishes this node's payload; `delta` turns the previous generation into this one.
    public func publish(_ payload: SWIM.Payload, delta: [UInt8]?) async {
        await handle(.localPayload(payload, delta: delta))
    }

    /// Changes this member's metadata; refused (and nothing changes) unless
    /// every member can decode it (`WireCodec.validate(metadata:)`).
    public func updateMetadata(_ metadata: SWIM.Metadata) async throws(WireError) {
        try WireCodec.validate(metadata: metadata)
        await handle(.localMetadata(metadata))
    }

    /// Keyring rotation: install, use (make primary), remove.
    public func installKey(_ key: ClusterKey) { security.keyring.install(key) }
    public func useKey(_ key: ClusterKey) throws { try security.keyring.use(key) }
    public func removeKey(_ key: ClusterKey) throws { try security.keyring.remove(key) }

    /// Replaces the whole keyring at once (a reload of the key files).
    public func replaceKeyring(_ keys: Keyring) {
        if keys != security.keyring {
            logger.notice("keyring changed", metadata: ["primary": "\(keys.primary.id)", "keys": "\(keys.keys.map(\.id))"])
        }
        security.keyring = keys
    }

    /// Leaves the group gracefully: announces it, waits until the news has
    /// gone out (or `leaveTimeout`), then makes `run()` return.
    public func leave() async {
        guard !stopRequested else { return }
        if isBound {
            await handle(.leave)
            let deadline = ContinuousClock.now + configuration.leaveTimeout
            // Let gossip rounds carry the news; the direct sends already went.
            while instance.pendingBroadcasts > 0, ContinuousClock.now < deadline {
                try? await Task.sleep(for: configuration.settings.gossipInterval)
                await handle(.tick)
            }
        }
        stopRequested = true
        alarm.ring()
    }

    // MARK: Running

    /// Binds the transport and runs the protocol until `leave()` completes or
    /// the task is cancelled.
    public func run() async throws {
        let (jobs, jobsContinuation) = AsyncStream<OutboundJob>.makeStream()
        outboundJobs = jobsContinuation
        defer {
            jobsContinuation.finish()
            for s in subscribers.values { s.finish() }
            subscribers.removeAll()
        }
        do {
            try await transport.run(receiver: self) {
                await self.markBound()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { await self.runOutboundJobs(jobs) }
                    group.addTask { try await self.runTimers() }
                    // The timer loop returns once leave() completes.
                    _ = try await group.next()
                    group.cancelAll()
                }
            }
        } catch let failure as TransportBindError {
            let error = StartError.bindFailed(failure.what, "\(failure.underlying)")
            readyContinuation?.resume(throwing: error)
            readyContinuation = nil
            throw error
        }
        logger.info("gossip stopped")
    }

    private func markBound() {
        isBound = true
        readyContinuation?.resume()
        readyContinuation = nil
        logger.info(
            "gossip listening",
            metadata: [
                "bind": "\(configuration.bindAddress)", "advertise": "\(advertisedEndpoint)",
                "profile": "\(configuration.settings.profileName)", "seeds": "\(configuration.seeds)",
            ])
    }
}
