import Synchronization

/// A transport on an `InMemoryNetwork`: datagrams and framed streams between
/// nodes of one test process, with the same contract as `NIOTransport`, so
/// that unit tests run real `GossipNode`s (sealing, replay protection, stream
/// admission and answers, leave, key rotation) without sockets.
struct InMemoryTransport: GossipTransport {
    let endpoint: SWIM.Endpoint
    let network: InMemoryNetwork

    func defaultAdvertiseAddress() throws -> SWIM.Endpoint { endpoint }

    func run(receiver: any TransportReceiver, _ body: @escaping @Sendable () async throws -> Void) async throws {
        let (arrivals, inbox) = AsyncStream<InMemoryNetwork.Arrival>.makeStream()
        do { try network.register(endpoint, inbox) } catch {
            throw TransportBindError(what: "memory \(endpoint)", underlying: error)
        }
        defer { network.unregister(endpoint) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                await withDiscardingTaskGroup { connections in
                    for await arrival in arrivals {
                        switch arrival {
                        case .datagram(let bytes, let source):
                            await receiver.receive(bytes, from: source)
                        case .connection(let connection):
                            connections.addTask {
                                await receiver.accept(connection)
                                await connection.close()
                            }
                        }
                    }
                    connections.cancelAll()
                }
            }
            group.addTask { try await body() }
            // `body` returns once the node stops; the inbox runs until cancelled.
            _ = try await group.next()
            group.cancelAll()
            inbox.finish()
        }
    }

    func send(_ datagram: [UInt8], to destination: SWIM.Endpoint) -> DatagramLost? {
        network.deliver(datagram, from: endpoint, to: destination) ? nil : DatagramLost(code: nil, reason: "unreachable")
    }

    func connect(to destination: SWIM.Endpoint, timeout: Duration) async throws -> any GossipConnection {
        try network.connect(from: endpoint, to: destination)
    }
}

/// One end of an in-memory connection: frames written on one end are read
/// on the other, in order; closing an end ends what the other reads.
final class InMemoryConnection: GossipConnection {
    let remote: SWIM.Endpoint
    private let incoming: AsyncStream<[UInt8]>
    private let outgoing: AsyncStream<[UInt8]>.Continuation
    private let used = Atomic<Bool>(false)

    private init(remote: SWIM.Endpoint, incoming: AsyncStream<[UInt8]>, outgoing: AsyncStream<[UInt8]>.Continuation) {
        self.remote = remote
        self.incoming = incoming
        self.outgoing = outgoing
    }

    deinit { outgoing.finish() }

    /// Two connected ends: the client's (whose remote is the server) and the server's.
    static func pair(client: SWIM.Endpoint, server: SWIM.Endpoint) -> (client: InMemoryConnection, server: InMemoryConnection) {
        let (toServer, intoServer) = AsyncStream<[UInt8]>.makeStream()
        let (toClient, intoClient) = AsyncStream<[UInt8]>.makeStream()
        return (
            InMemoryConnection(remote: server, incoming: toClient, outgoing: intoServer),
            InMemoryConnection(remote: client, incoming: toServer, outgoing: intoClient)
        )
    }

    func withFrames<T: Sendable>(_ body: (inout any FrameStream) async throws -> T) async throws -> T {
        guard !used.exchange(true, ordering: .acquiringAndReleasing) else { throw ConnectionAlreadyUsed() }
        defer { outgoing.finish() }
        var frames: any FrameStream = Frames(incoming: incoming.makeAsyncIterator(), outgoing: outgoing)
        return try await body(&frames)
    }

    func close() async {
        guard !used.exchange(true, ordering: .acquiringAndReleasing) else { return }
        outgoing.finish()
    }

    private struct Frames: FrameStream {
        var incoming: AsyncStream<[UInt8]>.Iterator
        let outgoing: AsyncStream<[UInt8]>.Continuation

        mutating func receive() async throws -> [UInt8]? {
            let frame = await incoming.next()
            try Task.checkCancellation()
            return frame
        }

        mutating func send(_ frames: [[UInt8]]) async throws {
            for frame in frames { outgoing.yield(frame) }
        }
    }
}
