import Synchronization

/// A network of `InMemoryTransport`s for tests: nodes registered by endpoint
/// exchange datagrams and streams without sockets, as memberlist's
/// `MockNetwork` does. It can record every datagram sent and deliver any
/// bytes as if a member had sent them, so that tests can replay, forge and
/// drop what members send.
final class InMemoryNetwork: Sendable {
    struct Datagram: Sendable, Hashable {
        var bytes: [UInt8]
        var from: SWIM.Endpoint
        var to: SWIM.Endpoint
    }

    enum Arrival: Sendable {
        case datagram([UInt8], from: SWIM.Endpoint)
        case connection(InMemoryConnection)
    }

    struct Unreachable: Error, CustomStringConvertible {
        var endpoint: SWIM.Endpoint
        var description: String { "nothing listens at \(endpoint) (connection refused)" }
    }

    struct AddressInUse: Error, CustomStringConvertible {
        var endpoint: SWIM.Endpoint
        var description: String { "\(endpoint) is already in use" }
    }

    private struct State {
        var inboxes: [SWIM.Endpoint: AsyncStream<Arrival>.Continuation] = [:]
        var recorded: [Datagram] = []
        /// Datagrams to these endpoints are dropped (a partition, a firewall).
        var blocked: Set<SWIM.Endpoint> = []
    }

    private let state = Mutex(State())

    init() {}

    /// A transport bound to `endpoint` once its node runs.
    func transport(at endpoint: SWIM.Endpoint) -> InMemoryTransport {
        InMemoryTransport(endpoint: endpoint, network: self)
    }

    /// Every datagram delivered so far, in order.
    var datagrams: [Datagram] { state.withLock { $0.recorded } }

    /// Drops (or stops dropping) every datagram to `endpoint`.
    func block(_ endpoint: SWIM.Endpoint, _ blocked: Bool = true) {
        state.withLock { if blocked { $0.blocked.insert(endpoint) } else { $0.blocked.remove(endpoint) } }
    }

    /// Delivers `bytes` to `to` as a datagram from `from`: what a send does,
    /// and what a test does to replay or forge one. False if nothing is
    /// bound there, or datagrams to it are blocked.
    @discardableResult
    func deliver(_ bytes: [UInt8], from: SWIM.Endpoint, to: SWIM.Endpoint) -> Bool {
        let inbox = state.withLock { state -> AsyncStream<Arrival>.Continuation? in
            guard let inbox = state.inboxes[to], !state.blocked.contains(to) else { return nil }
            state.recorded.append(Datagram(bytes: bytes, from: from, to: to))
            return inbox
        }
        inbox?.yield(.datagram(bytes, from: from))
        return inbox != nil
    }

    /// A connection from `from` to the transport at `to`; its other end is
    /// delivered there.
    func connect(from: SWIM.Endpoint, to: SWIM.Endpoint) throws -> InMemoryConnection {
        guard let inbox = state.withLock({ $0.inboxes[to] }) else { throw Unreachable(endpoint: to) }
        let (client, server) = InMemoryConnection.pair(client: from, server: to)
        inbox.yield(.connection(server))
        return client
    }

    func register(_ endpoint: SWIM.Endpoint, _ inbox: AsyncStream<Arrival>.Continuation) throws {
        try state.withLock { state in
            guard state.inboxes[endpoint] == nil else { throw AddressInUse(endpoint: endpoint) }
            state.inboxes[endpoint] = inbox
        }
    }

    func unregister(_ endpoint: SWIM.Endpoint) {
        let inbox = state.withLock { $0.inboxes.removeValue(forKey: endpoint) }
        inbox?.finish()
    }
}
