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
    private var admission: StreamAdmission
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
        guard SWIM.MemberName.isValid(configuration.name) else {
            throw StartError.invalidName(LogText.escaped(configuration.name))
        }
        do { try WireCodec.validate(metadata: configuration.metadata) } catch {
            throw StartError.invalidMetadata("\(error)")
        }
        self.envelope = Envelope(label: configuration.label)
        self.keyring = configuration.keyring
        // Nothing stamped before this process started is accepted: a restart
        // must not make the messages of its previous life fresh again.
        self.replayGuard = ReplayGuard(
            windowMilliseconds: configuration.replayWindowMilliseconds, notBefore: Self.wallClockMilliseconds)
        self.admission = StreamAdmission(
            maximumInbound: configuration.streamLimits.maximumInbound,
            maximumPerAddress: configuration.streamLimits.maximumPerAddress)
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
        /// The member name breaks `SWIM.MemberName` (escaped for display).
        case invalidName(String)
        case invalidMetadata(String)
        /// Binding the gossip socket failed (`what`: protocol and address).
        case bindFailed(String, String)

        public var description: String {
            switch self {
            case .noAdvertiseAddress(let why): "cannot derive an advertise address: \(why); set --advertise-addr"
            case .invalidAddress(let a): "\(a) is not an IP address; use an IP literal or a name that resolves"
            case .invalidName(let name): "\"\(name)\" is not a valid member name: \(SWIM.MemberName.rule)"
            case .invalidMetadata(let why): "member metadata cannot be gossiped: \(why)"
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

    /// Milliseconds since the Unix epoch (0 for a clock set before it).
    private static var wallClockMilliseconds: UInt64 { UInt64(max(0, Date().timeIntervalSince1970 * 1000)) }

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

    /// Changes this member's metadata; refused (and nothing changes) unless
    /// every member can decode it (`WireCodec.validate(metadata:)`).
    public func updateMetadata(_ metadata: SWIM.Metadata) async throws(WireError) {
        try WireCodec.validate(metadata: metadata)
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
            let maximum = StreamChunk.maximumFrameSize
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

    /// Frames of at most `maximum` bytes (one sealed chunk), and at most four
    /// of them waiting for the task that opens them: what an unauthenticated
    /// connection can make the node buffer is a few small frames.
    nonisolated private static func configureStream(
        _ channel: any Channel, maximum: Int
    ) throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder(maximum: maximum)))
        try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(FrameEncoder()))
        return try NIOAsyncChannel(
            wrappingChannelSynchronously: channel,
            configuration: .init(backPressureStrategy: .init(lowWatermark: 2, highWatermark: 4)))
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
        case .implausibleIncarnation(let name, let incarnation):
            reject(.implausible, from: "news about \(name)", ImplausibleIncarnation(incarnation: incarnation))
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

    private enum Rejection: String { case unauthenticated, replayed, malformed, implausible }

    struct ImplausibleIncarnation: Error, CustomStringConvertible {
        var incarnation: SWIM.Incarnation
        var description: String { "incarnation \(incarnation) is beyond the limits (SWIM.Limits)" }
    }

    private func reject(_ reason: Rejection, from source: String, _ error: any Error) {
        switch reason {
        case .unauthenticated: statistics.rejectedUnauthenticated += 1
        case .replayed: statistics.rejectedReplayed += 1
        case .malformed: statistics.rejectedMalformed += 1
        case .implausible: statistics.rejectedImplausible += 1
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
        case .beforeStart:
            reject(.replayed, from: source, ReplayError(reason: "stamped before this node started"))
        case .replayed:
            reject(.replayed, from: source, ReplayError(reason: "nonce seen before"))
        }
        return nil
    }

    struct ReplayError: Error, CustomStringConvertible {
        var reason: String
        var description: String { reason }
    }

    /// Accepts connections, admitting each under the caps of `StreamAdmission`
    /// before anything is read from it; the rest are closed at once.
    private func acceptStreams(_ connections: NIOAsyncChannelInboundStream<NIOAsyncChannel<ByteBuffer, ByteBuffer>>) async throws {
        try await withThrowingDiscardingTaskGroup { group in
            for try await connection in connections {
                let address = connection.channel.remoteAddress?.ipAddress ?? "?"
                guard admission.admit(address) else {
                    statistics.streamsRefused += 1
                    metrics.refusedStream()
                    logger.debug("inbound stream refused: over the cap", metadata: ["from": "\(address)"])
                    group.addTask { try? await connection.executeThenClose { _, _ in } }
                    continue
                }
                statistics.streamsAccepted += 1
                group.addTask {
                    await self.serve(connection)
                    await self.release(address)
                }
            }
        }
    }

    private func release(_ address: String) { admission.release(address) }

    /// One inbound stream: a request in sealed chunks, the answer in sealed
    /// chunks (`StreamChunk`). The first chunk must open within the
    /// first-frame deadline, the whole exchange within the stream timeout.
    private nonisolated func serve(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        let peer = connection.channel.remoteAddress
        let source = SWIM.Endpoint(host: peer?.ipAddress ?? "?", port: UInt16(peer?.port ?? 0))
        let first = configuration.streamLimits.firstFrameTimeout
        do {
            try await withStreamDeadlines(first: first, overall: configuration.streamTimeout) { firstFrame in
                try await connection.executeThenClose { inbound, outbound in
                    var assembler = StreamAssembler(direction: .request)
                    guard let request = try await self.readMessage(inbound, into: &assembler, from: source, firstFrame: firstFrame),
                        let streamID = assembler.streamID,
                        let answer = await self.answer(request, streamID: streamID, from: source)
                    else { return }
                    try await outbound.write(contentsOf: answer.map { ByteBuffer(bytes: $0) })
                }
            }
        } catch {
            await self.streamError(error, peer: "\(source)")
        }
    }

    /// Reads sealed chunks until `assembler` holds a whole message. Nil when
    /// the peer closes first, or (counted as rejected) when a chunk does not
    /// open, is stale or replayed, or does not continue the message.
    private nonisolated func readMessage(
        _ inbound: NIOAsyncChannelInboundStream<ByteBuffer>, into assembler: inout StreamAssembler,
        from source: SWIM.Endpoint, firstFrame: FirstFrame?
    ) async throws -> [UInt8]? {
        for try await frame in inbound {
            var frame = frame
            let sealed = frame.readBytes(length: frame.readableBytes) ?? []
            guard let chunk = await unsealChunk(sealed, from: source) else { return nil }
            firstFrame?.arrived()
            do {
                if let message = try assembler.add(chunk) { return message }
            } catch {
                await rejectMalformed(from: source, error)
                return nil
            }
        }
        return nil
    }

    private func unsealChunk(_ sealed: [UInt8], from source: SWIM.Endpoint) -> [UInt8]? {
        statistics.bytesReceived += sealed.count
        return unseal(sealed, from: "\(source)")
    }

    private func rejectMalformed(from source: SWIM.Endpoint, _ error: any Error) {
        reject(.malformed, from: "\(source)", error)
    }

    private func streamError(_ error: any Error, peer: String) {
        statistics.streamsFailed += 1
        logger.debug("stream failed", metadata: ["peer": "\(peer)", "error": "\(error)"])
    }

    /// Decodes a request, lets the instance answer it, and seals the answer
    /// as chunks of the same exchange.
    private func answer(_ body: [UInt8], streamID: UInt64, from source: SWIM.Endpoint) async -> [[UInt8]]? {
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
        return sealChunks(WireCodec.encode(reply), direction: .answer, streamID: streamID)
    }

    /// `body` as sealed chunk frames; nil (and logged) if it is over the
    /// stream message limit, which no receiver would accept.
    private func sealChunks(_ body: [UInt8], direction: StreamChunk.Direction, streamID: UInt64) -> [[UInt8]]? {
        guard body.count <= WireCodec.maximumStreamMessageSize else {
            logger.warning("stream message over the limit not sent", metadata: ["bytes": "\(body.count)"])
            return nil
        }
        let timestamp = Self.wallClockMilliseconds
        let frames = StreamChunk.split(body, direction: direction, streamID: streamID).map {
            envelope.seal($0, with: keyring, timestamp: timestamp)
        }
        statistics.bytesSent += frames.reduce(0) { $0 + $1.count }
        return frames
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
        // Random, so that the answer is bound to this request (`StreamChunk`).
        let streamID = UInt64.random(in: .min ... .max)
        guard let request = await sealRequest(message, streamID: streamID) else {
            await handle(.streamFailed(message, to: endpoint))
            return
        }
        let maximum = StreamChunk.maximumFrameSize
        let timeout = configuration.streamTimeout
        do {
            let answer: [UInt8]? = try await withDeadline(timeout) {
                let connection = try await ClientBootstrap(group: self.group)
                    .connectTimeout(.milliseconds(min(2000, Int64(timeout.nanoseconds / 1_000_000))))
                    .connect(host: endpoint.host, port: Int(endpoint.port)) { channel in
                        channel.eventLoop.makeCompletedFuture { try Self.configureStream(channel, maximum: maximum) }
                    }
                return try await connection.executeThenClose { inbound, outbound in
                    try await outbound.write(contentsOf: request.map { ByteBuffer(bytes: $0) })
                    var assembler = StreamAssembler(direction: .answer, streamID: streamID)
                    return try await self.readMessage(inbound, into: &assembler, from: endpoint, firstFrame: nil)
                }
            }
            guard let answer else { throw StreamClosed() }
            await receiveAnswer(answer, to: message, from: endpoint)
        } catch {
            await streamFailed(message, to: endpoint, error)
        }
    }

    struct StreamClosed: Error, CustomStringConvertible {
        var description: String { "the peer closed the stream without a valid answer (wrong key?)" }
    }

    private func sealRequest(_ message: SWIM.StreamMessage, streamID: UInt64) -> [[UInt8]]? {
        statistics.streamsOpened += 1
        return sealChunks(WireCodec.encode(message), direction: .request, streamID: streamID)
    }

    private func receiveAnswer(_ body: [UInt8], to request: SWIM.StreamMessage, from endpoint: SWIM.Endpoint) async {
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
