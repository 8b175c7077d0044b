import Foundation
import Logging
import Metrics
import NIOCore
import NIOPosix
import Synchronization

/// The network shell around `SWIM.Instance`: UDP for probes and gossip, TCP
/// for joins, push/pull and payload transfer, every datagram and frame
/// sealed with the cluster keyring. It interprets the instance's directives
/// and feeds it what the network delivers, the way
/// apple/swift-cluster-membership pairs `SWIM.Instance` with its NIO shell.
///
/// The instance is only touched inside this actor, so its state needs no
/// locks; network I/O happens in child tasks of `run()`.
public actor GossipNode {
    nonisolated public let configuration: GossipConfiguration
    private let logger: Logger
    private let envelope: Envelope
    private let metrics: GossipMetrics
    private var instance: SWIM.Instance
    private var keyring: Keyring
    private var replayGuard: ReplayGuard
    private let origin = ContinuousClock.now
    private let group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    /// The advertised endpoint, fixed once `run()` has bound its sockets.
    nonisolated public let advertisedEndpoint: SWIM.Endpoint

    /// Where datagrams go out (see `DatagramSocket`), while the socket is open.
    private var datagramSocket: DatagramSocket?
    private var outboundJobs: AsyncStream<OutboundJob>.Continuation?
    private var subscribers: [UInt64: AsyncStream<SWIM.MembershipEvent>.Continuation] = [:]
    private var nextSubscriberID: UInt64 = 0
    private var nextStreamID: UInt64 = 0
    private var addressCache: [SWIM.Endpoint: SocketAddress] = [:]
    private var stopRequested = false
    private var leaveWaiters: [CheckedContinuation<Void, Never>] = []
    public private(set) var statistics = GossipStatistics()
    private var readyContinuation: CheckedContinuation<Void, any Error>?
    private var isBound = false

    public init(configuration: GossipConfiguration, logger: Logger = Logger(label: "gossip")) throws {
        self.configuration = configuration
        self.logger = logger
        self.envelope = Envelope(label: configuration.label)
        self.keyring = configuration.keyring
        self.replayGuard = ReplayGuard(windowMilliseconds: configuration.replayWindowMilliseconds)
        self.metrics = GossipMetrics()
        let advertised = try configuration.advertiseAddress ?? Self.deriveAdvertiseAddress(from: configuration.bindAddress)
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
        /// Binding the gossip socket failed (`what`: protocol and address).
        case bindFailed(String, String)

        public var description: String {
            switch self {
            case .noAdvertiseAddress(let why): "cannot derive an advertise address: \(why); set --advertise-addr"
            case .invalidAddress(let a): "\(a) is not an IP address; use an IP literal or a name that resolves"
            case .bindFailed(let what, let why): "cannot bind the gossip socket (\(what)): \(why)"
            }
        }
    }

    /// The bind address if it is specific, else the first non-loopback IPv4
    /// address of this host.
    static func deriveAdvertiseAddress(from bind: SWIM.Endpoint) throws -> SWIM.Endpoint {
        if bind.host != "0.0.0.0" && bind.host != "::" {
            guard let ip = SeedResolver.resolveHost(bind.host).first else { throw StartError.invalidAddress(bind.host) }
            return SWIM.Endpoint(host: ip, port: bind.port)
        }
        let devices = (try? System.enumerateDevices()) ?? []
        for device in devices {
            guard let address = device.address, case .v4 = address, let ip = address.ipAddress,
                !ip.hasPrefix("127.")
            else { continue }
            return SWIM.Endpoint(host: ip, port: bind.port)
        }
        throw StartError.noAdvertiseAddress("no non-loopback IPv4 interface")
    }

    private var now: SWIM.Instant {
        let elapsed = ContinuousClock.now - origin
        return SWIM.Instant(nanoseconds: UInt64(max(0, elapsed.nanoseconds)))
    }

    private static var wallClockMilliseconds: UInt64 { UInt64(Date().timeIntervalSince1970 * 1000) }

    // MARK: Public view

    /// All members including this one, sorted by name.
    public var members: [SWIM.Member] { instance.allMembers }

    public var myself: SWIM.Member { instance.myself }

    public func payload(of name: String) -> SWIM.Payload? { instance.payload(of: name) }

    public var localHealthScore: Int { instance.localHealthScore }

    public var keys: [ClusterKey] { keyring.keys }

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

    /// Waits until the sockets are bound (or binding failed).
    public func waitUntilBound() async throws {
        if isBound { return }
        try await withCheckedThrowingContinuation { readyContinuation = $0 }
    }

    // MARK: Application input

    /// Publishes this node's payload; `delta` turns the previous generation into this one.
    public func publish(_ payload: SWIM.Payload, delta: [UInt8]?) async {
        await handle(.localPayload(payload, delta: delta))
    }

    public func updateMetadata(_ metadata: SWIM.Metadata) async {
        await handle(.localMetadata(metadata))
    }

    /// Keyring rotation: install, use (make primary), remove.
    public func installKey(_ key: ClusterKey) { keyring.install(key) }
    public func useKey(_ key: ClusterKey) throws { try keyring.use(key) }
    public func removeKey(_ key: ClusterKey) throws { try keyring.remove(key) }

    /// Replaces the whole keyring at once (a reload of the key files).
    public func replaceKeyring(_ keys: Keyring) {
        if keys != keyring {
            logger.notice("keyring changed", metadata: ["primary": "\(keys.primary.id)", "keys": "\(keys.keys.map(\.id))"])
        }
        keyring = keys
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
    }

    // MARK: Running

    /// Binds the sockets and runs the protocol until `leave()` completes or
    /// the task is cancelled.
    public func run() async throws {
        let bind = configuration.bindAddress
        let udp: DatagramChannel
        let tcp: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>
        do {
            udp = try await bindDatagrams()
        } catch {
            throw failedToBind(error, protocol: "UDP")
        }
        // Sends may start before `serveDatagrams` runs.
        datagramSocket = udp.socket
        do {
            let maximum = WireCodec.maximumStreamMessageSize + Envelope.overhead
            tcp = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: bind.host, port: Int(bind.port)) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try Self.configureStream(channel, maximum: maximum)
                    }
                }
        } catch {
            // An `NIOAsyncChannel` must be closed through `executeThenClose`:
            // its writer traps when it is dropped unfinished.
            try? await udp.channel.executeThenClose { _, _ in }
            udp.socket.close()
            datagramSocket = nil
            throw failedToBind(error, protocol: "TCP")
        }
        let (jobs, jobsContinuation) = AsyncStream<OutboundJob>.makeStream()
        outboundJobs = jobsContinuation
        logger.info(
            "gossip listening",
            metadata: [
                "bind": "\(bind)", "advertise": "\(advertisedEndpoint)", "profile": "\(configuration.settings.profileName)",
                "seeds": "\(configuration.seeds)",
            ])
        defer {
            jobsContinuation.finish()
            for s in subscribers.values { s.finish() }
            subscribers.removeAll()
        }
        try await tcp.executeThenClose { connections in
            self.markBound()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await self.serveDatagrams(first: udp) }
                group.addTask { try await self.acceptStreams(connections) }
                group.addTask { await self.runOutboundJobs(jobs) }
                group.addTask { try await self.runTimers() }
                // The timer loop returns once leave() completes.
                _ = try await group.next()
                group.cancelAll()
            }
        }
        logger.info("gossip stopped")
    }

    /// The bound UDP socket: NIO reads it, `DatagramSocket` writes it.
    private struct DatagramChannel: Sendable {
        let channel: NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>
        let socket: DatagramSocket
    }

    private func bindDatagrams() async throws -> DatagramChannel {
        let bind = configuration.bindAddress
        let address = try SocketAddress.makeAddressResolvingHost(bind.host, port: Int(bind.port))
        let socket = try DatagramSocket(binding: address)
        // DatagramBootstrap's async `withBoundSocket(_:channelInitializer:)`
        // failed here with "operation unsupported" (swift-nio 2.101, measured
        // on this code path); the future-based one works, so the initializer
        // hands the channel and its async wrapper out through a box.
        typealias Wrapper = NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>
        let made = Mutex<(channel: (any Channel)?, wrapper: Wrapper?)>((nil, nil))
        let bootstrap = DatagramBootstrap(group: group).channelInitializer { channel in
            made.withLock { $0.channel = channel }
            return channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(DatagramErrorAbsorber())
                let wrapper = try Wrapper(wrappingChannelSynchronously: channel)
                made.withLock { $0.wrapper = wrapper }
            }
        }
        do {
            _ = try await bootstrap.withBoundSocket(try socket.duplicateForReading()).get()
        } catch {
            // The future-based bootstrap leaves a half-made channel open. A
            // wrapper must be closed through `executeThenClose` (its writer
            // traps when dropped unfinished); a bare channel by `close`.
            let (channel, wrapper) = made.withLock { ($0.channel, $0.wrapper) }
            if let wrapper {
                try? await wrapper.executeThenClose { _, _ in }
            } else {
                try? await channel?.close()
            }
            socket.close()
            throw error
        }
        guard let wrapper = made.withLock({ $0.wrapper }) else {
            throw IOError(errnoCode: EINVAL, reason: "the gossip datagram channel was not initialised")
        }
        return DatagramChannel(channel: wrapper, socket: socket)
    }

    /// Receives datagrams until cancelled, reopening the socket if an error
    /// closes it. Sends no longer can (they bypass NIO, see `DatagramSocket`);
    /// a read error that NIO treats as fatal still could, and the node must
    /// survive it: SWIM treats the packets lost meanwhile as loss.
    private func serveDatagrams(first: DatagramChannel) async throws {
        var next: DatagramChannel? = first
        while !Task.isCancelled, !stopRequested {
            do {
                let udp: DatagramChannel
                if let pending = next { udp = pending } else { udp = try await bindDatagrams() }
                next = nil
                // Free the port for the next socket as soon as this one is done.
                defer { udp.socket.close() }
                try await udp.channel.executeThenClose { inbound, _ in
                    self.datagramSocket = udp.socket
                    defer { self.datagramSocket = nil }
                    try await self.receiveDatagrams(inbound)
                }
            } catch {
                if Task.isCancelled || stopRequested { break }
                logger.debug("gossip socket error", metadata: ["error": "\(error)"])
            }
            if Task.isCancelled || stopRequested { break }
            statistics.socketReopens += 1
            logger.warning("the gossip UDP socket was closed by an error; reopening it")
            try await Task.sleep(for: .milliseconds(50))
        }
        // Stopped before the first pass (the loop is the only other way out
        // while `next` is set): the unused channel still has to close
        // through `executeThenClose`, or its writer traps.
        if let unused = next {
            try? await unused.channel.executeThenClose { _, _ in }
            unused.socket.close()
            if datagramSocket === unused.socket { datagramSocket = nil }
        }
    }

    /// Reports a bind failure to `waitUntilBound()` and returns the error to throw.
    private func failedToBind(_ error: any Error, protocol name: String) -> any Error {
        let failure = StartError.bindFailed("\(name) \(configuration.bindAddress)", "\(error)")
        readyContinuation?.resume(throwing: failure)
        readyContinuation = nil
        return failure
    }

    private func markBound() {
        isBound = true
        readyContinuation?.resume()
        readyContinuation = nil
    }

    nonisolated private static func configureStream(
        _ channel: any Channel, maximum: Int
    ) throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder(maximum: maximum)))
        try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(FrameEncoder()))
        return try NIOAsyncChannel(wrappingChannelSynchronously: channel)
    }

    private func runTimers() async throws {
        while !stopRequested {
            await handle(.tick)
            let wait = instance.nextDeadline - now
            // Sleep until the next deadline, but wake at least every 25 ms so
            // that deadlines moved earlier by new events are not missed by much.
            let nap = min(max(wait, .milliseconds(1)), .milliseconds(25))
            try await Task.sleep(for: nap)
        }
    }

    // MARK: Directives

    private func handle(_ event: SWIM.Event) async {
        let directives = instance.handle(event, at: now)
        await perform(directives)
    }

    private func perform(_ directives: [SWIM.Directive]) async {
        for directive in directives {
            switch directive {
            case .sendPacket(let packet, let endpoint):
                await sendDatagram(WireCodec.encode(packet), to: endpoint)
            case .openStream(let message, let endpoint):
                outboundJobs?.yield(.exchange(message, endpoint))
            case .replyStream:
                break  // answered by `answer(_:from:)`, which picks these out
            case .resolveSeeds:
                outboundJobs?.yield(.resolveSeeds)
            case .notify(let event):
                observe(event)
            }
        }
    }

    /// Work that may block or wait on the network, done in child tasks so
    /// the actor stays responsive: stream exchanges and DNS lookups.
    private enum OutboundJob: Sendable {
        case exchange(SWIM.StreamMessage, SWIM.Endpoint)
        case resolveSeeds
    }

    private func observe(_ event: SWIM.MembershipEvent) {
        switch event {
        case .memberChanged(let state, let previous):
            logger.info(
                "member \(state.status)",
                metadata: [
                    "member": "\(state.name)", "address": "\(state.endpoint)", "incarnation": "\(state.incarnation)",
                    "previous": "\(previous.map(\.description) ?? "unknown")",
                ])
        case .memberRemoved(let name):
            logger.debug("member reaped", metadata: ["member": "\(name)"])
        case .nameConflict(let name, let endpoint):
            logger.warning("name conflict refused", metadata: ["member": "\(name)", "address": "\(endpoint)"])
        case .refuted(let incarnation):
            logger.notice("refuted a suspicion about this node", metadata: ["incarnation": "\(incarnation)"])
        case .payloadChanged:
            break
        }
        metrics.update(members: instance.allMembers, health: instance.localHealthScore)
        for s in subscribers.values { s.yield(event) }
    }

    private func socketAddress(_ endpoint: SWIM.Endpoint) -> SocketAddress? {
        if let cached = addressCache[endpoint] { return cached }
        guard let address = try? SocketAddress(ipAddress: endpoint.host, port: Int(endpoint.port)) else {
            logger.debug("cannot send to a non-IP endpoint", metadata: ["endpoint": "\(endpoint)"])
            return nil
        }
        if addressCache.count > 4096 { addressCache.removeAll() }
        addressCache[endpoint] = address
        return address
    }

    private func sendDatagram(_ body: [UInt8], to endpoint: SWIM.Endpoint) async {
        guard let datagramSocket, let address = socketAddress(endpoint) else { return }
        let sealed = envelope.seal(body, with: keyring, timestamp: Self.wallClockMilliseconds)
        if let error = datagramSocket.send(sealed, to: address) {
            // One peer's problem (a firewall rule, no route) or a full send
            // buffer: the datagram is lost, as UDP may lose it anyway.
            statistics.sendFailures += 1
            metrics.sendFailed()
            logger.trace("gossip datagram not sent", metadata: ["to": "\(endpoint)", "errno": "\(error)"])
            return
        }
        statistics.packetsSent += 1
        statistics.bytesSent += sealed.count
        metrics.sent(bytes: sealed.count)
    }

    // MARK: Inbound

    private func receiveDatagrams(
        _ inbound: NIOAsyncChannelInboundStream<AddressedEnvelope<ByteBuffer>>
    ) async throws {
        for try await datagram in inbound {
            var buffer = datagram.data
            let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
            await receiveDatagram(bytes, from: datagram.remoteAddress)
        }
    }

    private func receiveDatagram(_ bytes: [UInt8], from source: SocketAddress) async {
        statistics.packetsReceived += 1
        statistics.bytesReceived += bytes.count
        metrics.received(bytes: bytes.count)
        guard let body = unseal(bytes, from: "\(source)") else { return }
        let packet: SWIM.Packet
        do { packet = try WireCodec.decodePacket(body) } catch {
            reject(.malformed, from: "\(source)", error)
            return
        }
        let endpoint = SWIM.Endpoint(host: source.ipAddress ?? "?", port: UInt16(source.port ?? 0))
        await handle(.packet(packet, from: endpoint))
    }

    private enum Rejection: String { case unauthenticated, replayed, malformed }

    private func reject(_ reason: Rejection, from source: String, _ error: any Error) {
        switch reason {
        case .unauthenticated: statistics.rejectedUnauthenticated += 1
        case .replayed: statistics.rejectedReplayed += 1
        case .malformed: statistics.rejectedMalformed += 1
        }
        metrics.rejected(reason.rawValue)
        logger.debug("rejected message", metadata: ["from": "\(source)", "reason": "\(reason.rawValue)", "error": "\(error)"])
    }

    /// Opens a sealed message and checks it is fresh; nil (and counted) if not.
    private func unseal(_ bytes: [UInt8], from source: String) -> [UInt8]? {
        let opened: Envelope.Opened
        do { opened = try envelope.open(bytes, with: keyring) } catch {
            reject(.unauthenticated, from: source, error)
            return nil
        }
        switch replayGuard.check(timestamp: opened.timestamp, nonce: opened.nonce, now: Self.wallClockMilliseconds) {
        case .fresh: return opened.body
        case .stale:
            reject(.replayed, from: source, ReplayError(reason: "timestamp outside the clock window"))
        case .replayed:
            reject(.replayed, from: source, ReplayError(reason: "nonce seen before"))
        }
        return nil
    }

    struct ReplayError: Error, CustomStringConvertible {
        var reason: String
        var description: String { reason }
    }

    private func acceptStreams(_ connections: NIOAsyncChannelInboundStream<NIOAsyncChannel<ByteBuffer, ByteBuffer>>) async throws {
        try await withThrowingDiscardingTaskGroup { group in
            for try await connection in connections {
                group.addTask { await self.serve(connection) }
            }
        }
    }

    /// One inbound stream: one sealed request frame, one sealed answer frame.
    private nonisolated func serve(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        let timeout = configuration.streamTimeout
        let peer = connection.channel.remoteAddress
        do {
            try await withDeadline(timeout) {
                try await connection.executeThenClose { inbound, outbound in
                    var frames = inbound.makeAsyncIterator()
                    guard var frame = try await frames.next() else { return }
                    let bytes = frame.readBytes(length: frame.readableBytes) ?? []
                    guard let answer = await self.answer(bytes, from: peer) else { return }
                    try await outbound.write(ByteBuffer(bytes: answer))
                }
            }
        } catch {
            await self.streamError(error, peer: "\(peer.map { "\($0)" } ?? "?")")
        }
    }

    private func streamError(_ error: any Error, peer: String) {
        statistics.streamsFailed += 1
        logger.debug("stream failed", metadata: ["peer": "\(peer)", "error": "\(error)"])
    }

    /// Opens and decodes a request, lets the instance answer it, and seals the answer.
    private func answer(_ sealed: [UInt8], from peer: SocketAddress?) async -> [UInt8]? {
        statistics.streamsAccepted += 1
        statistics.bytesReceived += sealed.count
        let source = SWIM.Endpoint(host: peer?.ipAddress ?? "?", port: UInt16(peer?.port ?? 0))
        guard let body = unseal(sealed, from: "\(source)") else { return nil }
        let message: SWIM.StreamMessage
        do { message = try WireCodec.decodeStreamMessage(body) } catch {
            reject(.malformed, from: "\(source)", error)
            return nil
        }
        nextStreamID += 1
        let id = nextStreamID
        let directives = instance.handle(.streamRequest(id: id, message, from: source), at: now)
        var reply: SWIM.StreamMessage?
        for case .replyStream(let replyID, let message) in directives where replyID == id { reply = message }
        await perform(directives)
        guard let reply else { return nil }
        let encoded = envelope.seal(WireCodec.encode(reply), with: keyring, timestamp: Self.wallClockMilliseconds)
        statistics.bytesSent += encoded.count
        return encoded
    }

    // MARK: Outbound streams

    private func runOutboundJobs(_ jobs: AsyncStream<OutboundJob>) async {
        await withDiscardingTaskGroup { group in
            for await job in jobs {
                switch job {
                case .exchange(let message, let endpoint):
                    group.addTask { await self.exchange(message, with: endpoint) }
                case .resolveSeeds:
                    group.addTask { await self.resolveSeeds() }
                }
            }
        }
    }

    private nonisolated func resolveSeeds() async {
        let seeds = configuration.seeds
        let (endpoints, failures) = await Task.detached {
            SeedResolver.resolve(seeds, defaultPort: GossipConfiguration.defaultPort)
        }.value
        if !failures.isEmpty {
            logger.warning("some seeds did not resolve", metadata: ["seeds": "\(failures)"])
        }
        logger.debug("joining seeds", metadata: ["addresses": "\(endpoints)"])
        await handle(.join(endpoints))
    }

    /// One outbound stream exchange; the answer goes back to the instance.
    private nonisolated func exchange(_ message: SWIM.StreamMessage, with endpoint: SWIM.Endpoint) async {
        let sealed = await sealForStream(message)
        let maximum = WireCodec.maximumStreamMessageSize + Envelope.overhead
        let timeout = configuration.streamTimeout
        do {
            let answer: [UInt8]? = try await withDeadline(timeout) {
                let connection = try await ClientBootstrap(group: self.group)
                    .connectTimeout(.milliseconds(min(2000, Int64(timeout.nanoseconds / 1_000_000))))
                    .connect(host: endpoint.host, port: Int(endpoint.port)) { channel in
                        channel.eventLoop.makeCompletedFuture { try Self.configureStream(channel, maximum: maximum) }
                    }
                return try await connection.executeThenClose { inbound, outbound in
                    try await outbound.write(ByteBuffer(bytes: sealed))
                    var frames = inbound.makeAsyncIterator()
                    guard var frame = try await frames.next() else { return nil }
                    return frame.readBytes(length: frame.readableBytes)
                }
            }
            guard let answer else { throw StreamClosed() }
            await receiveAnswer(answer, to: message, from: endpoint)
        } catch {
            await streamFailed(message, to: endpoint, error)
        }
    }

    struct StreamClosed: Error, CustomStringConvertible {
        var description: String { "the peer closed the stream without answering (wrong key?)" }
    }

    private func sealForStream(_ message: SWIM.StreamMessage) -> [UInt8] {
        statistics.streamsOpened += 1
        let sealed = envelope.seal(WireCodec.encode(message), with: keyring, timestamp: Self.wallClockMilliseconds)
        statistics.bytesSent += sealed.count
        return sealed
    }

    private func receiveAnswer(_ sealed: [UInt8], to request: SWIM.StreamMessage, from endpoint: SWIM.Endpoint) async {
        statistics.bytesReceived += sealed.count
        guard let body = unseal(sealed, from: "\(endpoint)") else {
            await handle(.streamFailed(request, to: endpoint))
            return
        }
        do {
            let message = try WireCodec.decodeStreamMessage(body)
            await handle(.streamReply(message, from: endpoint))
        } catch {
            reject(.malformed, from: "\(endpoint)", error)
            await handle(.streamFailed(request, to: endpoint))
        }
    }

    private func streamFailed(_ message: SWIM.StreamMessage, to endpoint: SWIM.Endpoint, _ error: any Error) async {
        statistics.streamsFailed += 1
        logger.debug("stream to \(endpoint) failed", metadata: ["error": "\(error)"])
        await handle(.streamFailed(message, to: endpoint))
    }
}

/// Runs `operation`, cancelling it and throwing `DeadlineExceeded` after `timeout`.
func withDeadline<T: Sendable>(
    _ timeout: Duration, _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: timeout)
            throw DeadlineExceeded(timeout: timeout)
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

struct DeadlineExceeded: Error, CustomStringConvertible {
    var timeout: Duration
    var description: String { "no answer within \(timeout)" }
}
