import Logging
import NIOCore
import NIOPosix
import Synchronization

/// The gossip transport on real sockets: one UDP socket for datagrams
/// (`DatagramSocket`: bound here, read by NIO through a duplicate, written
/// with sendto(2)), one TCP listener for inbound streams, and TCP connections
/// for outbound ones. Stream frames are limited to one sealed chunk
/// (`StreamChunk.maximumFrameSize`) by `FrameDecoder`.
final class NIOTransport: GossipTransport {
    let bindAddress: SWIM.Endpoint
    private let logger: Logger
    private let group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    /// Where datagrams go out, while the socket is open. Sends and the close
    /// that ends a socket both hold this lock, so a send never finds a
    /// descriptor number that was closed and reused meanwhile.
    private let socket = Mutex<DatagramSocket?>(nil)

    init(bindAddress: SWIM.Endpoint, logger: Logger) {
        self.bindAddress = bindAddress
        self.logger = logger
    }

    /// The bind address if it is specific, else the first non-loopback IPv4
    /// address of this host.
    func defaultAdvertiseAddress() throws -> SWIM.Endpoint {
        let bind = bindAddress
        if bind.host != "0.0.0.0" && bind.host != "::" {
            guard let ip = SeedResolver.resolveHost(bind.host).first else { throw GossipNode.StartError.invalidAddress(bind.host) }
            return SWIM.Endpoint(host: ip, port: bind.port)
        }
        let devices = (try? System.enumerateDevices()) ?? []
        for device in devices {
            guard let address = device.address, case .v4 = address, let ip = address.ipAddress, !ip.hasPrefix("127.") else {
                continue
            }
            return SWIM.Endpoint(host: ip, port: bind.port)
        }
        throw GossipNode.StartError.noAdvertiseAddress("no non-loopback IPv4 interface")
    }

    func run(receiver: any TransportReceiver, _ body: @escaping @Sendable () async throws -> Void) async throws {
        let udp: DatagramChannel
        let tcp: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>
        do { udp = try await bindDatagrams() } catch {
            throw TransportBindError(what: "UDP \(bindAddress)", underlying: error)
        }
        // Sends may start before `serveDatagrams` runs.
        socket.withLock { $0 = udp.socket }
        do {
            tcp = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: bindAddress.host, port: Int(bindAddress.port)) { channel in
                    channel.eventLoop.makeCompletedFuture { try Self.configureStream(channel) }
                }
        } catch {
            // An `NIOAsyncChannel` must be closed through `executeThenClose`:
            // its writer traps when it is dropped unfinished.
            try? await udp.channel.executeThenClose { _, _ in }
            close(udp.socket)
            throw TransportBindError(what: "TCP \(bindAddress)", underlying: error)
        }
        try await tcp.executeThenClose { connections in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await self.serveDatagrams(first: udp, to: receiver) }
                group.addTask { try await self.acceptConnections(connections, to: receiver) }
                group.addTask { try await body() }
                // `body` returns once the node stops; the others run until cancelled.
                _ = try await group.next()
                group.cancelAll()
            }
        }
    }

    func send(_ datagram: [UInt8], to endpoint: SWIM.Endpoint) -> DatagramLost? {
        guard let address = try? SocketAddress(ipAddress: endpoint.host, port: Int(endpoint.port)) else {
            return DatagramLost(code: nil, reason: "not an IP endpoint")
        }
        return socket.withLock { socket -> DatagramLost? in
            guard let socket else { return DatagramLost(code: nil, reason: "the socket is closed") }
            return socket.send(datagram, to: address).map { DatagramLost(code: $0, reason: "sendto refused") }
        }
    }

    func connect(to endpoint: SWIM.Endpoint, timeout: Duration) async throws -> any GossipConnection {
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(.milliseconds(Int64(timeout.nanoseconds / 1_000_000)))
            .connect(host: endpoint.host, port: Int(endpoint.port)) { channel in
                channel.eventLoop.makeCompletedFuture { try Self.configureStream(channel) }
            }
        return NIOConnection(channel: channel, remote: endpoint)
    }

    /// Frames of at most one sealed chunk, and at most four of them waiting
    /// for the task that opens them: what an unauthenticated connection can
    /// make the node buffer is a few small frames.
    private static func configureStream(_ channel: any Channel) throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder(maximum: StreamChunk.maximumFrameSize)))
        try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(FrameEncoder()))
        return try NIOAsyncChannel(
            wrappingChannelSynchronously: channel,
            configuration: .init(backPressureStrategy: .init(lowWatermark: 2, highWatermark: 4)))
    }

    private func acceptConnections(
        _ connections: NIOAsyncChannelInboundStream<NIOAsyncChannel<ByteBuffer, ByteBuffer>>, to receiver: any TransportReceiver
    ) async throws {
        try await withThrowingDiscardingTaskGroup { group in
            for try await channel in connections {
                let peer = channel.channel.remoteAddress
                let remote = SWIM.Endpoint(host: peer?.ipAddress ?? "?", port: UInt16(clamping: peer?.port ?? 0))
                group.addTask {
                    let connection = NIOConnection(channel: channel, remote: remote)
                    await receiver.accept(connection)
                    await connection.close()
                }
            }
        }
    }

    // MARK: Datagrams

    /// The bound UDP socket: NIO reads it, `DatagramSocket` writes it.
    private struct DatagramChannel: Sendable {
        let channel: NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>
        let socket: DatagramSocket
    }

    /// Closes `socket`, and forgets it if it is the one sends use.
    private func close(_ socket: DatagramSocket) {
        self.socket.withLock { current in
            if current === socket { current = nil }
            socket.close()
        }
    }

    private func bindDatagrams() async throws -> DatagramChannel {
        let address = try SocketAddress.makeAddressResolvingHost(bindAddress.host, port: Int(bindAddress.port))
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
    private func serveDatagrams(first: DatagramChannel, to receiver: any TransportReceiver) async throws {
        var next: DatagramChannel? = first
        while !Task.isCancelled {
            do {
                let udp: DatagramChannel
                if let pending = next { udp = pending } else { udp = try await bindDatagrams() }
                next = nil
                socket.withLock { $0 = udp.socket }
                // Free the port for the next socket as soon as this one is done.
                defer { close(udp.socket) }
                try await udp.channel.executeThenClose { inbound, _ in
                    for try await datagram in inbound {
                        var buffer = datagram.data
                        let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
                        let source = datagram.remoteAddress
                        await receiver.receive(
                            bytes, from: SWIM.Endpoint(host: source.ipAddress ?? "?", port: UInt16(clamping: source.port ?? 0)))
                    }
                }
            } catch {
                if Task.isCancelled { break }
                logger.debug("gossip socket error", metadata: ["error": "\(error)"])
            }
            if Task.isCancelled { break }
            await receiver.datagramSocketReopened()
            logger.warning("the gossip UDP socket was closed by an error; reopening it")
            try await Task.sleep(for: .milliseconds(50))
        }
        // Cancelled before the first pass (the loop is the only other way out
        // while `next` is set): the unused channel still has to close through
        // `executeThenClose`, or its writer traps.
        if let unused = next {
            try? await unused.channel.executeThenClose { _, _ in }
            close(unused.socket)
        }
    }
}

/// One TCP connection of the gossip port, inbound or outbound. Its channel
/// is closed exactly once, by `withFrames` or by `close` (an `NIOAsyncChannel`
/// must be closed through `executeThenClose`: its writer traps when it is
/// dropped unfinished), so the transport may call `close` after any use.
final class NIOConnection: GossipConnection {
    let remote: SWIM.Endpoint
    private let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
    private let used = Atomic<Bool>(false)

    init(channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>, remote: SWIM.Endpoint) {
        self.channel = channel
        self.remote = remote
    }

    func withFrames<T: Sendable>(_ body: (inout any FrameStream) async throws -> T) async throws -> T {
        guard !used.exchange(true, ordering: .acquiringAndReleasing) else { throw ConnectionAlreadyUsed() }
        return try await channel.executeThenClose { inbound, outbound in
            var frames: any FrameStream = Frames(inbound: inbound.makeAsyncIterator(), outbound: outbound)
            return try await body(&frames)
        }
    }

    func close() async {
        guard !used.exchange(true, ordering: .acquiringAndReleasing) else { return }
        try? await channel.executeThenClose { _, _ in }
    }

    private struct Frames: FrameStream {
        var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
        let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>

        mutating func receive() async throws -> [UInt8]? {
            guard var frame = try await inbound.next() else { return nil }
            return frame.readBytes(length: frame.readableBytes) ?? []
        }

        mutating func send(_ frames: [[UInt8]]) async throws {
            try await outbound.write(contentsOf: frames.map { ByteBuffer(bytes: $0) })
        }
    }
}
